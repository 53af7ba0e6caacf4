// Reading attributes out of a component's JSON with clear errors. A ConfigError's text names the
// path of the offending value ("components[2] (m1): attribute pins.pwm must be an integer"), and
// becomes INVALID_ARGUMENT when it comes from ConfigService.SetConfig.
import type { JsonObject, JsonValue } from "../../proto/micro/runtime.js";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Typed, path-aware access to one JSON object. */
export class Attributes {
  readonly raw: JsonObject;
  readonly path: string;

  constructor(raw: JsonObject, path = "attribute ") {
    this.raw = raw;
    this.path = path;
  }

  fail(key: string, problem: string): never {
    throw new ConfigError(this.path + key + " " + problem);
  }

  has(key: string): boolean {
    const v = this.raw[key];
    return v !== undefined && v !== null;
  }

  number(key: string, fallback?: number, range?: { min?: number; max?: number; integer?: boolean }): number {
    const v = this.raw[key];
    if (v === undefined || v === null) {
      if (fallback === undefined) this.fail(key, "is required");
      return fallback;
    }
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(key, "must be a number, not " + JSON.stringify(v));
    if (range?.integer && !Number.isInteger(v)) this.fail(key, "must be an integer, not " + v);
    if (range?.min !== undefined && v < range.min) this.fail(key, "must be at least " + range.min + ", not " + v);
    if (range?.max !== undefined && v > range.max) this.fail(key, "must be at most " + range.max + ", not " + v);
    return v;
  }

  optionalNumber(key: string, range?: { min?: number; max?: number; integer?: boolean }): number | undefined {
    return this.has(key) ? this.number(key, undefined, range) : undefined;
  }

  integer(key: string, fallback?: number, range?: { min?: number; max?: number }): number {
    return this.number(key, fallback, { ...range, integer: true });
  }

  /** A GPIO number (an integer 0…63); micro-rdk configs give pins as numbers, rdk ones as strings. */
  pin(key: string, fallback?: number): number {
    const v = this.raw[key];
    if (typeof v === "string" && /^[0-9]+$/.test(v)) return Number(v);
    return this.integer(key, fallback, { min: 0, max: 63 });
  }

  optionalPin(key: string): number | undefined {
    return this.has(key) ? this.pin(key) : undefined;
  }

  string(key: string, fallback?: string): string {
    const v = this.raw[key];
    if (v === undefined || v === null) {
      if (fallback === undefined) this.fail(key, "is required");
      return fallback;
    }
    if (typeof v !== "string") this.fail(key, "must be a string, not " + JSON.stringify(v));
    return v;
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") this.fail(key, "must be true or false, not " + JSON.stringify(v));
    return v;
  }

  object(key: string): Attributes {
    const v = this.raw[key];
    if (!isObject(v)) this.fail(key, v === undefined || v === null ? "is required" : "must be an object");
    return new Attributes(v, this.path + key + ".");
  }

  optionalObject(key: string): Attributes | undefined {
    return this.has(key) ? this.object(key) : undefined;
  }

  /** Each element of an array of objects, with its own path. */
  objects(key: string): Attributes[] {
    const v = this.raw[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(key, "must be an array");
    return v.map((item, i) => {
      if (!isObject(item)) this.fail(key + "[" + i + "]", "must be an object");
      return new Attributes(item, this.path + key + "[" + i + "].");
    });
  }

  pins(key: string): number[] {
    const v = this.raw[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(key, "must be an array of pin numbers");
    return v.map((item, i) => {
      if (typeof item === "string" && /^[0-9]+$/.test(item)) return Number(item);
      if (typeof item !== "number" || !Number.isInteger(item) || item < 0 || item > 63) {
        this.fail(key + "[" + i + "]", "must be a pin number, not " + JSON.stringify(item));
      }
      return item;
    });
  }
}
