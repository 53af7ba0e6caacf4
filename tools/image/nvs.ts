// ESP-IDF NVS partition images (format version 2, multi-page blobs): a generator that writes what
// `nvs_partition_gen.py` writes, and a parser that reads any v2 (or v1) image back and checks every
// CRC. Portable: Uint8Array/DataView only, so the flasher page uses the same code as the CLI.
//
// Layout (docs: ESP-IDF "Non-volatile storage library", format section):
//   page (4096 bytes) = header (32) + entry-state bitmap (32) + 126 entries of 32 bytes.
//   header: u32 state, u32 sequence number, u8 version (0xFE = v2), 19 × 0xFF, u32 CRC32 of bytes 4..27.
//   bitmap: 2 bits per entry, LSB first: 11 empty, 10 written, 00 erased.
//   entry: u8 namespace index, u8 type, u8 span (slots incl. this one), u8 chunk index (0xFF unless
//     blob data), u32 CRC32 of bytes 0..3 + 8..31, char key[16] (NUL-padded), u8 data[8].
//   Namespaces are u8 entries in namespace 0: key = namespace name, data[0] = its index (1…254).
//   Strings: data = u16 size incl. NUL, u16 0xFFFF, u32 CRC32 of the bytes; the bytes fill the next
//     span-1 slots (0xFF-padded) on the same page.
//   Blobs (v2): data chunks (type 0x42, chunk index = chunkStart + n, same data layout as strings),
//     each filling at most the rest of a page, then an index entry (type 0x48: u32 total size,
//     u8 chunk count, u8 chunk start, u16 0xFFFF).
// All CRCs are `esp_rom_crc32_le(0xFFFFFFFF, …)` (see crc32.ts).
import { ImageError, concatBytes, fromUtf8, hex, utf8, view } from "./bytes.js";
import { nvsCrc32 } from "./crc32.js";

export const NVS_PAGE_SIZE = 4096;
/** Moddable's (and ESP-IDF's default) `nvs` partition size. */
export const NVS_DEFAULT_SIZE = 0x6000;
/** A read/write NVS partition needs three pages: data, a spare for garbage collection, and one more. */
export const NVS_MIN_PAGES = 3;
export const NVS_MAX_KEY_LENGTH = 15;
/** Strings, with their terminating NUL, live in one page's 125 data slots. */
export const NVS_MAX_STRING_BYTES = 4000;

const ENTRY_SIZE = 32;
const ENTRIES_PER_PAGE = 126;
const BITMAP_OFFSET = 32;
const FIRST_ENTRY_OFFSET = 64;
const CHUNK_ANY = 0xff;
/** v2 blob index entries name their chunks from chunkStart 0 (or 0x80 after a runtime rewrite). */
const CHUNK_VERSION_SPAN = 0x80;
/** ESP-IDF starts a blob on a fresh page rather than begin it with a chunk smaller than this. */
const MIN_FIRST_CHUNK = 400;

const PageState = {
  empty: 0xffffffff,
  active: 0xfffffffe,
  full: 0xfffffffc,
  freeing: 0xfffffff8,
  corrupt: 0xfffffff0,
} as const;
const VERSION2 = 0xfe;
const VERSION1 = 0xff;

/** Entry states in the bitmap: 0b11 empty, 0b10 written, 0b00 erased. */
const ENTRY_WRITTEN = 0b10;

/** NVS item type codes. */
export const NvsItemType = {
  u8: 0x01,
  i8: 0x11,
  u16: 0x02,
  i16: 0x12,
  u32: 0x04,
  i32: 0x14,
  u64: 0x08,
  i64: 0x18,
  str: 0x21,
  blobV1: 0x41,
  blobData: 0x42,
  blobIndex: 0x48,
} as const;

export type NvsNumberType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32";
export type NvsBigIntType = "u64" | "i64";
export type NvsType = NvsNumberType | NvsBigIntType | "str" | "blob";

interface NvsKeyed {
  namespace: string;
  key: string;
}
export type NvsEntry = NvsKeyed &
  (
    | { type: NvsNumberType; value: number }
    | { type: NvsBigIntType; value: bigint }
    | { type: "str"; value: string }
    | { type: "blob"; value: Uint8Array }
  );

const INTEGER_TYPES: Record<NvsNumberType | NvsBigIntType, { size: number; signed: boolean }> = {
  u8: { size: 1, signed: false },
  i8: { size: 1, signed: true },
  u16: { size: 2, signed: false },
  i16: { size: 2, signed: true },
  u32: { size: 4, signed: false },
  i32: { size: 4, signed: true },
  u64: { size: 8, signed: false },
  i64: { size: 8, signed: true },
};

function integerRange(type: NvsNumberType | NvsBigIntType): [bigint, bigint] {
  const { size, signed } = INTEGER_TYPES[type];
  const bits = BigInt(size * 8);
  return signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
}

// ---------------------------------------------------------------------------------------------
// Generator

export interface BuildNvsOptions {
  /** Partition size in bytes: a multiple of 4096, at least three pages. Default 0x6000. */
  size?: number;
}

/** Checks a partition size; returns its page count. */
export function checkNvsSize(size: number): number {
  if (!Number.isInteger(size) || size <= 0 || size % NVS_PAGE_SIZE !== 0) {
    throw new ImageError(`NVS partition size ${Number.isInteger(size) ? hex(size) : size} is not a multiple of 4096 (one page)`);
  }
  if (size < NVS_MIN_PAGES * NVS_PAGE_SIZE) {
    throw new ImageError(
      `NVS partition size ${hex(size)} is too small: a read/write NVS partition needs at least ${NVS_MIN_PAGES} pages (${hex(NVS_MIN_PAGES * NVS_PAGE_SIZE)})`,
    );
  }
  return size / NVS_PAGE_SIZE;
}

function checkName(what: "key" | "namespace", name: string, where: string): void {
  const bytes = utf8(name).length;
  if (bytes === 0) throw new ImageError(`NVS ${what} ${where}is empty`);
  if (name.includes("\0")) throw new ImageError(`NVS ${what} ${JSON.stringify(name)} contains a NUL character`);
  if (bytes > NVS_MAX_KEY_LENGTH) {
    const unit = bytes === name.length ? "characters" : "bytes";
    throw new ImageError(
      `NVS ${what} ${JSON.stringify(name)} is too long: ${bytes} ${unit}, the limit is ${NVS_MAX_KEY_LENGTH}`,
    );
  }
}

/** Checks one entry as `buildNvs` would; throws an ImageError naming the key. */
export function checkNvsEntry(entry: NvsEntry): void {
  checkName("namespace", entry.namespace, `of key ${JSON.stringify(entry.key)} `);
  checkName("key", entry.key, `in namespace ${JSON.stringify(entry.namespace)} `);
  const name = JSON.stringify(entry.key);
  switch (entry.type) {
    case "str": {
      if (typeof entry.value !== "string") throw new ImageError(`NVS value for key ${name} (str) must be a string`);
      if (entry.value.includes("\0")) throw new ImageError(`NVS string ${name} contains a NUL character`);
      const size = utf8(entry.value).length + 1;
      if (size > NVS_MAX_STRING_BYTES) {
        throw new ImageError(
          `NVS string ${name} is ${size} bytes with its terminating NUL; the limit is ${NVS_MAX_STRING_BYTES} (store larger values as a blob)`,
        );
      }
      return;
    }
    case "blob":
      if (!(entry.value instanceof Uint8Array)) throw new ImageError(`NVS value for key ${name} (blob) must be bytes`);
      return;
    default: {
      const spec = INTEGER_TYPES[entry.type];
      if (spec === undefined) throw new ImageError(`NVS key ${name} has unknown type ${JSON.stringify(entry.type)}`);
      const [min, max] = integerRange(entry.type);
      const value = entry.value;
      const ok =
        spec.size === 8
          ? typeof value === "bigint" && value >= min && value <= max
          : typeof value === "number" && Number.isInteger(value) && value >= Number(min) && value <= Number(max);
      if (!ok) {
        throw new ImageError(
          `NVS value for key ${name} (${entry.type}) must be ${spec.size === 8 ? "a bigint" : "an integer"} from ${min} to ${max}, got ${String(value)}`,
        );
      }
    }
  }
}

class NvsWriter {
  readonly pages: Uint8Array[] = [];
  private page!: Uint8Array;
  private next = 0;

  constructor() {
    this.newPage();
  }

  newPage(): void {
    if (this.page !== undefined) view(this.page).setUint32(0, PageState.full, true);
    const page = new Uint8Array(NVS_PAGE_SIZE).fill(0xff);
    const dv = view(page);
    dv.setUint32(0, PageState.active, true);
    dv.setUint32(4, this.pages.length, true);
    page[8] = VERSION2;
    dv.setUint32(28, nvsCrc32(page.subarray(4, 28)), true);
    this.pages.push(page);
    this.page = page;
    this.next = 0;
  }

  get freeSlots(): number {
    return ENTRIES_PER_PAGE - this.next;
  }

  /** Writes a header entry (its CRC filled in here) and, for variable-length items, its data slots. */
  write(header: Uint8Array, data?: Uint8Array): void {
    view(header).setUint32(4, entryCrc(header), true);
    this.put(header);
    if (data !== undefined) {
      for (let at = 0; at < data.length; at += ENTRY_SIZE) {
        const slot = new Uint8Array(ENTRY_SIZE).fill(0xff);
        slot.set(data.subarray(at, at + ENTRY_SIZE));
        this.put(slot);
      }
    }
  }

  private put(slot: Uint8Array): void {
    const i = this.next++;
    this.page.set(slot, FIRST_ENTRY_OFFSET + i * ENTRY_SIZE);
    // 11 (empty) → 10 (written): clear the low bit of the entry's pair.
    this.page[BITMAP_OFFSET + (i >> 2)]! &= ~(1 << ((i & 3) * 2));
  }
}

function entryCrc(entry: Uint8Array): number {
  return nvsCrc32(concatBytes([entry.subarray(0, 4), entry.subarray(8, 32)]));
}

function entryHeader(ns: number, type: number, span: number, chunkIndex: number, key: string): Uint8Array {
  const e = new Uint8Array(ENTRY_SIZE).fill(0xff);
  e[0] = ns;
  e[1] = type;
  e[2] = span;
  e[3] = chunkIndex;
  e.fill(0, 8, 24);
  e.set(utf8(key), 8);
  return e;
}

function spanOf(dataBytes: number): number {
  return 1 + Math.ceil(dataBytes / ENTRY_SIZE);
}

function writeInteger(w: NvsWriter, ns: number, key: string, type: NvsNumberType | NvsBigIntType, value: number | bigint): void {
  if (w.freeSlots < 1) w.newPage();
  const e = entryHeader(ns, NvsItemType[type], 1, CHUNK_ANY, key);
  const dv = view(e);
  switch (type) {
    case "u8":
    case "i8":
      e[24] = Number(value) & 0xff;
      break;
    case "u16":
    case "i16":
      dv.setUint16(24, Number(value) & 0xffff, true);
      break;
    case "u32":
    case "i32":
      dv.setUint32(24, Number(value) >>> 0, true);
      break;
    case "u64":
    case "i64":
      dv.setBigUint64(24, BigInt.asUintN(64, BigInt(value)), true);
      break;
  }
  w.write(e);
}

function varLengthHeader(ns: number, type: number, chunkIndex: number, key: string, data: Uint8Array): Uint8Array {
  const e = entryHeader(ns, type, spanOf(data.length), chunkIndex, key);
  const dv = view(e);
  dv.setUint16(24, data.length, true);
  dv.setUint16(26, 0xffff, true);
  dv.setUint32(28, nvsCrc32(data), true);
  return e;
}

function writeString(w: NvsWriter, ns: number, key: string, value: string): void {
  const data = concatBytes([utf8(value), new Uint8Array(1)]);
  if (w.freeSlots < spanOf(data.length)) w.newPage();
  w.write(varLengthHeader(ns, NvsItemType.str, CHUNK_ANY, key, data), data);
}

function writeBlob(w: NvsWriter, ns: number, key: string, value: Uint8Array): void {
  // As ESP-IDF's Storage::writeMultiPageBlob: each chunk takes the data room left on the current
  // page; the first chunk moves to a fresh page rather than start as a sliver.
  let offset = 0;
  let chunks = 0;
  for (;;) {
    const tailroom = Math.max(0, w.freeSlots - 1) * ENTRY_SIZE;
    const remaining = value.length - offset;
    if (tailroom === 0 || (chunks === 0 && tailroom < remaining && tailroom < MIN_FIRST_CHUNK)) {
      w.newPage();
      continue;
    }
    if (chunks >= CHUNK_VERSION_SPAN) {
      throw new ImageError(`NVS blob ${JSON.stringify(key)} is too large: ${value.length} bytes need more than ${CHUNK_VERSION_SPAN} chunks`);
    }
    const size = Math.min(tailroom, remaining);
    const chunk = value.subarray(offset, offset + size);
    w.write(varLengthHeader(ns, NvsItemType.blobData, chunks, key, chunk), chunk);
    offset += size;
    chunks++;
    if (offset < value.length || tailroom - size < ENTRY_SIZE) w.newPage();
    if (offset === value.length) break;
  }
  if (w.freeSlots < 1) w.newPage();
  const index = entryHeader(ns, NvsItemType.blobIndex, 1, CHUNK_ANY, key);
  const dv = view(index);
  dv.setUint32(24, value.length, true);
  index[28] = chunks;
  index[29] = 0; // chunk start: version 0
  w.write(index);
}

/**
 * Builds an NVS partition image holding `entries`, in order. Each namespace is defined (with the
 * next free index) just before its first key. Pages are filled as ESP-IDF's generator fills them;
 * the used pages are FULL except the last, which stays ACTIVE, and the rest of the partition is
 * erased (0xFF) — at least one page always stays empty, as the runtime needs.
 */
export function buildNvs(entries: readonly NvsEntry[], options: BuildNvsOptions = {}): Uint8Array {
  const size = options.size ?? NVS_DEFAULT_SIZE;
  const pageCount = checkNvsSize(size);
  const seen = new Set<string>();
  for (const entry of entries) {
    checkNvsEntry(entry);
    const id = `${entry.namespace}\0${entry.key}`;
    if (seen.has(id)) {
      throw new ImageError(`NVS key ${JSON.stringify(entry.key)} appears twice in namespace ${JSON.stringify(entry.namespace)}`);
    }
    seen.add(id);
  }

  const w = new NvsWriter();
  const namespaces = new Map<string, number>();
  for (const entry of entries) {
    let ns = namespaces.get(entry.namespace);
    if (ns === undefined) {
      ns = namespaces.size + 1;
      if (ns > 254) throw new ImageError(`NVS images hold at most 254 namespaces; ${JSON.stringify(entry.namespace)} would be the 255th`);
      namespaces.set(entry.namespace, ns);
      writeInteger(w, 0, entry.namespace, "u8", ns);
    }
    switch (entry.type) {
      case "str":
        writeString(w, ns, entry.key, entry.value);
        break;
      case "blob":
        writeBlob(w, ns, entry.key, entry.value);
        break;
      default:
        writeInteger(w, ns, entry.key, entry.type, entry.value);
    }
  }

  if (w.pages.length > pageCount - 1) {
    throw new ImageError(
      `NVS data needs ${w.pages.length} pages but a ${hex(size)}-byte partition leaves ${pageCount - 1} for data (one page stays empty)`,
    );
  }
  const image = new Uint8Array(size).fill(0xff);
  w.pages.forEach((page, i) => image.set(page, i * NVS_PAGE_SIZE));
  return image;
}

// ---------------------------------------------------------------------------------------------
// Parser

export interface NvsPageInfo {
  /** Position of the page in the image. */
  index: number;
  state: "empty" | "active" | "full" | "freeing";
  /** Sequence number (absent for empty pages). */
  seq?: number;
  /** Entry slots marked written. */
  usedSlots: number;
}

export interface NvsContents {
  /** Namespace name → index. */
  namespaces: Map<string, number>;
  /** The live entries, the latest write of each key winning, in the order they were written. */
  entries: NvsEntry[];
  pages: NvsPageInfo[];
}

interface RawItem {
  where: string;
  ns: number;
  type: number;
  chunkIndex: number;
  key: string;
  header: Uint8Array;
  data?: Uint8Array;
}

const STATE_NAMES = new Map<number, NvsPageInfo["state"]>([
  [PageState.empty, "empty"],
  [PageState.active, "active"],
  [PageState.full, "full"],
  [PageState.freeing, "freeing"],
]);

function readPage(image: Uint8Array, index: number, items: RawItem[]): NvsPageInfo {
  const page = image.subarray(index * NVS_PAGE_SIZE, (index + 1) * NVS_PAGE_SIZE);
  const dv = view(page);
  const rawState = dv.getUint32(0, true);
  const state = STATE_NAMES.get(rawState);
  if (state === undefined) {
    const what = rawState === PageState.corrupt ? "is marked corrupt" : `has an unknown state ${hex(rawState, 8)}`;
    throw new ImageError(`NVS page ${index} ${what}`);
  }
  if (state === "empty") return { index, state, usedSlots: 0 };

  const storedCrc = dv.getUint32(28, true);
  const crc = nvsCrc32(page.subarray(4, 28));
  if (storedCrc !== crc) {
    throw new ImageError(`NVS page ${index}: header CRC is ${hex(storedCrc, 8)}, computed ${hex(crc, 8)}`);
  }
  const version = page[8]!;
  if (version !== VERSION2 && version !== VERSION1) {
    throw new ImageError(`NVS page ${index}: unknown format version ${hex(version, 2)}`);
  }
  const seq = dv.getUint32(4, true);

  const slotState = (i: number) => (page[BITMAP_OFFSET + (i >> 2)]! >> ((i & 3) * 2)) & 3;
  let usedSlots = 0;
  for (let i = 0; i < ENTRIES_PER_PAGE; ) {
    if (slotState(i) !== ENTRY_WRITTEN) {
      i++;
      continue;
    }
    const where = `NVS page ${index} entry ${i}`;
    const header = page.subarray(FIRST_ENTRY_OFFSET + i * ENTRY_SIZE, FIRST_ENTRY_OFFSET + (i + 1) * ENTRY_SIZE);
    const hv = view(header);
    let key: string;
    try {
      const keyField = header.subarray(8, 24);
      const end = keyField.indexOf(0);
      key = fromUtf8(keyField.subarray(0, end < 0 ? 16 : end));
    } catch {
      throw new ImageError(`${where}: key is not valid UTF-8`);
    }
    const named = `${where} (key ${JSON.stringify(key)})`;
    const storedEntryCrc = hv.getUint32(4, true);
    const entryCrcValue = entryCrc(header);
    if (storedEntryCrc !== entryCrcValue) {
      throw new ImageError(`${named}: entry CRC is ${hex(storedEntryCrc, 8)}, computed ${hex(entryCrcValue, 8)}`);
    }
    const type = header[1]!;
    const span = header[2]!;
    if (span < 1 || i + span > ENTRIES_PER_PAGE) {
      throw new ImageError(`${named}: span ${span} runs past the end of the page`);
    }
    const item: RawItem = { where: named, ns: header[0]!, type, chunkIndex: header[3]!, key, header };
    if (type === NvsItemType.str || type === NvsItemType.blobV1 || type === NvsItemType.blobData) {
      const size = hv.getUint16(24, true);
      if (spanOf(size) !== span) {
        throw new ImageError(`${named}: span ${span} does not match its ${size}-byte value`);
      }
      const start = FIRST_ENTRY_OFFSET + (i + 1) * ENTRY_SIZE;
      const data = page.subarray(start, start + size);
      const storedDataCrc = hv.getUint32(28, true);
      const dataCrc = nvsCrc32(data);
      if (storedDataCrc !== dataCrc) {
        throw new ImageError(`${named}: data CRC is ${hex(storedDataCrc, 8)}, computed ${hex(dataCrc, 8)}`);
      }
      item.data = data;
    }
    items.push(item);
    usedSlots += span;
    i += span;
  }
  return { index, state, seq, usedSlots };
}

function decodeItem(item: RawItem, namespace: string): NvsEntry {
  const { key, header, type } = item;
  const dv = view(header);
  switch (type) {
    case NvsItemType.u8:
      return { namespace, key, type: "u8", value: header[24]! };
    case NvsItemType.i8:
      return { namespace, key, type: "i8", value: dv.getInt8(24) };
    case NvsItemType.u16:
      return { namespace, key, type: "u16", value: dv.getUint16(24, true) };
    case NvsItemType.i16:
      return { namespace, key, type: "i16", value: dv.getInt16(24, true) };
    case NvsItemType.u32:
      return { namespace, key, type: "u32", value: dv.getUint32(24, true) };
    case NvsItemType.i32:
      return { namespace, key, type: "i32", value: dv.getInt32(24, true) };
    case NvsItemType.u64:
      return { namespace, key, type: "u64", value: dv.getBigUint64(24, true) };
    case NvsItemType.i64:
      return { namespace, key, type: "i64", value: dv.getBigInt64(24, true) };
    case NvsItemType.str: {
      const data = item.data!;
      const text = data[data.length - 1] === 0 ? data.subarray(0, data.length - 1) : data;
      try {
        return { namespace, key, type: "str", value: fromUtf8(text) };
      } catch {
        throw new ImageError(`${item.where}: string is not valid UTF-8`);
      }
    }
    case NvsItemType.blobV1:
      return { namespace, key, type: "blob", value: item.data!.slice() };
    default:
      throw new ImageError(`${item.where}: unknown item type ${hex(type, 2)}`);
  }
}

/**
 * Reads an NVS partition image: every page header, entry and data CRC is checked (a mismatch is an
 * ImageError naming the page and entry), namespaces are resolved and multi-page blobs reassembled.
 */
export function parseNvs(image: Uint8Array): NvsContents {
  if (image.length === 0 || image.length % NVS_PAGE_SIZE !== 0) {
    throw new ImageError(`NVS image is ${image.length} bytes, not a whole number of 4096-byte pages`);
  }
  const pages: NvsPageInfo[] = [];
  const pageItems: { seq: number; items: RawItem[] }[] = [];
  for (let p = 0; p < image.length / NVS_PAGE_SIZE; p++) {
    const items: RawItem[] = [];
    const info = readPage(image, p, items);
    pages.push(info);
    if (info.seq !== undefined) pageItems.push({ seq: info.seq, items });
  }
  // The runtime orders pages by sequence number; later writes of a key replace earlier ones.
  pageItems.sort((a, b) => a.seq - b.seq);
  const items = pageItems.flatMap((p) => p.items);

  const namespaces = new Map<string, number>();
  const nsNames = new Map<number, string>();
  for (const item of items) {
    if (item.ns !== 0) continue;
    if (item.type !== NvsItemType.u8) throw new ImageError(`${item.where}: namespace entries must be u8, found type ${hex(item.type, 2)}`);
    const index = item.header[24]!;
    namespaces.set(item.key, index);
    nsNames.set(index, item.key);
  }

  const chunks = new Map<string, RawItem>();
  const live = new Map<string, NvsEntry>();
  for (const item of items) {
    if (item.ns === 0) continue;
    const namespace = nsNames.get(item.ns);
    if (namespace === undefined) {
      throw new ImageError(`${item.where}: namespace index ${item.ns} is not defined by any namespace entry`);
    }
    const id = `${namespace}\0${item.key}`;
    if (item.type === NvsItemType.blobData) {
      chunks.set(`${id}\0${item.chunkIndex}`, item); // assembled through its index entry
      continue;
    }
    const entry: NvsEntry =
      item.type === NvsItemType.blobIndex
        ? { namespace, key: item.key, type: "blob", value: assembleBlob(item, id, chunks) }
        : decodeItem(item, namespace);
    live.delete(id);
    live.set(id, entry);
  }
  return { namespaces, entries: [...live.values()], pages };
}

function assembleBlob(index: RawItem, id: string, chunks: Map<string, RawItem>): Uint8Array {
  const dv = view(index.header);
  const size = dv.getUint32(24, true);
  const count = index.header[28]!;
  const start = index.header[29]!;
  const parts: Uint8Array[] = [];
  for (let n = 0; n < count; n++) {
    const chunk = chunks.get(`${id}\0${start + n}`);
    if (chunk === undefined) {
      throw new ImageError(`${index.where}: blob chunk ${start + n} (${n + 1} of ${count}) is missing`);
    }
    parts.push(chunk.data!);
  }
  const value = concatBytes(parts);
  if (value.length !== size) {
    throw new ImageError(`${index.where}: blob chunks hold ${value.length} bytes but the index says ${size}`);
  }
  return value;
}
