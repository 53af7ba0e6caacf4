// esp-web-tools manifests: reading one, and making one from the output of a Moddable ESP32 build
// (`$MODDABLE/build/bin/esp32[/<sub>]/<variant>/<NAME>/`). Portable: the build's files come in as
// a Map of name → bytes (the flasher page gets them from a file picker; the CLI from
// `node/read-build-dir.ts`).
//
// Manifest: `{ name, version, builds: [{ chipFamily, parts: [{ path, offset }] }] }`; `path` is
// relative to the manifest's URL, `offset` a number, `chipFamily` an esptool-js chip name.
import { parseAppImage, type AppImageInfo } from "./app-image.js";
import { ImageError, formatSize, hex } from "./bytes.js";
import { CHIPS, chipByFamily, type ChipFamily } from "./chips.js";
import {
  PARTITION_TABLE_OFFSET,
  PARTITION_TABLE_SECTOR,
  PartitionType,
  findPartition,
  parsePartitionTable,
  subtypeCode,
  validatePartitions,
  type Partition,
} from "./partition-table.js";

export interface ManifestPart {
  path: string;
  offset: number;
}

export interface ManifestBuild {
  chipFamily: ChipFamily;
  parts: ManifestPart[];
  /** Picks among builds for one chip by USB interface: "cdc" (native USB) or "uart". */
  serialType?: "cdc" | "uart";
}

export interface Manifest {
  name: string;
  version: string;
  home_assistant_domain?: string;
  funding_url?: string;
  new_install_prompt_erase?: boolean;
  new_install_improv_wait_time?: number;
  builds: ManifestBuild[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads and checks a manifest (JSON text or the parsed value). */
export function parseManifest(input: unknown): Manifest {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new ImageError(`manifest is not JSON: ${(err as Error).message}`);
    }
  }
  if (!isObject(value)) throw new ImageError(`manifest must be a JSON object`);
  const m = value;
  for (const field of ["name", "version"] as const) {
    if (typeof m[field] !== "string") throw new ImageError(`manifest "${field}" must be a string`);
  }
  for (const field of ["home_assistant_domain", "funding_url"] as const) {
    if (m[field] !== undefined && typeof m[field] !== "string") throw new ImageError(`manifest "${field}" must be a string`);
  }
  if (m.new_install_prompt_erase !== undefined && typeof m.new_install_prompt_erase !== "boolean") {
    throw new ImageError(`manifest "new_install_prompt_erase" must be true or false`);
  }
  if (m.new_install_improv_wait_time !== undefined && typeof m.new_install_improv_wait_time !== "number") {
    throw new ImageError(`manifest "new_install_improv_wait_time" must be a number of seconds`);
  }
  if (!Array.isArray(m.builds) || m.builds.length === 0) throw new ImageError(`manifest "builds" must be a non-empty array`);
  m.builds.forEach((b: unknown, i) => {
    const at = `manifest builds[${i}]`;
    if (!isObject(b)) throw new ImageError(`${at} must be an object`);
    if (typeof b.chipFamily !== "string" || chipByFamily(b.chipFamily) === undefined) {
      throw new ImageError(`${at}.chipFamily ${JSON.stringify(b.chipFamily)} is not one of ${CHIPS.map((c) => c.family).join(", ")}`);
    }
    if (b.serialType !== undefined && b.serialType !== "cdc" && b.serialType !== "uart") {
      throw new ImageError(`${at}.serialType must be "cdc" or "uart"`);
    }
    if (!Array.isArray(b.parts) || b.parts.length === 0) throw new ImageError(`${at}.parts must be a non-empty array`);
    b.parts.forEach((p: unknown, j) => {
      const pat = `${at}.parts[${j}]`;
      if (!isObject(p)) throw new ImageError(`${pat} must be an object`);
      if (typeof p.path !== "string" || p.path === "") throw new ImageError(`${pat}.path must be a non-empty string`);
      if (typeof p.offset !== "number" || !Number.isInteger(p.offset) || p.offset < 0) {
        throw new ImageError(`${pat}.offset must be a non-negative integer`);
      }
    });
  });
  return value as unknown as Manifest;
}

/** The build for a chip (and serial type, when the manifest distinguishes them). */
export function selectBuild(manifest: Manifest, chip: ChipFamily, serialType?: "cdc" | "uart"): ManifestBuild {
  const candidates = manifest.builds.filter((b) => b.chipFamily === chip);
  const build = candidates.find((b) => serialType !== undefined && b.serialType === serialType) ?? candidates[0];
  if (build === undefined) {
    throw new ImageError(`manifest has no build for ${chip} (it has ${manifest.builds.map((b) => b.chipFamily).join(", ")})`);
  }
  return build;
}

// ---------------------------------------------------------------------------------------------
// From a Moddable build

export const MODDABLE_APP_FILE = "xs_esp32.bin";
export const MODDABLE_BOOTLOADER_FILE = "bootloader.bin";
export const MODDABLE_PARTITION_TABLE_FILE = "partition-table.bin";
export const MODDABLE_OTA_DATA_FILE = "ota_data_initial.bin";
/** The files of a Moddable ESP32 build directory that get flashed (the last one only with OTA). */
export const MODDABLE_BUILD_FILES = [
  MODDABLE_APP_FILE,
  MODDABLE_BOOTLOADER_FILE,
  MODDABLE_PARTITION_TABLE_FILE,
  MODDABLE_OTA_DATA_FILE,
] as const;

export interface BuildFiles {
  files: ReadonlyMap<string, Uint8Array>;
}

export interface FlashPart {
  path: string;
  offset: number;
  bytes: Uint8Array;
}

export interface FirmwareBuild {
  manifest: Manifest;
  chip: ChipFamily;
  app: AppImageInfo;
  partitions: Partition[];
  /** Where the app goes: the factory partition, or ota_0 when there is none. */
  appPartition: Partition;
  /** What to flash, by offset. */
  parts: FlashPart[];
}

/** Throws unless an image of `imageBytes` fits in `partition`. */
export function checkImageFits(imageBytes: number, partition: Partition, what = "app image"): void {
  if (imageBytes <= partition.size) return;
  let have = formatSize(imageBytes);
  let holds = formatSize(partition.size);
  if (have === holds) [have, holds] = [`${imageBytes} bytes`, `${partition.size} bytes`];
  throw new ImageError(`${what} is ${have} but partition ${JSON.stringify(partition.name)} holds ${holds}`);
}

function inFile<T>(name: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ImageError) throw new ImageError(`${name}: ${err.message}`);
    throw err;
  }
}

/**
 * Checks a Moddable build (app, bootloader and partition table for the same chip; the table valid;
 * the app fitting its partition; the bootloader ending before the table) and lays out what to
 * flash where: bootloader at the chip's offset (0x1000 on ESP32, 0x0 on ESP32-S3/C3), partition
 * table at 0x8000, app at its partition's offset, `ota_data_initial.bin` at the otadata partition.
 */
export function buildFromModdable(build: BuildFiles, options: { name?: string; version?: string } = {}): FirmwareBuild {
  const file = (name: string, what: string) => {
    const bytes = build.files.get(name);
    if (bytes === undefined) throw new ImageError(`the build has no ${name} (${what})`);
    return bytes;
  };
  const appBytes = file(MODDABLE_APP_FILE, "the app image");
  const bootloaderBytes = file(MODDABLE_BOOTLOADER_FILE, "the bootloader");
  const tableBytes = file(MODDABLE_PARTITION_TABLE_FILE, "the partition table");

  const app = inFile(MODDABLE_APP_FILE, () => parseAppImage(appBytes));
  const bootloader = inFile(MODDABLE_BOOTLOADER_FILE, () => parseAppImage(bootloaderBytes));
  if (bootloader.chip !== app.chip) {
    throw new ImageError(`${MODDABLE_BOOTLOADER_FILE} is for ${bootloader.chip} but ${MODDABLE_APP_FILE} is for ${app.chip}`);
  }
  const chip = chipByFamily(app.chip)!;
  if (tableBytes.length > PARTITION_TABLE_SECTOR) {
    throw new ImageError(`${MODDABLE_PARTITION_TABLE_FILE} is ${tableBytes.length} bytes; the table sector holds ${PARTITION_TABLE_SECTOR}`);
  }
  const partitions = inFile(MODDABLE_PARTITION_TABLE_FILE, () => {
    const { partitions } = parsePartitionTable(tableBytes);
    validatePartitions(partitions);
    return partitions;
  });

  if (chip.bootloaderOffset + bootloaderBytes.length > PARTITION_TABLE_OFFSET) {
    throw new ImageError(
      `${MODDABLE_BOOTLOADER_FILE} is ${formatSize(bootloaderBytes.length)} at ${hex(chip.bootloaderOffset)} and runs into the partition table at ${hex(PARTITION_TABLE_OFFSET)}`,
    );
  }
  const appPartition =
    findPartition(partitions, PartitionType.app, subtypeCode("app", "factory")) ??
    findPartition(partitions, PartitionType.app, subtypeCode("app", "ota_0"));
  if (appPartition === undefined) throw new ImageError(`${MODDABLE_PARTITION_TABLE_FILE} has no factory or ota_0 app partition`);
  checkImageFits(appBytes.length, appPartition);

  const parts: FlashPart[] = [
    { path: MODDABLE_BOOTLOADER_FILE, offset: chip.bootloaderOffset, bytes: bootloaderBytes },
    { path: MODDABLE_PARTITION_TABLE_FILE, offset: PARTITION_TABLE_OFFSET, bytes: tableBytes },
    { path: MODDABLE_APP_FILE, offset: appPartition.offset, bytes: appBytes },
  ];
  const otaData = build.files.get(MODDABLE_OTA_DATA_FILE);
  if (otaData !== undefined) {
    const otadata = findPartition(partitions, PartitionType.data, subtypeCode("data", "ota"));
    if (otadata === undefined) {
      throw new ImageError(`the build has ${MODDABLE_OTA_DATA_FILE} but ${MODDABLE_PARTITION_TABLE_FILE} has no otadata partition`);
    }
    checkImageFits(otaData.length, otadata, MODDABLE_OTA_DATA_FILE);
    parts.push({ path: MODDABLE_OTA_DATA_FILE, offset: otadata.offset, bytes: otaData });
  }
  parts.sort((a, b) => a.offset - b.offset);

  const manifest: Manifest = {
    name: options.name ?? app.appDescription?.projectName ?? "Sprocket firmware",
    version: options.version ?? app.appDescription?.version ?? "0.0.0",
    builds: [{ chipFamily: app.chip, parts: parts.map(({ path, offset }) => ({ path, offset })) }],
  };
  return { manifest, chip: app.chip, app, partitions, appPartition, parts };
}
