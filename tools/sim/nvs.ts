// The NVS key/value store of a simulated chip, with ESP-IDF's typed entries and limits:
// namespace and key names of at most 15 characters (NVS_KEY_NAME_MAX_SIZE 16 with the NUL), strings
// of at most 4000 bytes including their NUL (one page's variable-length area), blobs spread over at
// most (pages − 1) pages of 4000 bytes (nvs_storage.cpp writeMultiPageBlob). Typed reads find only
// entries of their type, as nvs_get_u8/i32/str/blob do. Space on the pages is not modelled.
import { NVS_MAX_KEY_LENGTH, NVS_MAX_STRING_BYTES } from "../image/nvs.js";

export type NvsEntry =
  | { type: "u8"; value: number }
  | { type: "i32"; value: number }
  | { type: "str"; value: string }
  | { type: "blob"; value: Uint8Array };

export type NvsType = NvsEntry["type"];

export type NvsError = "ESP_ERR_NVS_NOT_FOUND" | "ESP_ERR_NVS_KEY_TOO_LONG" | "ESP_ERR_NVS_INVALID_NAME" | "ESP_ERR_NVS_VALUE_TOO_LONG";

// The limits are the NVS image tools' (one definition for the flasher and the simulated chip).
const NVS_KEY_MAX = NVS_MAX_KEY_LENGTH;
const NVS_STR_MAX = NVS_MAX_STRING_BYTES;
/** A blob chunk fills at most one page's variable-length area, as a string does. */
const CHUNK_MAX = NVS_MAX_STRING_BYTES;
const PAGE_BYTES = 4096;

export interface NvsOptions {
  /** Size of the nvs partition; Moddable's default partition table gives 0x6000. */
  partitionBytes?: number;
}

function nameError(name: string): NvsError | undefined {
  if (name.length === 0) return "ESP_ERR_NVS_INVALID_NAME";
  if (new TextEncoder().encode(name).length > NVS_KEY_MAX) return "ESP_ERR_NVS_KEY_TOO_LONG";
  return undefined;
}

export class NvsStore {
  readonly pages: number;
  /** Items of each namespace in storage order. */
  readonly #namespaces = new Map<string, { key: string; entry: NvsEntry }[]>();

  constructor(options: NvsOptions = {}) {
    this.pages = Math.floor((options.partitionBytes ?? 0x6000) / PAGE_BYTES);
  }

  /** The largest blob nvs_set_blob accepts on this partition. */
  get blobMax(): number {
    return Math.min(this.pages - 1, 127) * CHUNK_MAX;
  }

  /** nvs_open: an error for a bad name; read-only opens of an absent namespace fail NOT_FOUND. */
  open(namespace: string, readWrite: boolean): NvsError | undefined {
    const error = nameError(namespace);
    if (error !== undefined) return error;
    if (this.#namespaces.has(namespace)) return undefined;
    if (!readWrite) return "ESP_ERR_NVS_NOT_FOUND";
    this.#namespaces.set(namespace, []);
    return undefined;
  }

  /** nvs_set_*: replaces the key's item of the same type; the caller opened the namespace. */
  set(namespace: string, key: string, entry: NvsEntry): NvsError | undefined {
    const items = this.#namespaces.get(namespace);
    if (items === undefined) return "ESP_ERR_NVS_NOT_FOUND";
    const error = nameError(key);
    if (error !== undefined) return error;
    if (entry.type === "str" && new TextEncoder().encode(entry.value).length + 1 > NVS_STR_MAX) return "ESP_ERR_NVS_VALUE_TOO_LONG";
    if (entry.type === "blob" && entry.value.length > this.blobMax) return "ESP_ERR_NVS_VALUE_TOO_LONG";
    const index = items.findIndex((item) => item.key === key && item.entry.type === entry.type);
    if (index >= 0) items.splice(index, 1); // the new item is written at the end, the old one erased
    items.push({ key, entry: copy(entry) });
    return undefined;
  }

  /** nvs_get_<type>: the key's item of that type. */
  get(namespace: string, key: string, type: NvsType): NvsEntry | NvsError {
    const error = nameError(key);
    if (error !== undefined) return error;
    const item = this.#namespaces.get(namespace)?.find((candidate) => candidate.key === key && candidate.entry.type === type);
    return item === undefined ? "ESP_ERR_NVS_NOT_FOUND" : copy(item.entry);
  }

  /** nvs_erase_key: removes the key's first item, whatever its type. */
  erase(namespace: string, key: string): NvsError | undefined {
    const error = nameError(key);
    if (error !== undefined) return error;
    const items = this.#namespaces.get(namespace);
    const index = items?.findIndex((item) => item.key === key) ?? -1;
    if (items === undefined || index < 0) return "ESP_ERR_NVS_NOT_FOUND";
    items.splice(index, 1);
    return undefined;
  }

  /** Keys of a namespace's items in storage order (nvs_entry_find over the namespace). */
  keys(namespace: string): string[] {
    return (this.#namespaces.get(namespace) ?? []).map((item) => item.key);
  }

  namespaces(): string[] {
    return [...this.#namespaces.keys()];
  }

  /** Every item, for tools that lay the store out as an NVS partition image. */
  *entries(): IterableIterator<{ namespace: string; key: string; entry: NvsEntry }> {
    for (const [namespace, items] of this.#namespaces) {
      for (const { key, entry } of items) yield { namespace, key, entry: copy(entry) };
    }
  }
}

function copy(entry: NvsEntry): NvsEntry {
  return entry.type === "blob" ? { type: "blob", value: entry.value.slice() } : { ...entry };
}
