// The steps of `sprocket flash` between connecting and writing, shared by the CLI and the flasher
// page: check the firmware against the chip on the port, add the NVS image with the provisioning
// values (reading the board's partition table when the firmware brings none), and check that
// every image fits the board's flash. Everything here throws ImageError before a byte is written.
// Portable: no Node APIs.
import { ImageError, formatSize, hex } from "../image/bytes.js";
import type { ChipFamily } from "../image/chips.js";
import { PARTITION_TABLE_LENGTH, PARTITION_TABLE_OFFSET, parsePartitionTable } from "../image/partition-table.js";
import type { ProvisioningValues } from "../image/provisioning.js";
import { firmwareChip, hasProvisioning, planFirmware, provisioningImage, type FirmwarePlan, type FirmwareSource } from "./plan.js";
import { FlashError, type WriteImage } from "./session.js";

/**
 * What can be checked before a port is opened: the firmware against the chip it was built for
 * (or the one the user named), and the provisioning against its partition table. A manifest
 * with several builds is checked once the board's chip is known. Throws ImageError.
 */
export function checkBeforeConnecting(source: FirmwareSource, provisioning: ProvisioningValues, chip: ChipFamily | "auto" = "auto", chipOption = "--chip"): void {
  const builtFor = firmwareChip(source);
  let plan: FirmwarePlan | undefined;
  if (chip !== "auto" && builtFor !== undefined && builtFor !== chip) {
    throw new ImageError(`${chipOption} ${chip} was given but ${source.name} is built for ${builtFor}`);
  }
  if (chip !== "auto") plan = planFirmware(source, chip);
  else if (builtFor !== undefined && source.kind === "build") plan = planFirmware(source, builtFor);
  if (plan !== undefined && hasProvisioning(provisioning) && plan.partitions !== undefined) provisioningImage(plan.partitions, provisioning);
}

/** What planForBoard needs of a connected session (FlashSession has it). */
export interface BoardInfo {
  /** The chip on the port, as esptool-js names it. */
  readonly chip: ChipFamily;
  /** Flash size in bytes, when the JEDEC id tells it. */
  readonly flashSize: number | undefined;
  readFlash(offset: number, length: number): Promise<Uint8Array>;
}

export interface BoardPlan {
  plan: FirmwarePlan;
  /** What to write, by offset: the firmware's parts and, with provisioning, the NVS image. */
  images: WriteImage[];
}

/**
 * Lays out what to write on the connected board: the firmware checked against the board's chip
 * (its app for another chip, or larger than its partition, is refused), the NVS image when any
 * provisioning value is set, and every image inside the board's flash. Throws ImageError.
 */
export async function planForBoard(board: BoardInfo, source: FirmwareSource, provisioning: ProvisioningValues): Promise<BoardPlan> {
  const plan = planFirmware(source, board.chip);
  const images = [...plan.images];
  if (hasProvisioning(provisioning)) {
    let partitions = plan.partitions;
    if (partitions === undefined) partitions = parsePartitionTable(await board.readFlash(PARTITION_TABLE_OFFSET, PARTITION_TABLE_LENGTH)).partitions;
    images.push(provisioningImage(partitions, provisioning));
    images.sort((a, b) => a.offset - b.offset);
  }
  const flashSize = board.flashSize;
  for (const image of images) {
    if (flashSize !== undefined && image.offset + image.bytes.length > flashSize) {
      throw new ImageError(`${image.name} ends at ${hex(image.offset + image.bytes.length)}, past the board's ${formatSize(flashSize)} flash`);
    }
  }
  return { plan, images };
}

export const NOTHING_WRITTEN = "(nothing was written)";

/** An ImageError raised before writing, with the note that nothing was written (once); others as they are. */
export function nothingWritten(err: unknown): unknown {
  if (!(err instanceof ImageError) || err.message.endsWith(NOTHING_WRITTEN)) return err;
  return new ImageError(`${err.message} ${NOTHING_WRITTEN}`);
}

/**
 * How a failed flash is reported: the CLI prints it after "sprocket flash: ", the page shows it as
 * is. Bad input says that nothing was written; a board or port failure says what to do.
 */
export function failureMessage(err: unknown): string {
  if (err instanceof ImageError) return (nothingWritten(err) as ImageError).message;
  if (err instanceof FlashError) return err.message;
  return `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}
