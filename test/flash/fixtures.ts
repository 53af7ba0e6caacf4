// Firmware for the flashing tests and the benchmark: a bootloader, Moddable's partition table and
// an app built with buildAppImage, laid out as a Moddable build directory would be. The app's
// bytes are pseudo-random with some structure, so they compress about as well as real code (≈1.5:1).
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAppDescription, buildAppImage } from "../../tools/image/app-image.js";
import type { ChipFamily } from "../../tools/image/chips.js";
import { CHIPS } from "../../tools/image/chips.js";
import { MODDABLE_DEFAULT_PARTITIONS, buildPartitionTable, type Partition } from "../../tools/image/partition-table.js";
import type { SimChipName } from "../../tools/sim/esp32/chips.js";

export const SIM_FAMILY: Record<SimChipName, ChipFamily> = { esp32: "ESP32", esp32s3: "ESP32-S3", esp32c3: "ESP32-C3" };

/** Load addresses that look like each chip's (DROM, IRAM). */
const ADDRESSES: Record<string, { drom: number; iram: number; boot: number }> = {
  ESP32: { drom: 0x3f400020, iram: 0x40080000, boot: 0x3fff0030 },
  "ESP32-S3": { drom: 0x3c000020, iram: 0x40370000, boot: 0x3fce3810 },
  "ESP32-C3": { drom: 0x3c000020, iram: 0x40380000, boot: 0x3fcd5820 },
};

/**
 * Deterministic bytes that deflate about as well as machine code (≈1.5:1): instruction-sized words,
 * most from a small vocabulary, the rest random.
 */
export function codeLikeBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0 || 1;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  const vocabulary = Array.from({ length: 48 }, () => next());
  for (let i = 0; i < length; i += 4) {
    const r = next();
    const word = (r & 0xff) < 150 ? vocabulary[(r >>> 8) % vocabulary.length]! : next();
    for (let b = 0; b < 4 && i + b < length; b++) out[i + b] = (word >>> (b * 8)) & 0xff;
  }
  return out;
}

export interface TestFirmware {
  chip: ChipFamily;
  bootloader: Uint8Array;
  table: Uint8Array;
  app: Uint8Array;
  partitions: readonly Partition[];
  bootloaderOffset: number;
}

export function buildTestFirmware(chip: ChipFamily, options: { appBytes?: number; version?: string; seed?: number } = {}): TestFirmware {
  const addr = ADDRESSES[chip] ?? ADDRESSES.ESP32!;
  const appSize = options.appBytes ?? 160 * 1024;
  const desc = buildAppDescription({ version: options.version ?? "1.0.0", projectName: "sprocket-micro", date: "Jan  1 2026", idfVersion: "v5.4" });
  const drom = new Uint8Array(Math.floor(appSize / 3));
  drom.set(desc);
  drom.set(codeLikeBytes(drom.length - desc.length, options.seed ?? 7), desc.length);
  const app = buildAppImage({
    chip,
    segments: [
      { loadAddress: addr.drom, data: drom },
      { loadAddress: addr.iram, data: codeLikeBytes(appSize - drom.length, (options.seed ?? 7) + 1) },
    ],
    entry: addr.iram + 0x100,
  });
  const bootloader = buildAppImage({
    chip,
    segments: [{ loadAddress: addr.boot, data: codeLikeBytes(18 * 1024, 99) }],
    entry: addr.boot + 0x40,
  });
  const table = buildPartitionTable(MODDABLE_DEFAULT_PARTITIONS);
  return { chip, bootloader, table, app, partitions: MODDABLE_DEFAULT_PARTITIONS, bootloaderOffset: CHIPS.find((c) => c.family === chip)!.bootloaderOffset };
}

/** Writes a Moddable-style build directory (xs_esp32.bin, bootloader.bin, partition-table.bin). */
export async function writeBuildDir(fw: TestFirmware, files: { app?: Uint8Array; bootloader?: Uint8Array; table?: Uint8Array } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sprocket-fw-"));
  await writeFile(join(dir, "xs_esp32.bin"), files.app ?? fw.app);
  await writeFile(join(dir, "bootloader.bin"), files.bootloader ?? fw.bootloader);
  await writeFile(join(dir, "partition-table.bin"), files.table ?? fw.table);
  return dir;
}
