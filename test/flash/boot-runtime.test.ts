// From flashing to a running part: esptool-js (FlashSession, in Node) writes a Moddable build and
// an NVS image with provisioning into the simulated chip, the explicit reset boots the app, and
// runAppOnBoot starts the micro runtime on a World for that chip with the flashed NVS. A host-side
// client (ChannelClient + length-prefix framing over TCP) authenticates with the provisioned part
// key and calls the part; the part also dials in to the provisioned running host (join-host.ts),
// and the official SDK reads its BME280 through that host. Resetting the chip stops the part and
// boots it again. And the same as two processes: `sprocket esp32-sim` on a pseudo-terminal,
// flashed by `sprocket flash`, joining the host in this process.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { ChannelError, Code } from "../../proto/channel/frames.js";
import { provisioningKeys } from "../../firmware/provisioning/keys.js";
import { planForBoard } from "../../tools/flash/flow.js";
import { FlashSession } from "../../tools/flash/session.js";
import { configBlob, type ProvisioningValues } from "../../tools/image/provisioning.js";
import { network } from "../../tools/sim/network.js";
import { Esp32Sim } from "../../tools/sim/esp32/esp32-sim.js";
import { runAppOnBoot, worldChip } from "../../tools/sim/esp32/run-app.js";
import { haveSocat } from "../../tools/sim/esp32/pty.js";
import { SimSerialPort } from "../../tools/sim/esp32/web-serial-port.js";
import { MicroClient } from "../micro/harness.js";
import { SIM_FAMILY, buildTestFirmware, writeBuildDir } from "./fixtures.js";
import { BME280_CONFIG, readThroughHost, startJoinHost, wireProvisioned } from "./join-host.js";

const config = { components: [...BME280_CONFIG.components, { name: "heap", type: "sensor", model: "free-heap" }] };

async function rejectsWith(promise: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof ChannelError && error.code === code);
}

describe("a flashed app boots into the micro runtime", () => {
  const cases = [
    { chip: "esp32", engine: "node" },
    { chip: "esp32s3", engine: "node" },
    { chip: "esp32c3", engine: "xs" },
  ] as const;
  for (const { chip, engine } of cases) {
    test(`${chip} (${engine} engine): esptool-js writes firmware and NVS, the reset starts the part, it answers with the provisioned key and joins the host`, async () => {
      const family = SIM_FAMILY[chip];
      const sim = new Esp32Sim({ chip });
      const apps = runAppOnBoot(sim, { engine, wire: wireProvisioned });
      // The running host the part dials in to at boot, as the remote "esp".
      const joined = await startJoinHost(`part-${chip}`, `key-${chip}-0123456789`);
      const provisioning: ProvisioningValues = {
        wifiSsid: "workshop",
        wifiPassword: "pa55word",
        host: joined.url,
        partId: `part-${chip}`,
        partKey: `key-${chip}-0123456789`,
        config: configBlob(config),
      };
      const fw = buildTestFirmware(family, { appBytes: 64 * 1024 });
      const session = await FlashSession.connect(new SimSerialPort(sim), { baud: 921600, attempts: 2 });
      let client: MicroClient | undefined;
      try {
        const source = {
          kind: "build" as const,
          name: "build",
          build: { files: new Map([["xs_esp32.bin", fw.app], ["bootloader.bin", fw.bootloader], ["partition-table.bin", fw.table]]) },
        };
        const { images } = await planForBoard(session, source, provisioning);
        assert.deepEqual(images.map((i) => i.name).sort(), ["NVS (nvs)", "bootloader.bin", "partition-table.bin", "xs_esp32.bin"]);
        await session.write(images);
        const started = apps.started();
        await session.resetIntoApp();
        const app = await started;

        assert.equal(app.engine, engine);
        assert.equal(app.world.chip.name, worldChip(family));
        assert.deepEqual(app.provisioning, provisioning);
        assert.deepEqual(app.skippedNvs, []);
        // The NVS as the firmware's Preference sees it, and what the firmware did with it.
        const stored = app.world.nvs.get(provisioningKeys.partId.domain, provisioningKeys.partId.key, "str");
        assert.deepEqual(stored, { type: "str", value: `part-${chip}` });
        assert.deepEqual(network(app.world).wifi, { mode: 1, ssid: "workshop", connected: true });
        const seen = await app.run<{ host?: string; partKey?: string }>(`return runtime.provisioning;`);
        assert.equal(seen.host, joined.url);
        assert.equal(seen.partKey, `key-${chip}-0123456789`);
        assert.equal(app.address.host, "127.0.0.1");
        assert.ok(app.address.port > 0);

        client = await MicroClient.tcp(app.address.port, app.address.host);
        await rejectsWith(client.call(RobotService.method.resourceNames, {}), Code.UNAUTHENTICATED);
        await rejectsWith(client.authenticate(`part-${chip}`, "not-the-key"), Code.UNAUTHENTICATED);
        await client.authenticate(`part-${chip}`, `key-${chip}-0123456789`);
        const names = await client.call(RobotService.method.resourceNames, {});
        assert.deepEqual(names.resources.map((r) => `${r.subtype}/${r.name}`).sort(), ["board/board", "sensor/env", "sensor/heap"]);
        app.world.freeHeap = 77_000;
        const readings = await client.call(SensorService.method.getReadings, { name: "heap" });
        assert.equal(readings.readings.bytes?.kind.value, 77_000);

        // The part dialled in to the running host: the official SDK reads its BME280 through the host.
        await readThroughHost(joined.host);

        // EN pulsed again: the part goes down with the chip and comes back from the same flash.
        const restarted = new Promise<void>((resolve) => {
          const off = sim.on("appBoot", () => {
            off();
            resolve();
          });
        });
        const closed = client.closed;
        await session.resetIntoApp();
        assert.match(await closed, /closed/);
        await restarted;
        const again = await apps.started();
        assert.notEqual(again, app);
        const second = await MicroClient.tcp(again.address.port);
        try {
          await second.authenticate(`part-${chip}`, `key-${chip}-0123456789`);
          assert.equal((await second.call(RobotService.method.resourceNames, {})).resources.length, 3);
        } finally {
          second.close();
        }
      } finally {
        client?.close();
        await session.close();
        await apps.close();
        sim.close();
        await joined.host.close();
      }
    });
  }
});

const cli = fileURLToPath(new URL("../../host/cli.js", import.meta.url));
const socat = await haveSocat();

describe("sprocket esp32-sim runs what sprocket flash wrote", { skip: socat ? false : "socat is not installed (Debian package socat); this test needs a pseudo-terminal" }, () => {
  test("the flashed app starts the micro runtime with the provisioned config's devices, at the address it prints, and joins the host", async () => {
    const joined = await startJoinHost("cli-part", "cli-key-42");
    const dir = await mkdtemp(join(tmpdir(), "sprocket-esp32-sim-"));
    const fw = buildTestFirmware("ESP32", { appBytes: 48 * 1024 });
    const firmware = await writeBuildDir(fw);
    const configFile = join(firmware, "micro.json");
    await writeFile(configFile, JSON.stringify(BME280_CONFIG));
    const pty = join(dir, "ttyESP");
    const sim = spawn(process.execPath, [cli, "esp32-sim", "--pty", pty, "--idle-reset", "300"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const seen = (pattern: RegExp) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out);
          if (m) {
            sim.stdout.off("data", check);
            sim.off("exit", exited);
            resolve(m);
          }
        };
        const exited = () => reject(new Error(`esp32-sim exited; it printed:\n${out}`));
        sim.stdout.on("data", check);
        sim.once("exit", exited);
        check();
      });
    sim.stdout.setEncoding("utf8").on("data", (t: string) => (out += t));
    sim.stderr.setEncoding("utf8").on("data", (t: string) => (out += t));
    let client: MicroClient | undefined;
    try {
      await seen(/simulated ESP32 .* on /);
      const flash = spawn(process.execPath, [cli, "flash", "--port", pty, "--firmware", firmware, "--part-id", "cli-part", "--part-key", "cli-key-42", "--wifi-ssid", "lab", "--host", joined.url, "--config", configFile], { stdio: ["ignore", "pipe", "pipe"] });
      let flashErr = "";
      flash.stderr.setEncoding("utf8").on("data", (t: string) => (flashErr += t));
      const code = await new Promise<number | null>((resolve) => flash.once("exit", resolve));
      assert.equal(code, 0, flashErr);
      const [, dialsIn, host, port] = await seen(/micro runtime \(node engine\) running part cli-part, host (\S+): RPC on tcp:\/\/([\d.]+):(\d+)/);
      assert.match(out, /simulated env: BME280 on i2c0/);
      assert.equal(dialsIn, joined.url);
      client = await MicroClient.tcp(Number(port), host);
      await client.authenticate("cli-part", "cli-key-42");
      const readings = await client.call(SensorService.method.getReadings, { name: "env" });
      assert.ok(Math.abs((readings.readings.temperature?.kind.value as number) - 21.5) < 0.05, JSON.stringify(readings.readings));
      // The esp32-sim process's part dialled in to the host in this process; the SDK reads it there.
      const viaHost = await readThroughHost(joined.host);
      assert.ok(Math.abs((viaHost.temperature as number) - 21.5) < 0.05, JSON.stringify(viaHost));
    } finally {
      client?.close();
      const exited = new Promise((resolve) => sim.once("exit", resolve));
      sim.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
      await rm(firmware, { recursive: true, force: true });
      await joined.host.close();
    }
  });
});
