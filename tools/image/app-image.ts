// ESP32-family firmware images (`esp_image_header_t`, what esptool's elf2image writes and the
// second-stage bootloader checks): the app (`xs_esp32.bin`) and the bootloader share the format.
// Portable: SHA-256 from @noble/hashes, no Node APIs.
//
//   0  u8  magic 0xE9            8  u8  WP pin (0xEE = none)     15 u16 min chip revision (major×100+minor)
//   1  u8  segment count          9  u8×3 SPI pin drive          17 u16 max chip revision
//   2  u8  SPI flash mode         12 u16 chip id                  19 u8×4 reserved
//   3  u8  flash size<<4 | freq   14 u8  min chip revision (old)  23 u8  hash appended
//   4  u32 entry point
// then segments (u32 load address, u32 length (a multiple of 4), data), zero padding up to
// offset ≡ 15 (mod 16), a checksum byte (0xEF XOR every segment data byte), and, when "hash
// appended" is set, the SHA-256 of everything before it.
import { sha256 } from "@noble/hashes/sha2.js";
import { ImageError, cString, concatBytes, equalBytes, hex, toHex, utf8, view } from "./bytes.js";
import { type ChipFamily, chipByFamily, chipById } from "./chips.js";

export const APP_IMAGE_MAGIC = 0xe9;
const HEADER_LENGTH = 24;
const SEGMENT_HEADER_LENGTH = 8;
const MAX_SEGMENTS = 16;
const CHECKSUM_SEED = 0xef;
const SHA256_LENGTH = 32;
const APP_DESC_MAGIC = 0xabcd5432;
const APP_DESC_LENGTH = 256;

export const FLASH_MODES = ["QIO", "QOUT", "DIO", "DOUT"] as const;
export type FlashMode = (typeof FLASH_MODES)[number];
export const FLASH_SIZES = ["1MB", "2MB", "4MB", "8MB", "16MB", "32MB", "64MB", "128MB"] as const;
export type FlashSize = (typeof FLASH_SIZES)[number];
/** Frequency codes of ESP32, ESP32-S2, ESP32-S3 and ESP32-C3 (other chips number them differently). */
const FLASH_FREQUENCIES: Record<number, string> = { 0x0: "40m", 0x1: "26m", 0x2: "20m", 0xf: "80m" };
const FREQUENCY_CODES: Record<string, number> = { "40m": 0x0, "26m": 0x1, "20m": 0x2, "80m": 0xf };

export interface AppSegmentInfo {
  loadAddress: number;
  length: number;
  /** Where the segment's data starts in the image. */
  dataOffset: number;
}

/** `esp_app_desc_t`, found at the start of an app's first segment. */
export interface AppDescription {
  secureVersion: number;
  version: string;
  projectName: string;
  time: string;
  date: string;
  idfVersion: string;
}

export interface AppImageInfo {
  chip: ChipFamily;
  chipId: number;
  entry: number;
  flashMode: FlashMode | number;
  flashSize: FlashSize | number;
  /** e.g. "80m", or the raw code where it has no name. */
  flashFrequency: string | number;
  wpPin: number;
  minChipRevision: number;
  minChipRevisionFull: number;
  maxChipRevisionFull: number;
  hashAppended: boolean;
  segments: AppSegmentInfo[];
  checksum: number;
  /** The appended SHA-256, hex. */
  sha256?: string;
  /** Bytes the image occupies, SHA-256 included; anything after it (e.g. 0xFF padding) is not part of it. */
  length: number;
  appDescription?: AppDescription;
}

function truncated(what: string, end: number, length: number): ImageError {
  return new ImageError(`app image is truncated: ${what} needs ${end} bytes but the image has ${length}`);
}

/**
 * Parses and verifies an image: magic, chip (when `expectedChip` is given), segment bounds, the
 * checksum and the appended SHA-256. Throws an ImageError saying what is wrong.
 */
export function parseAppImage(bytes: Uint8Array, expectedChip?: ChipFamily): AppImageInfo {
  if (bytes.length < 1) throw truncated("the header", HEADER_LENGTH, bytes.length);
  if (bytes[0] !== APP_IMAGE_MAGIC) {
    throw new ImageError(`not an ESP app image: first byte is ${hex(bytes[0]!, 2)}, expected ${hex(APP_IMAGE_MAGIC, 2)}`);
  }
  if (bytes.length < HEADER_LENGTH) throw truncated("the header", HEADER_LENGTH, bytes.length);
  const dv = view(bytes);
  const chipId = dv.getUint16(12, true);
  const chip = chipById(chipId);
  if (chip === undefined) throw new ImageError(`app image has an unknown chip id ${chipId}`);
  if (expectedChip !== undefined && chip.family !== expectedChip) {
    throw new ImageError(`image is for ${chip.family} but the board is ${expectedChip}`);
  }
  const segmentCount = bytes[1]!;
  if (segmentCount === 0 || segmentCount > MAX_SEGMENTS) {
    throw new ImageError(`app image has ${segmentCount} segments; a valid image has 1 to ${MAX_SEGMENTS}`);
  }

  const segments: AppSegmentInfo[] = [];
  let at = HEADER_LENGTH;
  let checksum = CHECKSUM_SEED;
  for (let n = 0; n < segmentCount; n++) {
    if (at + SEGMENT_HEADER_LENGTH > bytes.length) throw truncated(`the header of segment ${n}`, at + SEGMENT_HEADER_LENGTH, bytes.length);
    const loadAddress = dv.getUint32(at, true);
    const length = dv.getUint32(at + 4, true);
    const dataOffset = at + SEGMENT_HEADER_LENGTH;
    if (length % 4 !== 0) throw new ImageError(`app image segment ${n} has length ${length}, not a multiple of 4`);
    if (dataOffset + length > bytes.length) throw truncated(`segment ${n}`, dataOffset + length, bytes.length);
    for (let i = dataOffset; i < dataOffset + length; i++) checksum ^= bytes[i]!;
    segments.push({ loadAddress, length, dataOffset });
    at = dataOffset + length;
  }
  const checksumOffset = at + 15 - (at % 16);
  if (checksumOffset >= bytes.length) throw truncated("the checksum", checksumOffset + 1, bytes.length);
  const stored = bytes[checksumOffset]!;
  if (stored !== checksum) {
    throw new ImageError(`app image checksum mismatch: stored ${hex(stored, 2)}, computed ${hex(checksum, 2)}`);
  }
  let length = checksumOffset + 1;

  const hashAppended = bytes[23] === 1;
  let digest: string | undefined;
  if (hashAppended) {
    if (length + SHA256_LENGTH > bytes.length) throw truncated("the SHA-256", length + SHA256_LENGTH, bytes.length);
    const storedHash = bytes.subarray(length, length + SHA256_LENGTH);
    const computed = sha256(bytes.subarray(0, length));
    if (!equalBytes(storedHash, computed)) {
      throw new ImageError(`app image SHA-256 mismatch: stored ${toHex(storedHash)}, computed ${toHex(computed)}`);
    }
    digest = toHex(storedHash);
    length += SHA256_LENGTH;
  }

  const mode = bytes[2]!;
  const sizeCode = bytes[3]! >> 4;
  const freqCode = bytes[3]! & 0xf;
  const info: AppImageInfo = {
    chip: chip.family,
    chipId,
    entry: dv.getUint32(4, true),
    flashMode: FLASH_MODES[mode] ?? mode,
    flashSize: FLASH_SIZES[sizeCode] ?? sizeCode,
    flashFrequency: FLASH_FREQUENCIES[freqCode] ?? freqCode,
    wpPin: bytes[8]!,
    minChipRevision: bytes[14]!,
    minChipRevisionFull: dv.getUint16(15, true),
    maxChipRevisionFull: dv.getUint16(17, true),
    hashAppended,
    segments,
    checksum,
    length,
  };
  if (digest !== undefined) info.sha256 = digest;
  const first = segments[0]!;
  if (first.length >= APP_DESC_LENGTH && dv.getUint32(first.dataOffset, true) === APP_DESC_MAGIC) {
    const description = parseAppDescription(bytes.subarray(first.dataOffset, first.dataOffset + APP_DESC_LENGTH));
    if (description !== undefined) info.appDescription = description;
  }
  return info;
}

function parseAppDescription(desc: Uint8Array): AppDescription | undefined {
  const text = (from: number, length: number) => cString(desc.subarray(from, from + length));
  try {
    return {
      secureVersion: view(desc).getUint32(4, true),
      version: text(16, 32),
      projectName: text(48, 32),
      time: text(80, 16),
      date: text(96, 16),
      idfVersion: text(112, 32),
    };
  } catch {
    return undefined; // not UTF-8: not a description after all
  }
}

// ---------------------------------------------------------------------------------------------
// Writer (tests and the simulated bootloader)

export interface AppDescriptionInput {
  version: string;
  projectName: string;
  time?: string;
  date?: string;
  idfVersion?: string;
  secureVersion?: number;
}

/** A 256-byte `esp_app_desc_t`, to begin an app's first segment with. */
export function buildAppDescription(input: AppDescriptionInput): Uint8Array {
  const desc = new Uint8Array(APP_DESC_LENGTH);
  const dv = view(desc);
  dv.setUint32(0, APP_DESC_MAGIC, true);
  dv.setUint32(4, input.secureVersion ?? 0, true);
  const put = (text: string, from: number, length: number) => {
    const b = utf8(text);
    if (b.length >= length) throw new ImageError(`app description field ${JSON.stringify(text)} is longer than ${length - 1} bytes`);
    desc.set(b, from);
  };
  put(input.version, 16, 32);
  put(input.projectName, 48, 32);
  put(input.time ?? "00:00:00", 80, 16);
  put(input.date ?? "Jan  1 2025", 96, 16);
  put(input.idfVersion ?? "v5.4", 112, 32);
  return desc;
}

export interface BuildAppImageOptions {
  chip: ChipFamily;
  segments: readonly { loadAddress: number; data: Uint8Array }[];
  entry?: number;
  flashMode?: FlashMode;
  flashSize?: FlashSize;
  flashFrequency?: "40m" | "26m" | "20m" | "80m";
  minChipRevisionFull?: number;
  maxChipRevisionFull?: number;
  /** Append the SHA-256 (default true, as ESP-IDF apps and bootloaders have it). */
  hashAppended?: boolean;
}

/** Writes a valid image; segment data is zero-padded to a multiple of 4 bytes. */
export function buildAppImage(options: BuildAppImageOptions): Uint8Array {
  const chip = chipByFamily(options.chip);
  if (chip === undefined) throw new ImageError(`unknown chip ${JSON.stringify(options.chip)}`);
  const count = options.segments.length;
  if (count === 0 || count > MAX_SEGMENTS) throw new ImageError(`an app image has 1 to ${MAX_SEGMENTS} segments, not ${count}`);
  const hashAppended = options.hashAppended ?? true;

  const header = new Uint8Array(HEADER_LENGTH);
  const hv = view(header);
  header[0] = APP_IMAGE_MAGIC;
  header[1] = count;
  header[2] = FLASH_MODES.indexOf(options.flashMode ?? "DIO");
  header[3] = (FLASH_SIZES.indexOf(options.flashSize ?? "4MB") << 4) | FREQUENCY_CODES[options.flashFrequency ?? "40m"]!;
  hv.setUint32(4, options.entry ?? options.segments[0]!.loadAddress, true);
  header[8] = 0xee;
  hv.setUint16(12, chip.id, true);
  hv.setUint16(15, options.minChipRevisionFull ?? 0, true);
  hv.setUint16(17, options.maxChipRevisionFull ?? 0xffff, true);
  header[23] = hashAppended ? 1 : 0;

  const parts: Uint8Array[] = [header];
  let length = HEADER_LENGTH;
  let checksum = CHECKSUM_SEED;
  for (const segment of options.segments) {
    const data = new Uint8Array(Math.ceil(segment.data.length / 4) * 4);
    data.set(segment.data);
    const sh = new Uint8Array(SEGMENT_HEADER_LENGTH);
    view(sh).setUint32(0, segment.loadAddress, true);
    view(sh).setUint32(4, data.length, true);
    for (const b of data) checksum ^= b;
    parts.push(sh, data);
    length += SEGMENT_HEADER_LENGTH + data.length;
  }
  const tail = new Uint8Array(16 - (length % 16)); // zero padding, then the checksum as the 16th byte
  tail[tail.length - 1] = checksum;
  parts.push(tail);
  const image = concatBytes(parts);
  return hashAppended ? concatBytes([image, sha256(image)]) : image;
}
