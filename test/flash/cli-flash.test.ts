// `sprocket flash` and `sprocket provision` in-process, with the simulator behind the port: a
// build directory and a manifest flash and boot with their provisioning; bad input is refused
// with a clear message before anything is written (the simulated flash is compared byte for byte).
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { flashCommand, monitorCommand, provisionCommand, type FlashCliIo } from "../../tools/cli/flash.js";
import { equalBytes } from "../../tools/image/bytes.js";
import { parseNvs } from "../../tools/image/nvs.js";
import { buildPartitionTable, type Partition } from "../../tools/image/partition-table.js";
import { readProvisioning } from "../../tools/image/provisioning.js";
import type { AppBootInfo } from "../../tools/sim/esp32/boot.js";
import { Esp32Sim, type Esp32SimOptions } from "../../tools/sim/esp32/esp32-sim.js";
import { SimSerialPort } from "../../tools/sim/esp32/web-serial-port.js";
import { buildTestFirmware, writeBuildDir } from "./fixtures.js";

interface Run {
  code: number;
  out: string;
  err: string;
}

function harness(options: Esp32SimOptions = {}) {
  const sim = new Esp32Sim(options);
  const boots: AppBootInfo[] = [];
  sim.on("appBoot", (info) => boots.push(info));
  const deps = { openPort: () => new SimSerialPort(sim) };
  const run = async (command: typeof flashCommand, argv: string[]): Promise<Run> => {
    const out: string[] = [];
    const err: string[] = [];
    const io: FlashCliIo = { out: (t) => out.push(t), err: (t) => err.push(t), progress: { write: (t) => err.push(t), isTTY: false } };
    const code = await command([...argv, "--attempts", "2"], io, deps);
    return { code, out: out.join("\n"), err: err.join("\n") };
  };
  return { sim, boots, run };
}

const waitFor = async (check: () => boolean, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("sprocket flash", () => {
  test("flashes a Moddable build directory with provisioning, verifies it, and the app boots with it", async () => {
    const { sim, boots, run } = harness({ chip: "esp32s3" });
    const fw = buildTestFirmware("ESP32-S3");
    const dir = await writeBuildDir(fw);
    const config = join(dir, "micro.json");
    await writeFile(config, JSON.stringify({ components: [{ name: "led", model: "gpio" }] }));
    const r = await run(flashCommand, ["--port", "/dev/sim", "--firmware", dir, "--wifi-ssid", "home", "--wifi-password", "pa55word", "--host", "ws://10.0.0.2:8080", "--part-id", "p1", "--part-key", "k1", "--config", config]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /connected: ESP32-S3/);
    assert.match(r.err, /xs_esp32\.bin\s+verified/);
    assert.match(r.err, /NVS \(nvs\)\s+verified/);
    assert.match(r.out, /flashed \/dev\/sim/);
    assert.ok(equalBytes(sim.flash.subarray(0x10000, 0x10000 + fw.app.length), fw.app));
    assert.ok(equalBytes(sim.flash.subarray(0, fw.bootloader.length), fw.bootloader));
    await waitFor(() => boots.length > 0);
    assert.equal(boots[0]!.chip, "ESP32-S3");
    assert.equal(boots[0]!.provisioning.wifiSsid, "home");
    assert.equal(boots[0]!.provisioning.host, "ws://10.0.0.2:8080");
    assert.deepEqual(JSON.parse(new TextDecoder().decode(boots[0]!.provisioning.config)), { components: [{ name: "led", model: "gpio" }] });
    sim.close();
  });

  test("picks the board's build from a manifest with several chips, uncompressed", async () => {
    const { sim, boots, run } = harness({ chip: "esp32c3" });
    const dir = await mkdtemp(join(tmpdir(), "sprocket-manifest-"));
    const builds = [];
    for (const chip of ["ESP32", "ESP32-C3"] as const) {
      const fw = buildTestFirmware(chip, { appBytes: 60 * 1024, version: chip });
      const tag = chip.toLowerCase();
      await writeFile(join(dir, `${tag}-boot.bin`), fw.bootloader);
      await writeFile(join(dir, `${tag}-table.bin`), fw.table);
      await writeFile(join(dir, `${tag}-app.bin`), fw.app);
      builds.push({ chipFamily: chip, parts: [{ path: `${tag}-boot.bin`, offset: fw.bootloaderOffset }, { path: `${tag}-table.bin`, offset: 0x8000 }, { path: `${tag}-app.bin`, offset: 0x10000 }] });
    }
    await writeFile(join(dir, "manifest.json"), JSON.stringify({ name: "sprocket", version: "1", builds }));
    const r = await run(flashCommand, ["--port", "/dev/sim", "--firmware", join(dir, "manifest.json"), "--no-compress"]);
    assert.equal(r.code, 0, r.err);
    await waitFor(() => boots.length > 0);
    assert.equal(boots[0]!.app.appDescription?.version, "ESP32-C3");
    sim.close();
  });

  const refusals: { name: string; chip?: "esp32" | "esp32s3"; make: () => Promise<string[]>; message: RegExp }[] = [
    {
      name: "a truncated image",
      make: async () => {
        const fw = buildTestFirmware("ESP32");
        return ["--firmware", await writeBuildDir(fw, { app: fw.app.subarray(0, fw.app.length - 1000) })];
      },
      message: /xs_esp32\.bin: app image is truncated/,
    },
    {
      name: "a bad checksum",
      make: async () => {
        const fw = buildTestFirmware("ESP32");
        const app = fw.app.slice();
        app[5000] ^= 0x40;
        return ["--firmware", await writeBuildDir(fw, { app })];
      },
      message: /xs_esp32\.bin: app image checksum mismatch/,
    },
    {
      name: "an image for another chip",
      make: async () => ["--firmware", await writeBuildDir(buildTestFirmware("ESP32-S3"))],
      message: /image is for ESP32-S3 but the board is ESP32/,
    },
    {
      name: "an image larger than its partition",
      make: async () => {
        const fw = buildTestFirmware("ESP32", { appBytes: 100 * 1024 });
        const partitions: Partition[] = [
          { name: "nvs", type: 1, subtype: 2, offset: 0x9000, size: 0x6000, flags: 0 },
          { name: "factory", type: 0, subtype: 0, offset: 0x10000, size: 0x10000, flags: 0 },
        ];
        return ["--firmware", await writeBuildDir(fw, { table: buildPartitionTable(partitions) })];
      },
      message: /app image is 100\.\d KB but partition "factory" holds 64\.0 KB/,
    },
    {
      name: "a Wi-Fi name longer than NVS allows",
      make: async () => ["--firmware", await writeBuildDir(buildTestFirmware("ESP32")), "--wifi-ssid", "x".repeat(40)],
      message: /wifi_ssid.*limit is 32/,
    },
    {
      name: "a bootloader that is not an image",
      make: async () => {
        const fw = buildTestFirmware("ESP32");
        return ["--firmware", await writeBuildDir(fw, { bootloader: new Uint8Array(4096) })];
      },
      message: /bootloader\.bin: not an ESP app image/,
    },
  ];
  for (const refusal of refusals) {
    test(`refuses ${refusal.name} before writing anything`, async () => {
      const { sim, run } = harness({ chip: refusal.chip ?? "esp32" });
      // Something already on the board, to see that it stays.
      const before = buildTestFirmware("ESP32", { version: "0.9.0", seed: 5 });
      sim.flash.set(before.bootloader, 0x1000);
      sim.flash.set(before.table, 0x8000);
      sim.flash.set(before.app, 0x10000);
      const snapshot = sim.flash.slice();
      const r = await run(flashCommand, ["--port", "/dev/sim", ...(await refusal.make())]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, refusal.message);
      assert.match(r.err, /nothing was written/);
      assert.ok(equalBytes(sim.flash, snapshot), "flash unchanged");
      sim.close();
    });
  }

  test("bad flags are usage errors", async () => {
    const { sim, run } = harness();
    assert.equal((await run(flashCommand, ["--firmware", "x"])).code, 2);
    assert.match((await run(flashCommand, ["--port", "p", "--firmware", "x", "--chip", "esp8266x"])).err, /--chip "esp8266x" is not auto/);
    assert.match((await run(flashCommand, ["--port", "p", "--firmware", "/nonexistent"])).err, /no such file or directory/);
    sim.close();
  });
});

describe("sprocket provision", () => {
  test("rewrites only the NVS partition", async () => {
    const { sim, boots, run } = harness({ chip: "esp32" });
    const fw = buildTestFirmware("ESP32");
    assert.equal((await run(flashCommand, ["--port", "/dev/sim", "--firmware", await writeBuildDir(fw), "--wifi-ssid", "old"])).code, 0);
    await waitFor(() => boots.length === 1);
    const before = sim.flash.slice();
    const r = await run(provisionCommand, ["--port", "/dev/sim", "--wifi-ssid", "new-net", "--part-id", "p9"]);
    assert.equal(r.code, 0, r.err);
    assert.ok(equalBytes(sim.flash.subarray(0, 0x9000), before.subarray(0, 0x9000)));
    assert.ok(equalBytes(sim.flash.subarray(0xf000), before.subarray(0xf000)));
    assert.deepEqual(readProvisioning(parseNvs(sim.flash.subarray(0x9000, 0xf000)).entries), { wifiSsid: "new-net", partId: "p9" });
    await waitFor(() => boots.length === 2);
    assert.equal(boots[1]!.provisioning.wifiSsid, "new-net");
    sim.close();
  });

  test("a blank board has no partition table to provision", async () => {
    const { sim, run } = harness({ chip: "esp32c3" });
    const snapshot = sim.flash.slice();
    const r = await run(provisionCommand, ["--port", "/dev/sim", "--wifi-ssid", "x"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /no valid partition table at 0x8000 \(flash firmware first\)/);
    assert.ok(equalBytes(sim.flash, snapshot));
    sim.close();
  });

  test("needs at least one value", async () => {
    const { sim, run } = harness();
    const r = await run(provisionCommand, ["--port", "/dev/sim"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /nothing to provision/);
    sim.close();
  });
});


describe("sprocket monitor", () => {
  test("--reset pulses EN and prints the boot log until stopped", async () => {
    const sim = new Esp32Sim({ chip: "esp32c3" });
    const fw = buildTestFirmware("ESP32-C3", { version: "7.7.7" });
    sim.flash.set(fw.bootloader, fw.bootloaderOffset);
    sim.flash.set(fw.table, 0x8000);
    sim.flash.set(fw.app, 0x10000);
    let serial = "";
    let stop!: () => void;
    const stopSignal = new Promise<void>((resolve) => (stop = resolve));
    const io: FlashCliIo = { out: () => undefined, err: () => undefined, serial: (t) => (serial += t) };
    const done = monitorCommand(["--port", "/dev/sim", "--reset"], io, { openPort: () => new SimSerialPort(sim), stopSignal });
    await waitFor(() => serial.includes("the micro runtime would start now"));
    stop();
    assert.equal(await done, 0);
    assert.match(serial, /rst:0x1 \(POWERON\),boot:0xc \(SPI_FAST_FLASH_BOOT\)/);
    assert.match(serial, /App version:\s+7\.7\.7/);
    sim.close();
  });
});
