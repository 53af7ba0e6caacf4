// Moddable's `preference` module for Node, after modules/files/preference/esp32/modPreference.c on
// the world's NVS store: domain = namespace and key = key (15 characters at most), booleans stored
// as u8 and read back as booleans, integers (int32) as i32, other numbers refused with
// "float unsupported", strings as str (4000 bytes with the NUL), ArrayBuffers as blobs. set() erases
// the key before writing, so a failed set leaves it erased, as on the board. get() tries u8, i32,
// str, blob in that order. Error texts are Moddable's.
import { world } from "../world.js";
import type { NvsEntry } from "../nvs.js";

type Value = string | boolean | number | ArrayBuffer;

function entryOf(value: unknown): NvsEntry {
  switch (typeof value) {
    case "boolean":
      return { type: "u8", value: value ? 1 : 0 };
    case "number":
      // XS integers are int32; any other number fails the (int) round trip in modPreference.c.
      if ((value | 0) !== value) throw new Error("float unsupported");
      return { type: "i32", value: value | 0 };
    case "string":
      return { type: "str", value };
    case "object":
      if (value instanceof ArrayBuffer) return { type: "blob", value: new Uint8Array(value.slice(0)) };
  }
  throw new Error("unsupported type");
}

export default class Preference {
  static set(domain: string, key: string, value: Value): void {
    const nvs = world().nvs;
    const namespace = String(domain);
    if (nvs.open(namespace, true) !== undefined) throw new Error("nvs_open fail");
    const name = String(key);
    const entry = entryOf(value);
    nvs.erase(namespace, name); // ESP-IDF keeps a key's old type otherwise
    if (nvs.set(namespace, name, entry) !== undefined) throw new Error("nvs set fail");
  }

  static get(domain: string, key: string): Value | undefined {
    const nvs = world().nvs;
    const namespace = String(domain);
    if (nvs.open(namespace, false) !== undefined) return undefined; // most likely the domain does not exist yet
    const name = String(key);
    let found = nvs.get(namespace, name, "u8");
    if (typeof found === "string") found = nvs.get(namespace, name, "i32");
    if (typeof found === "string") found = nvs.get(namespace, name, "str");
    if (typeof found === "string") found = nvs.get(namespace, name, "blob");
    if (typeof found === "string") {
      if (found === "ESP_ERR_NVS_NOT_FOUND") return undefined;
      throw new Error("nvs get fail");
    }
    switch (found.type) {
      case "u8":
        return found.value !== 0;
      case "i32":
      case "str":
        return found.value;
      case "blob":
        return found.value.buffer.slice(found.value.byteOffset, found.value.byteOffset + found.value.byteLength) as ArrayBuffer;
    }
  }

  static delete(domain: string, key: string): void {
    const nvs = world().nvs;
    const namespace = String(domain);
    if (nvs.open(namespace, true) !== undefined) return;
    const error = nvs.erase(namespace, String(key));
    if (error !== undefined && error !== "ESP_ERR_NVS_NOT_FOUND") throw new Error("nvs erase fail");
  }

  static keys(domain: string): string[] {
    const nvs = world().nvs;
    const namespace = String(domain);
    if (nvs.open(namespace, false) !== undefined) return [];
    return nvs.keys(namespace);
  }
}
