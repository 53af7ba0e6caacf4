// esptool-js 0.7 (ESPLoader + Transport, through FlashSession) flashes the simulator over the
// in-process Web Serial port: every chip, at 115200 and 921600 baud, compressed and not; the
// flash holds exactly what was written, MD5 verification passes, readFlash returns it, and after
// the reset the simulator boots the app with the provisioning that was written.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ESPLoader, Transport } from "esptool-js";
import { equalBytes } from "../../tools/image/bytes.js";
import { provisioningImage } from "../../tools/flash/plan.js";
import { FlashSession, type WriteImage } from "../../tools/flash/session.js";
import type { AppBootInfo } from "../../tools/sim/esp32/boot.js";
import { SIM_CHIP_NAMES } from "../../tools/sim/esp32/chips.js";
import { Esp32Sim } from "../../tools/sim/esp32/esp32-sim.js";
import { SimSerialPort } from "../../tools/sim/esp32/web-serial-port.js";
import { SIM_FAMILY, buildTestFirmware } from "./fixtures.js";

function waitForBoot(sim: Esp32Sim, ms = 2000): Promise<AppBootInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no app boot within ${ms} ms; console:\n${sim.console.slice(-10).join("\n")}`)), ms);
    const off = sim.on("appBoot", (info) => {
      clearTimeout(timer);
      off();
      resolve(info);
    });
  });
}

function assertFlashHolds(sim: Esp32Sim, images: readonly WriteImage[]): void {
  for (const image of images) {
    assert.ok(equalBytes(sim.flash.subarray(image.offset, image.offset + image.bytes.length), image.bytes), `${image.name} at 0x${image.offset.toString(16)}`);
  }
}

describe("esptool-js flashes the simulator", () => {
  for (const chip of SIM_CHIP_NAMES) {
    for (const baud of [115200, 921600]) {
      test(`${chip} at ${baud} baud, compressed and uncompressed`, async () => {
        const family = SIM_FAMILY[chip];
        const sim = new Esp32Sim({ chip });
        const port = new SimSerialPort(sim);
        const session = await FlashSession.connect(port, { baud, attempts: 2 });
        try {
          assert.equal(session.chip, family);
          assert.equal(session.flashSize, 4 * 1024 * 1024);
          assert.equal(sim.hostBaud, baud);
          assert.equal(sim.deviceBaud, baud);

          const first = buildTestFirmware(family, { version: "1.0.0", appBytes: 120 * 1024 });
          const provisioning = { wifiSsid: `net-${chip}`, wifiPassword: "hunter22", host: "ws://192.168.1.20:8080", partId: `part-${chip}`, partKey: "k3y" };
          const images: WriteImage[] = [
            { name: "bootloader", offset: first.bootloaderOffset, bytes: first.bootloader },
            { name: "table", offset: 0x8000, bytes: first.table },
            { name: "app", offset: 0x10000, bytes: first.app },
            provisioningImage(first.partitions, provisioning),
          ];
          const verified: string[] = [];
          const progress = new Map<string, number>();
          await session.write(images, {
            compress: true,
            onVerified: (i) => verified.push(i.name),
            onProgress: (i, sent, total) => {
              assert.ok(sent <= total);
              progress.set(i.name, sent / total);
            },
          });
          assert.deepEqual(verified, images.map((i) => i.name));
          assert.ok([...progress.values()].every((f) => f === 1));
          assertFlashHolds(sim, images);

          // A different app, uncompressed this time, over the first one.
          const second = buildTestFirmware(family, { version: "2.0.0", appBytes: 100 * 1024, seed: 42 });
          const app2: WriteImage = { name: "app v2", offset: 0x10000, bytes: second.app };
          await session.write([app2], { compress: false });
          assertFlashHolds(sim, [app2]);

          const back = await session.readFlash(0x10000, second.app.length);
          assert.ok(equalBytes(back, second.app), "readFlash returns what was written");

          const booted = waitForBoot(sim);
          await session.resetIntoApp();
          const info = await booted;
          assert.equal(info.chip, family);
          assert.equal(info.app.appDescription?.version, "2.0.0");
          assert.equal(info.app.chip, family);
          assert.equal(info.appPartition.name, "factory");
          assert.deepEqual(info.provisioning, provisioning);
        } finally {
          await session.close();
          sim.close();
        }
      });
    }
  }

  test("ESPLoader.main() reads the chip the way the ROM registers describe it", async () => {
    const expected = {
      esp32: ["ESP32-D0WD-V3 (revision 3)", /Crystal is 40MHz/, /MAC: 24:0a:c4:5e:00:01/, /Features: Wi-Fi, BT, Dual Core/, /Flash ID: 1640ef/],
      esp32s3: ["ESP32-S3 (QFN56) (revision v0.2)", /Crystal is 40MHz/, /MAC: 34:85:18:5e:00:02/, /Features: Wi-Fi,BLE/, /Flash ID: 1640ef/],
    } as const;
    for (const [chip, [description, ...patterns]] of Object.entries(expected) as [keyof typeof expected, (typeof expected)[keyof typeof expected]][]) {
      const sim = new Esp32Sim({ chip });
      const lines: string[] = [];
      class Quiet extends Transport {
        override trace(): void {}
      }
      const transport = new Quiet(new SimSerialPort(sim) as unknown as ConstructorParameters<typeof Transport>[0]);
      const loader = new ESPLoader({ transport, baudrate: 921600, terminal: { clean() {}, write: (t) => lines.push(t), writeLine: (t) => lines.push(t) } });
      try {
        assert.equal(await loader.main(), description);
        for (const p of patterns) assert.match(lines.join("\n"), p);
        assert.equal(sim.mode, "stub");
      } finally {
        await transport.disconnect();
        sim.close();
      }
    }
  });

  test("without setBaudRate esptool-js reopens the port at the new rate, and the chip keeps up", async () => {
    const sim = new Esp32Sim({ chip: "esp32" });
    const port = new SimSerialPort(sim, { inPlaceBaudChange: false });
    assert.equal(port.setBaudRate, undefined);
    const session = await FlashSession.connect(port, { baud: 460800, attempts: 2 });
    try {
      assert.equal(sim.hostBaud, 460800);
      const fw = buildTestFirmware("ESP32", { appBytes: 40 * 1024 });
      await session.write([{ name: "app", offset: 0x10000, bytes: fw.app }]);
      assertFlashHolds(sim, [{ name: "app", offset: 0x10000, bytes: fw.app }]);
    } finally {
      await session.close();
      sim.close();
    }
  });

  test("eraseAll clears what was there before writing", async () => {
    const sim = new Esp32Sim({ chip: "esp32c3" });
    sim.flash.fill(0x00, 0x200000, 0x210000);
    const session = await FlashSession.connect(new SimSerialPort(sim), { baud: 921600, attempts: 2 });
    try {
      const fw = buildTestFirmware("ESP32-C3", { appBytes: 20 * 1024 });
      await session.write([{ name: "app", offset: 0x10000, bytes: fw.app }], { eraseAll: true });
      assert.ok(sim.flash.subarray(0x200000, 0x210000).every((b) => b === 0xff));
    } finally {
      await session.close();
      sim.close();
    }
  });
});
