// What to write where, and every check that must pass before a byte is written: the images are
// valid (magic, segments, checksum, SHA-256: a truncated or corrupted file is refused), they are
// for the chip on the port, the app fits its partition, and provisioning values make a valid NVS
// image for the nvs partition. Portable; tools/flash/firmware-files.ts reads the files in Node.
import { parseAppImage, type AppImageInfo } from "../image/app-image.js";
import { ImageError, hex } from "../image/bytes.js";
import { chipByFamily, type ChipFamily } from "../image/chips.js";
import { buildFromModdable, checkImageFits, parseManifest, selectBuild, type BuildFiles, type Manifest } from "../image/manifest.js";
import { buildNvs } from "../image/nvs.js";
import {
  PARTITION_TABLE_OFFSET,
  PARTITION_TABLE_SECTOR,
  PartitionType,
  findPartition,
  parsePartitionTable,
  subtypeCode,
  validatePartitions,
  type Partition,
} from "../image/partition-table.js";
import { provisioningEntries, type ProvisioningValues } from "../image/provisioning.js";
import type { WriteImage } from "./session.js";

/** Firmware as given on the command line (or picked in a page): a Moddable build, or a manifest with its part files. */
export type FirmwareSource =
  | { kind: "build"; name: string; build: BuildFiles }
  | { kind: "manifest"; name: string; manifest: Manifest; files: ReadonlyMap<string, Uint8Array> };

export interface FirmwarePlan {
  chip: ChipFamily;
  images: WriteImage[];
  /** The partition table being flashed (absent when a manifest flashes none). */
  partitions?: Partition[];
  app: AppImageInfo;
  appPartition?: Partition;
}

function inPart<T>(name: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof ImageError) throw new ImageError(`${name}: ${err.message}`);
    throw err;
  }
}

/** The chip a source was built for, when it says (a Moddable build: its app's chip id). */
export function firmwareChip(source: FirmwareSource): ChipFamily | undefined {
  if (source.kind === "build") return buildFromModdable(source.build).chip;
  return source.manifest.builds.length === 1 ? source.manifest.builds[0]!.chipFamily : undefined;
}

/**
 * Checks the firmware against the chip on the port and lays out the images. Throws ImageError
 * (nothing has been written yet).
 */
export function planFirmware(source: FirmwareSource, chip: ChipFamily): FirmwarePlan {
  if (source.kind === "build") {
    const build = buildFromModdable(source.build);
    // parseAppImage words the chip mismatch ("image is for ESP32-S3 but the board is ESP32").
    inPart("xs_esp32.bin", () => parseAppImage(build.parts.find((p) => p.offset === build.appPartition.offset)!.bytes, chip));
    return {
      chip,
      images: build.parts.map((p) => ({ name: p.path, offset: p.offset, bytes: p.bytes })),
      partitions: build.partitions,
      app: build.app,
      appPartition: build.appPartition,
    };
  }

  const selected = inPart(source.name, () => selectBuild(source.manifest, chip));
  const images: WriteImage[] = selected.parts.map((part) => {
    const bytes = source.files.get(part.path);
    if (bytes === undefined) throw new ImageError(`${source.name}: part ${part.path} was not read`);
    return { name: part.path, offset: part.offset, bytes };
  });
  const spec = chipByFamily(chip)!;
  let partitions: Partition[] | undefined;
  const table = images.find((i) => i.offset === PARTITION_TABLE_OFFSET);
  if (table !== undefined) {
    if (table.bytes.length > PARTITION_TABLE_SECTOR) throw new ImageError(`${table.name} is ${table.bytes.length} bytes; the table sector holds ${PARTITION_TABLE_SECTOR}`);
    partitions = inPart(table.name, () => {
      const parsed = parsePartitionTable(table.bytes).partitions;
      validatePartitions(parsed);
      return parsed;
    });
  }
  const bootloader = images.find((i) => i.offset === spec.bootloaderOffset);
  if (bootloader !== undefined) inPart(bootloader.name, () => parseAppImage(bootloader.bytes, chip));
  const appPartition =
    partitions === undefined
      ? undefined
      : (findPartition(partitions, PartitionType.app, subtypeCode("app", "factory")) ?? findPartition(partitions, PartitionType.app, subtypeCode("app", "ota_0")));
  const appImage =
    images.find((i) => appPartition !== undefined && i.offset === appPartition.offset) ??
    images.filter((i) => i.offset >= 0x10000 && i.bytes[0] === 0xe9).sort((a, b) => a.offset - b.offset)[0];
  if (appImage === undefined) throw new ImageError(`${source.name}: the ${chip} build has no app image`);
  const app = inPart(appImage.name, () => parseAppImage(appImage.bytes, chip));
  if (partitions !== undefined) {
    const holder = partitions.find((p) => appImage.offset >= p.offset && appImage.offset < p.offset + p.size);
    if (holder === undefined) throw new ImageError(`${appImage.name} at ${hex(appImage.offset)} is outside every partition`);
    inPart(appImage.name, () => checkImageFits(appImage.bytes.length, { ...holder, size: holder.offset + holder.size - appImage.offset }));
  }
  const plan: FirmwarePlan = { chip, images, app };
  if (partitions !== undefined) plan.partitions = partitions;
  if (appPartition !== undefined) plan.appPartition = appPartition;
  return plan;
}

/** Whether any provisioning value is set. */
export function hasProvisioning(values: ProvisioningValues): boolean {
  return Object.values(values).some((v) => v !== undefined);
}

/** The nvs partition of a table. */
export function nvsPartition(partitions: readonly Partition[]): Partition {
  const nvs = partitions.find((p) => p.type === PartitionType.data && p.subtype === subtypeCode("data", "nvs"));
  if (nvs === undefined) throw new ImageError(`the partition table has no nvs partition to write provisioning into`);
  return nvs;
}

/** The NVS image with the provisioning values, sized for the nvs partition, at its offset. */
export function provisioningImage(partitions: readonly Partition[], values: ProvisioningValues): WriteImage {
  const nvs = nvsPartition(partitions);
  const bytes = buildNvs(provisioningEntries(values), { size: nvs.size });
  return { name: `NVS (${nvs.name})`, offset: nvs.offset, bytes };
}

/** Parses a manifest's JSON text (errors name the file). */
export function readManifestText(name: string, text: string): Manifest {
  return inPart(name, () => parseManifest(text));
}
