// Provisioning values ⇄ NVS entries, using the key definitions the firmware reads
// (firmware/provisioning/keys.ts). Portable: used by `sprocket nvs` and the flasher page.
import {
  preferenceNvsType,
  provisioningKeys,
  type PreferenceValueType,
  type ProvisioningKey,
  type ProvisioningKeyName,
} from "../../firmware/provisioning/keys.js";
import { ImageError, utf8 } from "./bytes.js";
import type { NvsEntry } from "./nvs.js";

type ValueOf<T extends PreferenceValueType> = T extends "string"
  ? string
  : T extends "arraybuffer"
    ? Uint8Array
    : T extends "integer"
      ? number
      : boolean;

/** What a board is provisioned with; absent values are not written. */
export type ProvisioningValues = {
  [K in ProvisioningKeyName]?: ValueOf<(typeof provisioningKeys)[K]["type"]>;
};

const names = Object.keys(provisioningKeys) as ProvisioningKeyName[];

/** The definition behind an NVS namespace/key, if it is a provisioning key. */
export function provisioningKeyFor(namespace: string, key: string): ProvisioningKey | undefined {
  return Object.values(provisioningKeys).find((d) => d.domain === namespace && d.key === key);
}

function toEntry(def: ProvisioningKey, value: unknown): NvsEntry {
  const { domain: namespace, key } = def;
  const wrongType = () => new ImageError(`provisioning value ${JSON.stringify(key)} must be ${def.type === "arraybuffer" ? "bytes" : `a ${def.type}`}`);
  switch (def.type) {
    case "string": {
      if (typeof value !== "string") throw wrongType();
      const bytes = utf8(value).length;
      if (def.maxBytes !== undefined && bytes > def.maxBytes) {
        throw new ImageError(`provisioning value ${JSON.stringify(key)} is ${bytes} bytes; the limit is ${def.maxBytes}`);
      }
      return { namespace, key, type: preferenceNvsType.string, value };
    }
    case "arraybuffer":
      if (!(value instanceof Uint8Array)) throw wrongType();
      if (def.maxBytes !== undefined && value.length > def.maxBytes) {
        throw new ImageError(`provisioning value ${JSON.stringify(key)} is ${value.length} bytes; the limit is ${def.maxBytes}`);
      }
      return { namespace, key, type: preferenceNvsType.arraybuffer, value };
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) throw wrongType();
      return { namespace, key, type: preferenceNvsType.integer, value };
    case "boolean":
      if (typeof value !== "boolean") throw wrongType();
      return { namespace, key, type: preferenceNvsType.boolean, value: value ? 1 : 0 };
  }
}

/** NVS entries for the given values, typed as Moddable's `Preference.set` would write them. */
export function provisioningEntries(values: ProvisioningValues): NvsEntry[] {
  return names.filter((n) => values[n] !== undefined).map((n) => toEntry(provisioningKeys[n], values[n]));
}

/**
 * The provisioning values in parsed NVS entries. A provisioning key stored with another NVS type
 * than the firmware expects is an error (the firmware would read it as the wrong JavaScript type).
 */
export function readProvisioning(entries: readonly NvsEntry[]): ProvisioningValues {
  const values: Record<string, unknown> = {};
  for (const name of names) {
    const def: ProvisioningKey = provisioningKeys[name];
    const entry = entries.find((e) => e.namespace === def.domain && e.key === def.key);
    if (entry === undefined) continue;
    const expected = preferenceNvsType[def.type];
    if (entry.type !== expected) {
      throw new ImageError(`NVS key ${JSON.stringify(def.key)} is stored as ${entry.type}, but the firmware reads it as ${expected}`);
    }
    values[name] = def.type === "boolean" ? entry.value !== 0 : entry.value;
  }
  return values as ProvisioningValues;
}

/** A machine config as the `config` blob: compact UTF-8 JSON. */
export function configBlob(config: unknown): Uint8Array {
  return utf8(JSON.stringify(config));
}
