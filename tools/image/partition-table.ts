// ESP32 partition tables: the binary that sits at 0x8000 in flash and the CSV form ESP-IDF's
// `gen_esp32part.py` reads, with the same validation. Portable (no Node APIs).
//
// Binary: 32-byte rows from the start of the table: magic AA 50, u8 type, u8 subtype, u32 offset,
// u32 size, char label[16] (NUL-padded), u32 flags (bit 0 encrypted, bit 1 readonly). An optional
// MD5 row follows the entries (EB EB, 14 × FF, MD5 of all entry bytes before it); a row of 32 × FF
// ends the table, and the rest of the 0xC00-byte table area is 0xFF. Moddable builds leave the MD5
// row out (CONFIG_PARTITION_TABLE_MD5 unset); ESP-IDF's default puts it in. Both parse.
import { md5 } from "@noble/hashes/legacy.js";
import { ImageError, cString, equalBytes, hex, toHex, utf8, view } from "./bytes.js";

export const PARTITION_TABLE_OFFSET = 0x8000;
/** The table occupies one 4 KiB sector; nothing may start below its end. */
export const PARTITION_TABLE_SECTOR = 0x1000;
/** Bytes of table data (the rest of the sector is left for a signature). */
export const PARTITION_TABLE_LENGTH = 0xc00;

const ROW = 32;
const MAGIC = [0xaa, 0x50] as const;
const MD5_MAGIC = [0xeb, 0xeb] as const;
const LABEL_LENGTH = 16;

export interface Partition {
  name: string;
  /** 0x00 app, 0x01 data, 0x02 bootloader, 0x03 partition_table, 0x40–0xFE custom. */
  type: number;
  subtype: number;
  offset: number;
  size: number;
  /** Bit 0 encrypted, bit 1 readonly. */
  flags: number;
}

export const PartitionType = { app: 0x00, data: 0x01, bootloader: 0x02, partition_table: 0x03 } as const;

const APP_SUBTYPES: Record<string, number> = { factory: 0x00, test: 0x20 };
for (let n = 0; n < 16; n++) APP_SUBTYPES[`ota_${n}`] = 0x10 + n;

const SUBTYPES: Record<number, Record<string, number>> = {
  [PartitionType.app]: APP_SUBTYPES,
  [PartitionType.data]: {
    ota: 0x00,
    phy: 0x01,
    nvs: 0x02,
    coredump: 0x03,
    nvs_keys: 0x04,
    efuse: 0x05,
    undefined: 0x06,
    esphttpd: 0x80,
    fat: 0x81,
    spiffs: 0x82,
    littlefs: 0x83,
  },
  [PartitionType.bootloader]: { primary: 0x00, ota: 0x01 },
  [PartitionType.partition_table]: { primary: 0x00, ota: 0x01 },
};

const FLAGS: Record<string, number> = { encrypted: 1 << 0, readonly: 1 << 1 };

export function partitionTypeName(type: number): string {
  return Object.entries(PartitionType).find(([, v]) => v === type)?.[0] ?? hex(type, 2);
}

export function partitionSubtypeName(type: number, subtype: number): string {
  return Object.entries(SUBTYPES[type] ?? {}).find(([, v]) => v === subtype)?.[0] ?? hex(subtype, 2);
}

function flagNames(flags: number): string[] {
  return Object.entries(FLAGS)
    .filter(([, bit]) => flags & bit)
    .map(([name]) => name);
}

/** App partitions start on a 64 KiB boundary (the MMU page), everything else on a 4 KiB sector. */
export function partitionAlignment(type: number): number {
  return type === PartitionType.app ? 0x10000 : 0x1000;
}

function describe(p: Partition): string {
  return `partition ${JSON.stringify(p.name)}`;
}

function range(p: Partition): string {
  return `${hex(p.offset)}-${hex(p.offset + p.size - 1)}`;
}

// Moddable's partitions.csv for ESP32, ESP32-S3 and ESP32-C3 (build/devices/esp32/xsProj-*/).
export const MODDABLE_PARTITIONS_CSV = `# Name,   Type, SubType, Offset,  Size
nvs,      data, nvs,     0x9000,  0x6000,
phy_init, data, phy,     0xF000,  0x1000,
factory,  app,  factory, 0x10000, 0x3F0000,
`;

/** The table a default Moddable ESP32 build flashes at 0x8000 (written without the MD5 row). */
export const MODDABLE_DEFAULT_PARTITIONS: readonly Partition[] = Object.freeze([
  { name: "nvs", type: PartitionType.data, subtype: 0x02, offset: 0x9000, size: 0x6000, flags: 0 },
  { name: "phy_init", type: PartitionType.data, subtype: 0x01, offset: 0xf000, size: 0x1000, flags: 0 },
  { name: "factory", type: PartitionType.app, subtype: 0x00, offset: 0x10000, size: 0x3f0000, flags: 0 },
]);

export interface ValidateOptions {
  /** Where the table itself sits (default 0x8000); partitions must start after its sector. */
  tableOffset?: number;
  /** Flash size in bytes; partitions must end within it. */
  flashSize?: number;
}

/**
 * Checks a table as `gen_esp32part.py` does, with data partitions held to 4 KiB alignment: names
 * unique and ≤ 16 bytes, types and subtypes in range, offsets aligned, nothing overlapping the
 * table or another partition, one otadata partition of 0x2000 bytes at most.
 */
export function validatePartitions(partitions: readonly Partition[], options: ValidateOptions = {}): void {
  const tableEnd = (options.tableOffset ?? PARTITION_TABLE_OFFSET) + PARTITION_TABLE_SECTOR;
  const names = new Set<string>();
  for (const p of partitions) {
    if (p.name.length === 0) throw new ImageError(`a partition has an empty name`);
    if (utf8(p.name).length > LABEL_LENGTH) {
      throw new ImageError(`${describe(p)}: name is longer than ${LABEL_LENGTH} bytes`);
    }
    if (names.has(p.name)) throw new ImageError(`partition name ${JSON.stringify(p.name)} is used twice`);
    names.add(p.name);
    for (const [field, value, max] of [
      ["type", p.type, 0xfe],
      ["subtype", p.subtype, 0xfe],
      ["offset", p.offset, 0xffffffff],
      ["size", p.size, 0xffffffff],
      ["flags", p.flags, 0xffffffff],
    ] as const) {
      if (!Number.isInteger(value) || value < 0 || value > max) {
        throw new ImageError(`${describe(p)}: ${field} ${value} is out of range (0 to ${hex(max)})`);
      }
    }
    if (p.size === 0) throw new ImageError(`${describe(p)}: size is 0`);
    const align = partitionAlignment(p.type);
    if (p.offset % align !== 0) {
      throw new ImageError(`${describe(p)} (${partitionTypeName(p.type)}): offset ${hex(p.offset)} is not aligned to ${hex(align)}`);
    }
    if (p.offset < tableEnd) {
      throw new ImageError(`${describe(p)} at ${hex(p.offset)} overlaps the partition table, which ends at ${hex(tableEnd)}`);
    }
    if (options.flashSize !== undefined && p.offset + p.size > options.flashSize) {
      throw new ImageError(`${describe(p)} (${range(p)}) ends past the ${hex(options.flashSize)}-byte flash`);
    }
  }
  const sorted = [...partitions].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1]!, sorted[i]!];
    if (b.offset < a.offset + a.size) {
      throw new ImageError(`partitions ${JSON.stringify(a.name)} (${range(a)}) and ${JSON.stringify(b.name)} (${range(b)}) overlap`);
    }
  }
  const otadata = partitions.filter((p) => p.type === PartitionType.data && p.subtype === SUBTYPES[1]!.ota);
  if (otadata.length > 1) throw new ImageError(`only one otadata (data, ota) partition is allowed, found ${otadata.length}`);
  if (otadata.length === 1 && otadata[0]!.size !== 0x2000) {
    throw new ImageError(`${describe(otadata[0]!)}: an otadata partition must be 0x2000 bytes, not ${hex(otadata[0]!.size)}`);
  }
}

export interface BuildTableOptions extends ValidateOptions {
  /** Append the MD5 row (ESP-IDF's default; Moddable builds leave it out). Default false. */
  md5?: boolean;
}

/** Writes the 0xC00-byte binary table (entries in the order given, like gen_esp32part.py). */
export function buildPartitionTable(partitions: readonly Partition[], options: BuildTableOptions = {}): Uint8Array {
  validatePartitions(partitions, options);
  const rows = partitions.length + (options.md5 ? 1 : 0) + 1; // + end marker
  if (rows * ROW > PARTITION_TABLE_LENGTH) {
    throw new ImageError(`${partitions.length} partitions do not fit in the ${hex(PARTITION_TABLE_LENGTH)}-byte table`);
  }
  const table = new Uint8Array(PARTITION_TABLE_LENGTH).fill(0xff);
  partitions.forEach((p, i) => {
    const row = table.subarray(i * ROW, (i + 1) * ROW);
    const dv = view(row);
    row.set(MAGIC, 0);
    row[2] = p.type;
    row[3] = p.subtype;
    dv.setUint32(4, p.offset, true);
    dv.setUint32(8, p.size, true);
    row.fill(0, 12, 28);
    row.set(utf8(p.name), 12);
    dv.setUint32(28, p.flags, true);
  });
  if (options.md5) {
    const at = partitions.length * ROW;
    table.set(MD5_MAGIC, at);
    table.set(md5(table.subarray(0, at)), at + 16);
  }
  return table;
}

export interface ParsedPartitionTable {
  partitions: Partition[];
  /** Whether the table carried an MD5 row (it matched, or parsing would have failed). */
  md5: boolean;
  /** Bytes up to and including the end marker. */
  length: number;
}

/** Reads a binary table (the 0xC00-byte file or the flash sector at 0x8000). */
export function parsePartitionTable(bytes: Uint8Array): ParsedPartitionTable {
  const partitions: Partition[] = [];
  let hasMd5 = false;
  for (let at = 0; at < Math.min(bytes.length, PARTITION_TABLE_LENGTH); at += ROW) {
    if (at + ROW > bytes.length) throw new ImageError(`partition table is truncated: ${bytes.length} bytes end inside row ${at / ROW}`);
    const row = bytes.subarray(at, at + ROW);
    if (row.every((b) => b === 0xff)) return { partitions, md5: hasMd5, length: at + ROW };
    if (hasMd5) throw new ImageError(`partition table row ${at / ROW} follows the MD5 row; expected the end marker`);
    if (row[0] === MD5_MAGIC[0] && row[1] === MD5_MAGIC[1]) {
      const stored = row.subarray(16, 32);
      const computed = md5(bytes.subarray(0, at));
      if (!equalBytes(stored, computed)) {
        throw new ImageError(`partition table MD5 mismatch: stored ${toHex(stored)}, computed ${toHex(computed)}`);
      }
      hasMd5 = true;
      continue;
    }
    if (row[0] !== MAGIC[0] || row[1] !== MAGIC[1]) {
      throw new ImageError(
        `partition table row ${at / ROW} (byte ${hex(at)}) starts with ${hex(row[0]!, 2)} ${hex(row[1]!, 2)}, not the magic AA 50`,
      );
    }
    const dv = view(row);
    let name: string;
    try {
      name = cString(row.subarray(12, 28));
    } catch {
      throw new ImageError(`partition table row ${at / ROW}: label is not valid UTF-8`);
    }
    partitions.push({
      name,
      type: row[2]!,
      subtype: row[3]!,
      offset: dv.getUint32(4, true),
      size: dv.getUint32(8, true),
      flags: dv.getUint32(28, true),
    });
  }
  if (bytes.length < PARTITION_TABLE_LENGTH) {
    throw new ImageError(`partition table is truncated: ${bytes.length} bytes and no end marker`);
  }
  throw new ImageError(`partition table has no end marker within ${hex(PARTITION_TABLE_LENGTH)} bytes`);
}

// ---------------------------------------------------------------------------------------------
// CSV

function parseNumber(text: string, line: number, field: string): number {
  let t = text.trim();
  let scale = 1;
  const suffix = t.slice(-1).toLowerCase();
  if (suffix === "k" || suffix === "m") {
    scale = suffix === "k" ? 1024 : 1024 * 1024;
    t = t.slice(0, -1).trim();
  }
  // int(x, 0): decimal, 0x hex, 0o octal, 0b binary.
  const value = /^(0x[0-9a-f]+|0o[0-7]+|0b[01]+|[0-9]+)$/i.test(t) ? Number(t) * scale : NaN;
  if (!Number.isSafeInteger(value)) throw new ImageError(`partition CSV line ${line}: ${field} ${JSON.stringify(text)} is not a number`);
  return value;
}

function parseKeyword(text: string, keywords: Record<string, number>, line: number, field: string, context = ""): number {
  const known = keywords[text.toLowerCase()];
  if (known !== undefined) return known;
  if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) return Number(text);
  const list = Object.keys(keywords).join(", ");
  throw new ImageError(
    `partition CSV line ${line}: unknown ${field} ${JSON.stringify(text)}${context} (${list ? `known: ${list}, or a number` : "give a number"})`,
  );
}

/**
 * Parses the CSV form (`name, type, subtype, offset, size, flags`; `#` comments; sizes may end in
 * K or M; an empty offset follows the previous partition, aligned for its type) and validates it.
 */
export function parsePartitionCsv(text: string, options: ValidateOptions = {}): Partition[] {
  const partitions: Partition[] = [];
  let nextFree = (options.tableOffset ?? PARTITION_TABLE_OFFSET) + PARTITION_TABLE_SECTOR;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const fields = `${trimmed},,,,`.split(",").map((f) => f.trim());
    const [name, typeText, subtypeText, offsetText, sizeText, flagsText] = fields as [string, string, string, string, string, string];
    if (name === "") throw new ImageError(`partition CSV line ${line}: the name is empty`);
    if (typeText === "") throw new ImageError(`partition CSV line ${line}: partition ${JSON.stringify(name)} has no type`);
    const type = parseKeyword(typeText, PartitionType, line, "type");
    let subtype: number;
    if (subtypeText === "") {
      if (type === PartitionType.app) throw new ImageError(`partition CSV line ${line}: app partition ${JSON.stringify(name)} has no subtype`);
      subtype = SUBTYPES[PartitionType.data]!.undefined!;
    } else {
      subtype = parseKeyword(subtypeText, SUBTYPES[type] ?? {}, line, "subtype", ` for type ${typeText}`);
    }
    if (sizeText === "") throw new ImageError(`partition CSV line ${line}: partition ${JSON.stringify(name)} has no size`);
    const size = parseNumber(sizeText, line, "size");
    let offset: number;
    if (offsetText === "") {
      const align = partitionAlignment(type);
      offset = Math.ceil(nextFree / align) * align;
    } else {
      offset = parseNumber(offsetText, line, "offset");
    }
    let flags = 0;
    for (const flag of flagsText.split(":").map((f) => f.trim())) {
      if (flag === "") continue;
      const bit = FLAGS[flag];
      if (bit === undefined) throw new ImageError(`partition CSV line ${line}: unknown flag ${JSON.stringify(flag)} (known: ${Object.keys(FLAGS).join(", ")})`);
      flags |= bit;
    }
    partitions.push({ name, type, subtype, offset, size, flags });
    nextFree = offset + size;
  });
  validatePartitions(partitions, options);
  return partitions;
}

/** The CSV form of a table, with type and subtype names where they have one. */
export function partitionTableToCsv(partitions: readonly Partition[]): string {
  const rows = partitions.map((p) =>
    [p.name, partitionTypeName(p.type), partitionSubtypeName(p.type, p.subtype), hex(p.offset), hex(p.size), flagNames(p.flags).join(":")].join(", "),
  );
  return ["# ESP-IDF Partition Table", "# Name, Type, SubType, Offset, Size, Flags", ...rows].join("\n") + "\n";
}

/** The first partition of a type (and subtype, if given). */
export function findPartition(partitions: readonly Partition[], type: number, subtype?: number): Partition | undefined {
  return partitions.find((p) => p.type === type && (subtype === undefined || p.subtype === subtype));
}

/** Subtype code by name for a type (`subtypeCode("data", "nvs")` → 2). */
export function subtypeCode(type: keyof typeof PartitionType, name: string): number | undefined {
  return SUBTYPES[PartitionType[type]]?.[name];
}
