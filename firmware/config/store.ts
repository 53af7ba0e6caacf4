// The part's provisioning and machine config in flash, through Moddable's `preference` module under
// the keys of ../provisioning/keys.ts (domain "sprocket"). The config is kept as the UTF-8 bytes of
// its JSON in an ArrayBuffer, i.e. an NVS blob: a string value is limited to 3999 bytes, a blob to
// (pages − 1) × 4000 bytes of the nvs partition (20 000 with Moddable's 24 KiB partition). A
// string found under the key (written by hand) is read as well.
import Preference from "preference";
import { crc32 } from "../../proto/channel/cobs.js";
import { provisioningKeys, type ProvisioningKey } from "../provisioning/keys.js";
import { utf8Decode, utf8Encode } from "../util/utf8.js";

export interface Provisioning {
  readonly wifiSsid: string | undefined;
  readonly wifiPassword: string | undefined;
  readonly host: string | undefined;
  readonly partId: string | undefined;
  readonly partKey: string | undefined;
}

function getString(key: ProvisioningKey): string | undefined {
  try {
    const value = Preference.get(key.domain, key.key);
    if (typeof value === "string") return value;
    if (value instanceof ArrayBuffer) return utf8Decode(new Uint8Array(value));
  } catch {
    // An unreadable entry counts as absent.
  }
  return undefined;
}

export function readProvisioning(): Provisioning {
  return {
    wifiSsid: getString(provisioningKeys.wifiSsid),
    wifiPassword: getString(provisioningKeys.wifiPassword),
    host: getString(provisioningKeys.host),
    partId: getString(provisioningKeys.partId),
    partKey: getString(provisioningKeys.partKey),
  };
}

/** The stored machine config's JSON text, if any. */
export function readConfigText(): string | undefined {
  return getString(provisioningKeys.config);
}

/**
 * Stores a config's JSON text. Preference.set erases the key before writing, so when the write
 * fails (too large for the partition) the previous text is written back and the error rethrown.
 */
export function writeConfigText(text: string): void {
  const key = provisioningKeys.config;
  const bytes = utf8Encode(text);
  const previous = Preference.get(key.domain, key.key);
  try {
    Preference.set(key.domain, key.key, bytes.buffer as ArrayBuffer);
  } catch (error) {
    if (previous !== undefined) {
      try {
        Preference.set(key.domain, key.key, previous);
      } catch {
        // Nothing more can be done; the running config is unaffected.
      }
    }
    throw new Error("cannot store a config of " + bytes.length + " bytes: " + (error instanceof Error ? error.message : String(error)));
  }
}

/** A config's revision: CRC-32 of its UTF-8 text, as 8 hex digits. */
export function configRevision(text: string): string {
  const hex = crc32(utf8Encode(text)).toString(16);
  return "00000000".slice(hex.length) + hex;
}
