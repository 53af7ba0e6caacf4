// Readers for the attribute maps of built-in models: each checks one attribute and throws an Error
// naming it (`attribute pins.a must be ...`), which the machine shows as the validation error.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";

function describe(v: JsonValue | undefined): string {
  return JSON.stringify(v) ?? "undefined";
}

function absent(v: JsonValue | undefined): v is undefined | null {
  return v === undefined || v === null;
}

/** A non-empty string; undefined when absent or "". */
export function optionalString(attributes: JsonObject, key: string, path = key): string | undefined {
  const v = attributes[key];
  if (absent(v) || v === "") return undefined;
  if (typeof v !== "string") throw new Error(`attribute ${path} must be a string, got ${describe(v)}`);
  return v;
}

export function requiredString(attributes: JsonObject, key: string, path = key): string {
  const v = optionalString(attributes, key, path);
  if (v === undefined) throw new Error(`attribute ${path} is required`);
  return v;
}

/** A pin: a name, or a GPIO number as micro configs write it (turned into its decimal name). */
export function optionalPin(attributes: JsonObject, key: string, path = key): string | undefined {
  const v = attributes[key];
  if (absent(v) || v === "") return undefined;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return String(v);
  if (typeof v !== "string") throw new Error(`attribute ${path} must be a pin name or number, got ${describe(v)}`);
  return v;
}

export function requiredPin(attributes: JsonObject, key: string, path = key): string {
  const v = optionalPin(attributes, key, path);
  if (v === undefined) throw new Error(`attribute ${path} is required`);
  return v;
}

export function optionalNumber(attributes: JsonObject, key: string, path = key): number | undefined {
  const v = attributes[key];
  if (absent(v)) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`attribute ${path} must be a number, got ${describe(v)}`);
  return v;
}

export function optionalInteger(attributes: JsonObject, key: string, path = key): number | undefined {
  const v = optionalNumber(attributes, key, path);
  if (v !== undefined && !Number.isInteger(v)) throw new Error(`attribute ${path} must be a whole number, got ${v}`);
  return v;
}

export function optionalBoolean(attributes: JsonObject, key: string, path = key): boolean | undefined {
  const v = attributes[key];
  if (absent(v)) return undefined;
  if (typeof v !== "boolean") throw new Error(`attribute ${path} must be true or false, got ${describe(v)}`);
  return v;
}

/** A nested object such as `pins`; an empty object when absent. */
export function optionalObject(attributes: JsonObject, key: string, path = key): JsonObject {
  const v = attributes[key];
  if (absent(v)) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw new Error(`attribute ${path} must be an object, got ${describe(v)}`);
  return v;
}

/** A list of non-empty strings (resource names); an empty list when absent. */
export function stringList(attributes: JsonObject, key: string, path = key): string[] {
  const v = attributes[key];
  if (absent(v)) return [];
  if (!Array.isArray(v)) throw new Error(`attribute ${path} must be a list of names, got ${describe(v)}`);
  return v.map((item, i) => {
    if (typeof item !== "string" || item === "") throw new Error(`attribute ${path}.${i} must be a non-empty name, got ${describe(item)}`);
    return item;
  });
}
