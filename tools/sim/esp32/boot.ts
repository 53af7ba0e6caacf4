// What a simulated chip does when it boots from flash (IO0 high when EN rises): the ROM loads the
// second-stage bootloader, the bootloader reads the partition table at 0x8000, verifies the app
// in the factory (or ota_0) partition and jumps to it; the app then reads its provisioning from
// the NVS partition. Each step uses the project's image tools and fails the way the real boot
// does (the log lines follow ESP-IDF's wording; timestamps are made up). Portable.
import { parseAppImage, type AppImageInfo } from "../../image/app-image.js";
import { ImageError, hex } from "../../image/bytes.js";
import { parseNvs, type NvsEntry } from "../../image/nvs.js";
import {
  PARTITION_TABLE_LENGTH,
  PARTITION_TABLE_OFFSET,
  PartitionType,
  findPartition,
  parsePartitionTable,
  partitionSubtypeName,
  partitionTypeName,
  subtypeCode,
  type Partition,
} from "../../image/partition-table.js";
import { provisioningKeyFor, readProvisioning, type ProvisioningValues } from "../../image/provisioning.js";
import type { ChipFamily } from "../../image/chips.js";
import type { SimChip } from "./chips.js";

/** What the app would run with: handed to `onAppBoot` (the micro runtime simulation starts from it). */
export interface AppBootInfo {
  chip: ChipFamily;
  /** The verified app image. */
  app: AppImageInfo;
  /** The app's bytes (the image only, without the rest of its partition). */
  appImage: Uint8Array;
  appPartition: Partition;
  partitions: Partition[];
  /** Provisioning values read from the NVS partition ({} when there is none or it is blank). */
  provisioning: ProvisioningValues;
  /** Every NVS entry, provisioning or not. */
  nvs: NvsEntry[];
  /** Why the NVS partition could not be read, if it could not (the app still starts, as ESP-IDF's would after nvs_flash_init fails). */
  nvsError?: string;
  mac: string;
}

export interface BootFailure {
  stage: "bootloader" | "partition-table" | "app";
  message: string;
}

export type BootOutcome = { ok: true; info: AppBootInfo; log: string[] } | { ok: false; failure: BootFailure; log: string[] };

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The used part of an image inside a partition-sized slice: parseAppImage stops at its end. */
function describeSegments(app: AppImageInfo, base: number, t: () => number): string[] {
  return app.segments.map(
    (s, i) =>
      `I (${t()}) esp_image: segment ${i}: paddr=${(base + s.dataOffset).toString(16).padStart(8, "0")} vaddr=${s.loadAddress.toString(16).padStart(8, "0")} size=${hex(s.length, 5).toLowerCase()} (${String(s.length).padStart(6)})`,
  );
}

export function bootFromFlash(flash: Uint8Array, chip: SimChip, mac: string): BootOutcome {
  let ms = 24;
  const t = () => (ms += 7);
  const log: string[] = [];
  const fail = (stage: BootFailure["stage"], message: string, lines: string[]): BootOutcome => {
    log.push(...lines);
    return { ok: false, failure: { stage, message }, log };
  };

  // 1. The ROM loads the second-stage bootloader.
  const bootloaderBytes = flash.subarray(chip.bootloaderOffset, PARTITION_TABLE_OFFSET);
  const magicWord = new DataView(bootloaderBytes.buffer, bootloaderBytes.byteOffset, 4).getUint32(0, true);
  let bootloader: AppImageInfo;
  try {
    bootloader = parseAppImage(bootloaderBytes, chip.family);
  } catch (err) {
    if (bootloaderBytes[0] !== 0xe9) return fail("bootloader", `no bootloader at ${hex(chip.bootloaderOffset)}`, [`invalid header: 0x${magicWord.toString(16).padStart(8, "0")}`]);
    return fail("bootloader", `bootloader at ${hex(chip.bootloaderOffset)}: ${errorText(err)}`, [`E (${t()}) boot: bootloader image invalid: ${errorText(err)}`]);
  }
  log.push(
    "configsip: 0, SPIWP:0xee",
    "clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00",
    `mode:${bootloader.flashMode}, clock div:2`,
    ...bootloader.segments.map((s) => `load:0x${s.loadAddress.toString(16).padStart(8, "0")},len:${s.length}`),
    `entry 0x${bootloader.entry.toString(16).padStart(8, "0")}`,
    `I (${t()}) boot: ESP-IDF ${bootloader.appDescription?.idfVersion ?? "v5.4"} 2nd stage bootloader`,
    `I (${t()}) boot: chip revision: v0.0`,
    `I (${t()}) boot.${chip.name}: SPI Speed      : ${String(bootloader.flashFrequency).toUpperCase()}`,
    `I (${t()}) boot.${chip.name}: SPI Mode       : ${bootloader.flashMode}`,
    `I (${t()}) boot.${chip.name}: SPI Flash Size : ${bootloader.flashSize}`,
  );

  // 2. The partition table.
  let partitions: Partition[];
  try {
    partitions = parsePartitionTable(flash.subarray(PARTITION_TABLE_OFFSET, PARTITION_TABLE_OFFSET + PARTITION_TABLE_LENGTH)).partitions;
    if (partitions.length === 0) throw new ImageError("the table has no partitions");
  } catch (err) {
    return fail("partition-table", `partition table at ${hex(PARTITION_TABLE_OFFSET)}: ${errorText(err)}`, [
      `E (${t()}) flash_parts: ${errorText(err)}`,
      `E (${t()}) boot: Failed to verify partition table`,
      `E (${t()}) boot: load partition table error!`,
    ]);
  }
  log.push(`I (${t()}) boot: Partition Table:`, `I (${t()}) boot: ## Label            Usage          Type ST Offset   Length`);
  partitions.forEach((p, i) => {
    const usage = `${partitionTypeName(p.type)} ${partitionSubtypeName(p.type, p.subtype)}`;
    log.push(
      `I (${t()}) boot: ${String(i).padStart(2)} ${p.name.padEnd(16)} ${usage.padEnd(14)} ${p.type.toString(16).padStart(2, "0")} ${p.subtype.toString(16).padStart(2, "0")} ${p.offset.toString(16).padStart(8, "0")} ${p.size.toString(16).padStart(8, "0")}`,
    );
  });
  log.push(`I (${t()}) boot: End of partition table`);

  // 3. The app: factory, or ota_0 when there is no factory partition.
  const appPartition =
    findPartition(partitions, PartitionType.app, subtypeCode("app", "factory")) ?? findPartition(partitions, PartitionType.app, subtypeCode("app", "ota_0"));
  if (appPartition === undefined || appPartition.offset + appPartition.size > flash.length) {
    return fail("app", "the partition table has no factory or ota_0 app partition inside the flash", [
      `E (${t()}) boot: No bootable app partitions in the partition table`,
    ]);
  }
  const region = flash.subarray(appPartition.offset, appPartition.offset + appPartition.size);
  let app: AppImageInfo;
  try {
    app = parseAppImage(region);
  } catch (err) {
    const nothing = region[0] === 0xff ? " (nothing flashed here?)" : "";
    return fail("app", `app in partition ${JSON.stringify(appPartition.name)}: ${errorText(err)}`, [
      `E (${t()}) esp_image: image at 0x${appPartition.offset.toString(16)} is invalid: ${errorText(err)}${nothing}`,
      `E (${t()}) boot: ${appPartition.name} app partition is not bootable`,
      `E (${t()}) boot: No bootable app partitions in the partition table`,
    ]);
  }
  if (app.chip !== chip.family) {
    return fail("app", `app in partition ${JSON.stringify(appPartition.name)} is for ${app.chip}, the chip is ${chip.family}`, [
      `E (${t()}) boot_comm: mismatch chip ID, expected ${chip.chipId}, found ${app.chipId}`,
      `E (${t()}) boot: ${appPartition.name} app partition is not bootable`,
    ]);
  }
  log.push(...describeSegments(app, appPartition.offset, t), `I (${t()}) boot: Loaded app from partition at offset 0x${appPartition.offset.toString(16)}`);

  // 4. What the app reads at start: NVS.
  let nvs: NvsEntry[] = [];
  let provisioning: ProvisioningValues = {};
  let nvsError: string | undefined;
  const nvsPartition = partitions.find((p) => p.type === PartitionType.data && p.subtype === subtypeCode("data", "nvs"));
  if (nvsPartition !== undefined && nvsPartition.offset + nvsPartition.size <= flash.length) {
    try {
      nvs = parseNvs(flash.subarray(nvsPartition.offset, nvsPartition.offset + nvsPartition.size)).entries;
      provisioning = readProvisioning(nvs);
    } catch (err) {
      nvsError = errorText(err);
    }
  } else {
    nvsError = "no nvs partition";
  }
  const desc = app.appDescription;
  log.push(
    `I (${t()}) cpu_start: Pro cpu start user code`,
    `I (${t()}) app_init: Application information:`,
    `I (${t()}) app_init: Project name:     ${desc?.projectName ?? "?"}`,
    `I (${t()}) app_init: App version:      ${desc?.version ?? "?"}`,
    `I (${t()}) app_init: ESP-IDF:          ${desc?.idfVersion ?? "?"}`,
  );
  if (nvsError !== undefined) log.push(`W (${t()}) nvs: ${nvsError}`);
  const shown = nvs
    .map((e) => {
      const secret = provisioningKeyFor(e.namespace, e.key)?.secret === true;
      const value = secret ? "******" : e.type === "blob" ? `${e.value.length} bytes` : JSON.stringify(typeof e.value === "bigint" ? e.value.toString() : e.value);
      return `${e.namespace}.${e.key}=${value}`;
    })
    .join(" ");
  log.push(`I (${t()}) sprocket-sim: the micro runtime would start now; NVS: ${shown || "(empty)"}`);

  const info: AppBootInfo = { chip: chip.family, app, appImage: region.slice(0, app.length), appPartition, partitions, provisioning, nvs, mac };
  if (nvsError !== undefined) info.nvsError = nvsError;
  return { ok: true, info, log };
}
