// A second, independent implementation of the protocol against the simulator: esp-web-flasher
// 5.1.5 (Nabu Casa; its own SLIP and command code, legacy esptool stubs, DTR/RTS set in one
// call, baud change by closing and reopening the port). Its package's dist/ uses extensionless
// ESM imports that Node cannot load; the browser bundle (dist/web) works once it sits next to a
// {"type":"module"} package.json, so the test copies it to a temporary directory (never committed).
// After the flash (with an NVS image of provisioning), its hard reset boots the app, the part dials
// in to a running host, and the official SDK reads its BME280 through the host (join-host.ts).
import assert from "node:assert/strict";
import { copyFile, mkdtemp, readdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { before, describe, test } from "node:test";
import { equalBytes } from "../../tools/image/bytes.js";
import { buildNvs } from "../../tools/image/nvs.js";
import { configBlob, provisioningEntries } from "../../tools/image/provisioning.js";
import { SIM_CHIP_NAMES } from "../../tools/sim/esp32/chips.js";
import { Esp32Sim } from "../../tools/sim/esp32/esp32-sim.js";
import { runAppOnBoot } from "../../tools/sim/esp32/run-app.js";
import { SimSerialPort } from "../../tools/sim/esp32/web-serial-port.js";
import { SIM_FAMILY, buildTestFirmware } from "./fixtures.js";
import { BME280_CONFIG, readThroughHost, startJoinHost, wireProvisioned } from "./join-host.js";

interface Logger {
  log(msg: string, ...args: unknown[]): void;
  error(msg: string, ...args: unknown[]): void;
  debug(msg: string, ...args: unknown[]): void;
}
interface EwfLoader {
  chipName: string | null;
  IS_STUB: boolean;
  initialize(): Promise<void>;
  runStub(): Promise<EwfLoader>;
  setBaudrate(baud: number): Promise<void>;
  flashData(data: ArrayBuffer, progress: (written: number, total: number) => void, offset: number, compress: boolean): Promise<void>;
  hardReset(bootloader?: boolean): Promise<void>;
  disconnect(): Promise<void>;
}
type EwfModule = { ESPLoader: new (port: unknown, logger: Logger) => EwfLoader };

let ewf: EwfModule;

before(async () => {
  const require = createRequire(import.meta.url);
  const web = join(dirname(require.resolve("esp-web-flasher/package.json")), "dist", "web");
  const dir = await mkdtemp(join(tmpdir(), "esp-web-flasher-"));
  for (const name of await readdir(web)) await copyFile(join(web, name), join(dir, name));
  await writeFile(join(dir, "package.json"), `{"type":"module"}\n`);
  ewf = (await import(pathToFileURL(join(dir, "index.js")).href)) as EwfModule;
});

const quiet: Logger = { log() {}, error() {}, debug() {} };

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

describe("esp-web-flasher flashes the simulator", { concurrency: true }, () => {
  for (const chip of SIM_CHIP_NAMES) {
    test(`${chip}: stub, 921600 baud, compressed and uncompressed; the reset boots the part and it joins the host`, async () => {
      const family = SIM_FAMILY[chip];
      const sim = new Esp32Sim({ chip });
      // One Node-engine app per process at a time, and these tests run concurrently.
      const apps = runAppOnBoot(sim, { engine: chip === "esp32" ? "node" : "xs", wire: wireProvisioned });
      const joined = await startJoinHost(`ewf-${chip}`, `ewf-key-${chip}`);
      const port = new SimSerialPort(sim);
      await port.open({ baudRate: 115200 });
      const rom = new ewf.ESPLoader(port, quiet);
      try {
        await rom.initialize();
        assert.equal(rom.chipName, family);
        const stub = await rom.runStub();
        assert.equal(sim.mode, "stub");
        await stub.setBaudrate(921600);
        assert.equal(sim.hostBaud, 921600);
        assert.equal(sim.deviceBaud, 921600);

        const fw = buildTestFirmware(family, { appBytes: 80 * 1024 });
        const parts = [
          { offset: fw.bootloaderOffset, bytes: fw.bootloader, compress: true },
          { offset: 0x8000, bytes: fw.table, compress: false },
          { offset: 0x10000, bytes: fw.app, compress: true },
        ];
        for (const part of parts) {
          let last = 0;
          await stub.flashData(arrayBuffer(part.bytes), (written) => (last = written), part.offset, part.compress);
          // Its compressed progress is scaled from compressed block sizes and rounded per block.
          assert.ok(Math.abs(last - part.bytes.length) <= 8, `progress ended at ${last} of ${part.bytes.length}`);
          assert.ok(equalBytes(sim.flash.subarray(part.offset, part.offset + part.bytes.length), part.bytes), `part at 0x${part.offset.toString(16)}`);
        }
        const app2 = buildTestFirmware(family, { appBytes: 30 * 1024, seed: 3 }).app;
        await stub.flashData(arrayBuffer(app2), () => undefined, 0x10000, false);
        assert.ok(equalBytes(sim.flash.subarray(0x10000, 0x10000 + app2.length), app2));

        // Provisioning into the nvs partition, then esp-web-flasher's own hard reset boots the app.
        const nvs = fw.partitions.find((p) => p.name === "nvs")!;
        const provisioning = { wifiSsid: "lab", host: joined.url, partId: `ewf-${chip}`, partKey: `ewf-key-${chip}`, config: configBlob(BME280_CONFIG) };
        await stub.flashData(arrayBuffer(buildNvs(provisioningEntries(provisioning), { size: nvs.size })), () => undefined, nvs.offset, true);
        const started = apps.started();
        await stub.hardReset(false);
        const app = await started;
        assert.equal(app.provisioning.host, joined.url);
        await readThroughHost(joined.host);
      } finally {
        await rom.disconnect().catch(() => undefined);
        await apps.close();
        sim.close();
        await joined.host.close();
      }
    });
  }
});
