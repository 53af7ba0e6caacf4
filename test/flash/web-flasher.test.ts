// The flasher page end to end in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): the page is built with `tools/web/build.mjs` into dist/web/flash/ and served by
// a real host at /flash. The simulated ESP32 runs here in Node; the page gets a `navigator.serial`
// (an init script) whose port forwards open/write/setSignals/close to a SimSerialPort over
// `page.exposeFunction`, while the chip's bytes are pushed back into the page's ReadableStream with
// `page.evaluate`. Like a real Web Serial port it has no setBaudRate, so esptool-js reopens the port
// at the new rate.
//
// The page flashes a Moddable build picked as files with the form's provisioning; the simulated
// flash then holds the app, partition table and an NVS image with exactly the form's values, the
// reset boots the app, and the micro runtime it started answers RPC with the provisioned part key;
// it also dials in to the host that served the page, and the official SDK reads its BME280 there.
// An app built for another chip is refused with the CLI's words and nothing written; a manifest
// URL works too. Without Chromium the test fails with how to install it (it does not skip).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import type { Host } from "../../host/host.js";
import { flasherRoute, notBuiltText } from "../../host/web/flasher-route.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { flashCommand } from "../../tools/cli/flash.js";
import { md5Hex } from "../../tools/flash/session.js";
import { equalBytes, fromUtf8 } from "../../tools/image/bytes.js";
import { parseNvs } from "../../tools/image/nvs.js";
import { PARTITION_TABLE_OFFSET } from "../../tools/image/partition-table.js";
import { readProvisioning } from "../../tools/image/provisioning.js";
import { Esp32Sim } from "../../tools/sim/esp32/esp32-sim.js";
import { runAppOnBoot, type AppOnBoot } from "../../tools/sim/esp32/run-app.js";
import { SimSerialPort } from "../../tools/sim/esp32/web-serial-port.js";
import { MicroClient } from "../micro/harness.js";
import { startTestHost } from "../support/host.js";
import { WEB_SERIAL_BUFFER_BYTES, flashBoard } from "../../tools/web/flash/flasher.js";
import { failureMessage } from "../../tools/flash/flow.js";
import { buildTestFirmware, writeBuildDir, type TestFirmware } from "./fixtures.js";
import { BME280_CONFIG, dialInRemote, dialInUrl, readThroughHost, wireProvisioned } from "./join-host.js";

const chromiumPath = "/usr/bin/chromium";
/** node.md: what this machine's headless Chromium needs (its closed network refuses background traffic). */
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Everything this test loads is on 127.0.0.1: no name lookups at all.
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];
/** A guard against a hung page, not a timing assertion. */
const pageWaitMs = 60_000;

/** The page side of the bridge: a Web Serial `navigator.serial` whose one port forwards to Node. */
const PAGE_SERIAL = `(() => {
  const toBase64 = (bytes) => {
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(text);
  };
  const fromBase64 = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const call = (message) => window.__simSerial(message);
  let controller;
  let generation = 0;
  class SimulatedSerialPort {
    constructor() {
      this.readable = null;
      this.writable = null;
    }
    getInfo() {
      return { usbVendorId: 0x10c4, usbProductId: 0xea60 };
    }
    async open(options) {
      if (this.readable) throw new DOMException("The port is already open.", "InvalidStateError");
      generation = await call({ op: "open", baudRate: options.baudRate, bufferSize: options.bufferSize });
      this.readable = new ReadableStream({
        start: (c) => { controller = c; },
        cancel: () => { controller = undefined; },
      });
      this.writable = new WritableStream({ write: (chunk) => call({ op: "write", data: toBase64(chunk) }) });
    }
    async close() {
      if (!this.readable) throw new DOMException("The port is already closed.", "InvalidStateError");
      const c = controller;
      controller = undefined;
      try { c && c.close(); } catch {}
      this.readable = null;
      this.writable = null;
      await call({ op: "close" });
    }
    async setSignals(signals) {
      if (!this.readable) throw new DOMException("The port is closed.", "InvalidStateError");
      await call({ op: "signals", dtr: signals.dataTerminalReady, rts: signals.requestToSend });
    }
    async getSignals() {
      return { dataCarrierDetect: false, clearToSend: true, ringIndicator: false, dataSetReady: true };
    }
    async forget() {}
  }
  const port = new SimulatedSerialPort();
  window.__simSerialPush = (gen, b64) => {
    if (gen === generation && controller) controller.enqueue(fromBase64(b64));
  };
  window.__simSerialRequests = 0;
  Object.defineProperty(navigator, "serial", {
    configurable: true,
    value: {
      requestPort: async () => { window.__simSerialRequests++; return port; },
      getPorts: async () => [port],
      addEventListener() {},
      removeEventListener() {},
    },
  });
})();`;

type BridgeMessage =
  | { op: "open"; baudRate: number; bufferSize?: number }
  | { op: "write"; data: string }
  | { op: "signals"; dtr?: boolean; rts?: boolean }
  | { op: "close" };

/** The Node side: the page's port calls land on a SimSerialPort; what the chip sends is pushed back. */
class SerialBridge {
  readonly port: SimSerialPort;
  /** The baud rate and buffer size of every open(). */
  readonly opens: { baudRate: number; bufferSize?: number }[] = [];
  private generation = 0;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private pump: Promise<void> | undefined;

  constructor(
    private readonly page: Page,
    sim: Esp32Sim,
  ) {
    this.port = new SimSerialPort(sim, { inPlaceBaudChange: false });
  }

  async install(): Promise<void> {
    await this.page.exposeFunction("__simSerial", (message: BridgeMessage) => this.handle(message));
    await this.page.addInitScript(PAGE_SERIAL);
  }

  private async handle(message: BridgeMessage): Promise<number | undefined> {
    switch (message.op) {
      case "open": {
        await this.port.open({ baudRate: message.baudRate });
        this.opens.push({ baudRate: message.baudRate, bufferSize: message.bufferSize });
        const generation = ++this.generation;
        this.startPump(generation);
        return generation;
      }
      case "write": {
        const writer = this.port.writable!.getWriter();
        try {
          await writer.write(new Uint8Array(Buffer.from(message.data, "base64")));
        } finally {
          writer.releaseLock();
        }
        return undefined;
      }
      case "signals":
        await this.port.setSignals({ dataTerminalReady: message.dtr, requestToSend: message.rts });
        return undefined;
      case "close":
        await this.reader?.cancel();
        await this.pump;
        await this.port.close();
        return undefined;
    }
  }

  private startPump(generation: number): void {
    const reader = this.port.readable!.getReader();
    this.reader = reader;
    this.pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const b64 = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
        await this.page
          .evaluate(([g, b]) => (globalThis as unknown as { __simSerialPush(g: number, b: string): void }).__simSerialPush(g, b), [generation, b64] as const)
          .catch(() => undefined);
      }
      reader.releaseLock();
    })();
  }
}

const buildFiles = (fw: TestFirmware) => [
  { name: "xs_esp32.bin", mimeType: "application/octet-stream", buffer: Buffer.from(fw.app) },
  { name: "bootloader.bin", mimeType: "application/octet-stream", buffer: Buffer.from(fw.bootloader) },
  { name: "partition-table.bin", mimeType: "application/octet-stream", buffer: Buffer.from(fw.table) },
  // The rest of a Moddable build directory is ignored.
  { name: "xs_esp32.elf", mimeType: "application/octet-stream", buffer: Buffer.from("not flashed") },
];

interface PageOutcome {
  state: string;
  text: string;
  log: string;
  rows: { image: string; state: string; md5: string }[];
  requests: number;
}

async function flashOnPage(page: Page): Promise<PageOutcome> {
  await page.click("#flash");
  await page.waitForSelector('#result[data-state="done"], #result[data-state="error"]', { timeout: pageWaitMs });
  return page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string; dataset: Record<string, string> }; querySelectorAll(s: string): ArrayLike<{ dataset: Record<string, string> }> } }).document;
    const result = doc.querySelector("#result");
    return {
      state: result.dataset.state ?? "",
      text: result.textContent,
      log: doc.querySelector("#log").textContent,
      rows: Array.from(doc.querySelectorAll("#images li")).map((li) => ({ image: li.dataset.image ?? "", state: li.dataset.state ?? "", md5: li.dataset.md5 ?? "" })),
      requests: (globalThis as unknown as { __simSerialRequests: number }).__simSerialRequests,
    };
  });
}

describe("the flasher page in headless Chromium", { timeout: 180_000 }, () => {
  let host: Host | undefined;
  let context: BrowserContext | undefined;
  let flasherUrl = "";
  const tempDirs: string[] = [];
  const sims: Esp32Sim[] = [];
  const appRunners: AppOnBoot[] = [];
  const consoleLines: string[] = [];

  before(async () => {
    if (!existsSync(chromiumPath)) {
      throw new Error(
        `Chromium is not installed at ${chromiumPath}: this test needs Debian's chromium package ` +
          `(apt-get install -y chromium; .ci/run installs it). It does not skip without it.`,
      );
    }
    // The page as `npm run build:web` builds it, into the directory the host serves.
    const buildScript = new URL("../../../tools/web/build.mjs", import.meta.url).href;
    const { buildWebFlasher } = (await import(buildScript)) as { buildWebFlasher(): Promise<{ outDir: string }> };
    await buildWebFlasher();
    // The part the first test flashes dials in to this host as the remote "esp".
    host = await startTestHost({ components: [], remotes: [dialInRemote("part-web-1", "web-key-0123456789abcdef")] });
    flasherUrl = `${host.url.replace(/\/$/, "")}/flash`;
    const userDataDir = await mkdtemp(join(tmpdir(), "sprocket-chromium-"));
    tempDirs.push(userDataDir);
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: chromiumPath, headless: true, args: chromiumArgs });
  });

  after(async () => {
    for (const runner of appRunners) await runner.close();
    for (const sim of sims) sim.close();
    await context?.close();
    await host?.close();
    for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  });

  async function openPage(chip: "esp32" | "esp32s3", query = ""): Promise<{ page: Page; sim: Esp32Sim; bridge: SerialBridge; apps: AppOnBoot }> {
    const sim = new Esp32Sim({ chip });
    sims.push(sim);
    const apps = runAppOnBoot(sim, { wire: wireProvisioned });
    appRunners.push(apps);
    const page = await context!.newPage();
    page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (err) => consoleLines.push(`pageerror: ${err.message}`));
    const bridge = new SerialBridge(page, sim);
    await bridge.install();
    const response = await page.goto(`${flasherUrl}${query}`);
    assert.equal(response?.status(), 200);
    assert.match(page.url(), /\/flash\/(\?|$)/, "/flash redirects to /flash/");
    await page.waitForSelector('#form[data-ready="true"]', { timeout: pageWaitMs });
    return { page, sim, bridge, apps };
  }

  test("flashes a Moddable build with the form's provisioning; the app boots, the part answers with the part key and joins the host", async () => {
    const { page, sim, bridge, apps } = await openPage("esp32");
    const fw = buildTestFirmware("ESP32", { appBytes: 96 * 1024, version: "2.7.1" });
    const config = { components: [...BME280_CONFIG.components, { name: "heap", type: "sensor", model: "free-heap" }] };
    // The host that served the page: the part dials in to it at boot and joins it as the remote
    // "esp"; it must be an address on this machine.
    const hostAddress = dialInUrl(host!);
    const form = {
      "wifi-ssid": "workshop-2g",
      "wifi-password": "correct horse",
      host: hostAddress,
      "part-id": "part-web-1",
      "part-key": "web-key-0123456789abcdef",
    };

    await page.setInputFiles("#files", buildFiles(fw));
    await page.waitForSelector('#firmware-summary[data-state="ok"]', { timeout: pageWaitMs });
    assert.match((await page.textContent("#firmware-summary")) ?? "", /sprocket-micro 2\.7\.1 for ESP32: bootloader\.bin @0x1000, partition-table\.bin @0x8000, xs_esp32\.bin @0x10000/);
    for (const [id, value] of Object.entries(form)) await page.fill(`#${id}`, value);
    await page.fill("#config", JSON.stringify(config, null, 2));
    const started = apps.started();
    const outcome = await flashOnPage(page);
    assert.equal(outcome.state, "done", `${outcome.text}\n${outcome.log}\n${consoleLines.join("\n")}`);
    assert.match(outcome.text, /flashed ESP32-D0WD-V3 \(revision 3\) in [\d.]+ s, verified 4 images, and reset it into the app/);
    assert.equal(outcome.requests, 1, "one requestPort() per click");
    assert.match(outcome.log, /connected: ESP32-D0WD-V3 \(revision 3\), MAC 24:0a:c4:5e:00:01, flash 4\.0 MB, stub at 921600 baud/);
    assert.match(outcome.log, /writing sprocket-micro 2\.7\.1 for ESP32:/);
    assert.match(outcome.log, /reset into the app/);
    // SPROCKET_FLASHER_SCREENSHOT=file.png keeps a picture of the page after flashing.
    if (process.env.SPROCKET_FLASHER_SCREENSHOT) await page.screenshot({ path: process.env.SPROCKET_FLASHER_SCREENSHOT, fullPage: true });

    // The flash holds each image, and every row of the page says it was verified by its MD5.
    const nvsPartition = fw.partitions.find((p) => p.name === "nvs")!;
    const written = new Map([
      ["bootloader.bin", { offset: 0x1000, bytes: fw.bootloader }],
      ["partition-table.bin", { offset: PARTITION_TABLE_OFFSET, bytes: fw.table }],
      ["xs_esp32.bin", { offset: 0x10000, bytes: fw.app }],
    ]);
    for (const [name, { offset, bytes }] of written) {
      assert.ok(equalBytes(sim.flash.subarray(offset, offset + bytes.length), bytes), `${name} at 0x${offset.toString(16)}`);
    }
    const nvsImage = sim.flash.slice(nvsPartition.offset, nvsPartition.offset + nvsPartition.size);
    assert.deepEqual(
      outcome.rows.map((r) => r.image),
      ["bootloader.bin", "partition-table.bin", "NVS (nvs)", "xs_esp32.bin"],
    );
    for (const row of outcome.rows) {
      assert.equal(row.state, "verified", row.image);
      const bytes = row.image === "NVS (nvs)" ? nvsImage : written.get(row.image)!.bytes;
      assert.equal(row.md5, md5Hex(bytes), `${row.image} md5`);
    }

    // The NVS partition holds exactly the form's values.
    const provisioning = readProvisioning(parseNvs(nvsImage).entries);
    const { config: configBlob, ...strings } = provisioning;
    assert.deepEqual(strings, { wifiSsid: "workshop-2g", wifiPassword: "correct horse", host: hostAddress, partId: "part-web-1", partKey: "web-key-0123456789abcdef" });
    assert.deepEqual(JSON.parse(fromUtf8(configBlob!)), config);

    // The page reset the chip into the app itself: RTS pulse with DTR released, after the reopen at 921600.
    assert.deepEqual(bridge.opens, [
      { baudRate: 115200, bufferSize: WEB_SERIAL_BUFFER_BYTES },
      { baudRate: 921600, bufferSize: WEB_SERIAL_BUFFER_BYTES },
    ]);
    assert.deepEqual(bridge.port.signalLog.slice(-2), [
      { dataTerminalReady: false, requestToSend: true },
      { dataTerminalReady: false, requestToSend: false },
    ]);
    assert.equal(sim.lastBoot?.app.appDescription?.version, "2.7.1");

    // The micro runtime booted with that provisioning and serves RPC to the provisioned key only.
    const app = await started;
    assert.deepEqual(app.provisioning, provisioning);
    const client = await MicroClient.tcp(app.address.port, app.address.host);
    try {
      await assert.rejects(client.authenticate("part-web-1", "wrong-key"));
      await client.authenticate("part-web-1", "web-key-0123456789abcdef");
      const names = await client.call(RobotService.method.resourceNames, {});
      assert.deepEqual(names.resources.map((r) => `${r.subtype}/${r.name}`).sort(), ["board/board", "sensor/env", "sensor/heap"]);
      app.world.freeHeap = 88_000;
      const readings = await client.call(SensorService.method.getReadings, { name: "heap" });
      assert.equal(readings.readings.bytes?.kind.value, 88_000);
    } finally {
      client.close();
    }
    // The part joined the host that served the page: the official SDK reads its BME280 there.
    await readThroughHost(host!);
    await apps.close(); // one Node-engine app per process at a time
    await page.close();
  });

  test("an app built for another chip: the CLI's message, and nothing is written", async () => {
    const fw = buildTestFirmware("ESP32-S3", { appBytes: 48 * 1024 });
    // What `sprocket flash` says for the same files on the same kind of board.
    const cliSim = new Esp32Sim({ chip: "esp32" });
    sims.push(cliSim);
    const dir = await writeBuildDir(fw);
    tempDirs.push(dir);
    const cliErr: string[] = [];
    const code = await flashCommand(["--port", "/dev/sim", "--firmware", dir, "--attempts", "2"], { out: () => undefined, err: (t) => cliErr.push(t) }, { openPort: () => new SimSerialPort(cliSim) });
    assert.equal(code, 2);
    const cliLine = cliErr.find((l) => l.startsWith("sprocket flash: "));
    assert.ok(cliLine, cliErr.join("\n"));
    const cliMessage = cliLine.slice("sprocket flash: ".length);
    assert.equal(cliMessage, "xs_esp32.bin: image is for ESP32-S3 but the board is ESP32 (nothing was written)");

    const { page, sim } = await openPage("esp32");
    const before = sim.flash.slice();
    await page.setInputFiles("#files", buildFiles(fw));
    await page.waitForSelector('#firmware-summary[data-state="ok"]', { timeout: pageWaitMs });
    await page.fill("#part-id", "p");
    await page.fill("#part-key", "k");
    const outcome = await flashOnPage(page);
    assert.equal(outcome.state, "error", outcome.log);
    assert.equal(outcome.text, cliMessage);
    assert.ok(equalBytes(sim.flash, before), "the flash is unchanged");
    for (const command of ["FLASH_BEGIN", "FLASH_DEFL_BEGIN", "ERASE_FLASH", "ERASE_REGION"]) {
      assert.equal(sim.commandCounts.get(command), undefined, `${command} was sent`);
    }
    assert.deepEqual(outcome.rows, [], "no image rows: nothing was about to be written");
    await page.close();
  });

  test("a manifest URL (several chips): the board's build is fetched, written and booted", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sprocket-manifest-"));
    tempDirs.push(dir);
    const builds = [];
    const firmware = new Map<string, TestFirmware>();
    for (const chip of ["ESP32", "ESP32-S3"] as const) {
      const fw = buildTestFirmware(chip, { appBytes: 40 * 1024, version: `for-${chip}` });
      firmware.set(chip, fw);
      const tag = chip.toLowerCase();
      await writeFile(join(dir, `${tag}-boot.bin`), fw.bootloader);
      await writeFile(join(dir, `${tag}-table.bin`), fw.table);
      await writeFile(join(dir, `${tag}-app.bin`), fw.app);
      builds.push({ chipFamily: chip, parts: [{ path: `${tag}-boot.bin`, offset: fw.bootloaderOffset }, { path: `${tag}-table.bin`, offset: 0x8000 }, { path: `parts/../${tag}-app.bin`, offset: 0x10000 }] });
    }
    await writeFile(join(dir, "manifest.json"), JSON.stringify({ name: "sprocket", version: "9", builds }));
    // Firmware hosted on another origin, with CORS, as a release page would be.
    const files = http.createServer((req, res) => {
      const name = new URL(req.url ?? "/", "http://x").pathname.slice(1);
      import("node:fs/promises")
        .then((fs) => fs.readFile(join(dir, name)))
        .then(
          (body) => res.writeHead(200, { "access-control-allow-origin": "*", "content-type": "application/octet-stream" }).end(body),
          () => res.writeHead(404, { "access-control-allow-origin": "*" }).end(),
        );
    });
    await new Promise<void>((resolve) => files.listen(0, "127.0.0.1", resolve));
    try {
      const manifestUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}/manifest.json`;
      const { page, sim, apps } = await openPage("esp32s3", `?manifest=${encodeURIComponent(manifestUrl)}`);
      assert.equal(await page.inputValue("#manifest-url"), manifestUrl);
      const started = apps.started();
      const outcome = await flashOnPage(page);
      assert.equal(outcome.state, "done", `${outcome.text}\n${outcome.log}`);
      assert.match(outcome.log, /firmware: sprocket 9 \(manifest\.json\) for ESP32, ESP32-S3/);
      assert.deepEqual(outcome.rows.map((r) => `${r.image}:${r.state}`), ["esp32-s3-boot.bin:verified", "esp32-s3-table.bin:verified", "parts/../esp32-s3-app.bin:verified"]);
      const fw = firmware.get("ESP32-S3")!;
      assert.ok(equalBytes(sim.flash.subarray(0x10000, 0x10000 + fw.app.length), fw.app));
      assert.ok(equalBytes(sim.flash.subarray(0, fw.bootloader.length), fw.bootloader));
      const app = await started;
      assert.equal(sim.lastBoot?.app.appDescription?.version, "for-ESP32-S3");
      assert.deepEqual(app.provisioning, {});
      await apps.close();
      await page.close();
    } finally {
      files.closeAllConnections();
      await new Promise<void>((resolve) => files.close(() => resolve()));
    }
  });

  test("/flash without a built page answers 404 with how to build it", async () => {
    const empty = await mkdtemp(join(tmpdir(), "sprocket-no-page-"));
    tempDirs.push(empty);
    const route = flasherRoute(empty);
    const server = http.createServer((req, res) => {
      if (!route(req, res)) res.writeHead(418).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const redirect = await fetch(`${base}/flash`, { redirect: "manual" });
      assert.equal(redirect.status, 308);
      assert.equal(redirect.headers.get("location"), "/flash/");
      const missing = await fetch(`${base}/flash/`);
      assert.equal(missing.status, 404);
      const text = await missing.text();
      assert.equal(text, notBuiltText(empty));
      assert.match(text, /npm run build:web/);
      assert.equal((await fetch(`${base}/flash/..%2Fpackage.json`)).status, 404);
      assert.equal((await fetch(`${base}/flash/.env`)).status, 404);
      assert.equal((await fetch(`${base}/elsewhere`)).status, 418, "other paths fall through");
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    // The host serves the built page's files with their types.
    const css = await fetch(`${flasherUrl}/flash.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
    const js = await fetch(`${flasherUrl}/main.js`);
    assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.doesNotMatch(await js.text(), /\bfrom\s*["']node:/, "the bundle imports no Node modules");
  });
});

describe("the page's flashing steps in Node (flasher.ts), for the failures a browser test cannot cheaply make", () => {
  test("no answer from the bootloader: the CLI's message", async () => {
    const fw = buildTestFirmware("ESP32", { appBytes: 16 * 1024 });
    const dir = await writeBuildDir(fw);
    // A port without modem lines on a chip running (nothing bootable): nothing resets it into the loader.
    const deaf = () => {
      const sim = new Esp32Sim({ chip: "esp32" });
      return { sim, port: new SimSerialPort(sim, { modemLines: false }) };
    };
    const cli = deaf();
    const err: string[] = [];
    const code = await flashCommand(["--port", "the serial port", "--firmware", dir, "--attempts", "1"], { out: () => undefined, err: (t) => err.push(t) }, { openPort: () => cli.port });
    cli.sim.close();
    assert.equal(code, 1);
    const cliMessage = err.find((l) => l.startsWith("sprocket flash: "))!.slice("sprocket flash: ".length);
    assert.match(cliMessage, /^no answer from the bootloader on the serial port: hold BOOT, press EN, and retry$/);

    const page = deaf();
    const source = { kind: "build" as const, name: dir, build: { files: new Map([["xs_esp32.bin", fw.app], ["bootloader.bin", fw.bootloader], ["partition-table.bin", fw.table]]) } };
    const failure = await flashBoard(page.port, { source, provisioning: {}, attempts: 1 }).catch((e: unknown) => e);
    page.sim.close();
    assert.equal(failureMessage(failure), cliMessage);
    await rm(dir, { recursive: true, force: true });
  });

  test("a port Web Serial cannot open (held by another program)", async () => {
    const fw = buildTestFirmware("ESP32", { appBytes: 16 * 1024 });
    const source = { kind: "build" as const, name: "build", build: { files: new Map([["xs_esp32.bin", fw.app], ["bootloader.bin", fw.bootloader], ["partition-table.bin", fw.table]]) } };
    const held = {
      readable: null,
      writable: null,
      getInfo: () => ({}),
      open: async () => {
        throw Object.assign(new Error("Failed to open serial port."), { name: "NetworkError" });
      },
      close: async () => undefined,
      setSignals: async () => undefined,
    };
    const failure = await flashBoard(held, { source, provisioning: {}, attempts: 1 }).catch((e: unknown) => e);
    assert.equal(failureMessage(failure), "cannot open the serial port: another program may have it open (a serial monitor, another flasher tab), or it was unplugged; close it and retry");
  });

  test("bad provisioning is refused before the port is touched", async () => {
    const fw = buildTestFirmware("ESP32", { appBytes: 16 * 1024 });
    const sim = new Esp32Sim({ chip: "esp32" });
    const port = new SimSerialPort(sim);
    const source = { kind: "build" as const, name: "build", build: { files: new Map([["xs_esp32.bin", fw.app], ["bootloader.bin", fw.bootloader], ["partition-table.bin", fw.table]]) } };
    try {
      const tooLong = await flashBoard(port, { source, provisioning: { wifiSsid: "x".repeat(33) } }).catch((e: unknown) => e);
      assert.equal(failureMessage(tooLong), `provisioning value "wifi_ssid" is 33 bytes; the limit is 32 (nothing was written)`);
      assert.equal(port.isOpen, false);
      assert.equal(sim.commandCounts.size, 0);
    } finally {
      sim.close();
    }
  });
});
