// The values the XS bridge passes between the Node host and the firmware running on XS, as compact
// bytes. Both sides use this file: the host (Node) and the guest modules bundled into XS, so it
// uses nothing but ES2022 (no TextEncoder, no Node Buffer).
//
// Encoding: one tag byte, then the payload. Lengths, counts and integers are LEB128 varints
// (integers zigzagged), so a typical I2C register read request is about 20 bytes.
//   0 undefined   1 null   2 false   3 true
//   4 int32 (zigzag varint; -0 is a float)      5 float64 (8 bytes, little-endian)
//   6 string (varint byte length, UTF-8)        7 bytes (varint length, raw): an ArrayBuffer,
//                                                 or a copy of a typed array or DataView
//   8 array (varint count, items)               9 object (varint count, then key string, value)
//  10 reference (varint handle): an object the other side knows by handle (an IO object, a timer)
// Numbers keep their exact value (NaN, ±Infinity, -0 included), which Preference's "float
// unsupported" check needs. bytes always decode to an ArrayBuffer.

export type WireValue =
  | undefined
  | null
  | boolean
  | number
  | string
  | ArrayBuffer
  | WireRef
  | WireValue[]
  | { [key: string]: WireValue };

/** A handle to an object the other side owns. Encoders produce it from `refOf`; decoders turn it back with `deref`. */
export class WireRef {
  readonly handle: number;
  constructor(handle: number) {
    this.handle = handle;
  }
}

const T_UNDEFINED = 0;
const T_NULL = 1;
const T_FALSE = 2;
const T_TRUE = 3;
const T_INT = 4;
const T_FLOAT = 5;
const T_STRING = 6;
const T_BYTES = 7;
const T_ARRAY = 8;
const T_OBJECT = 9;
const T_REF = 10;

export interface EncodeOptions {
  /** The handle of an object the other side knows (an IO proxy, a shim object), else undefined. */
  refOf?: (value: object) => number | undefined;
}

export interface DecodeOptions {
  /** The object behind a handle; the default gives a WireRef. */
  deref?: (handle: number) => unknown;
}

class Writer {
  bytes = new Uint8Array(64);
  length = 0;
  #float: DataView | undefined;

  reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    this.#float = undefined;
  }

  byte(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value;
  }

  varint(value: number): void {
    // value is a non-negative integer below 2^32 (lengths, counts, zigzagged int32).
    this.reserve(5);
    while (value > 0x7f) {
      this.bytes[this.length++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.bytes[this.length++] = value;
  }

  float(value: number): void {
    this.reserve(8);
    this.#float ??= new DataView(this.bytes.buffer);
    this.#float.setFloat64(this.length, value, true);
    this.length += 8;
  }

  raw(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  string(value: string): void {
    // UTF-8 by hand: at most 3 bytes per UTF-16 unit.
    const start = this.length;
    const n = value.length;
    this.reserve(5 + n * 3);
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (value.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.varint(n);
      for (let i = 0; i < n; i++) this.bytes[this.length++] = value.charCodeAt(i);
      return;
    }
    const utf8 = new Uint8Array(n * 3);
    let k = 0;
    for (let i = 0; i < n; i++) {
      let c = value.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = value.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate, as TextEncoder does
      if (c < 0x80) utf8[k++] = c;
      else if (c < 0x800) {
        utf8[k++] = 0xc0 | (c >> 6);
        utf8[k++] = 0x80 | (c & 0x3f);
      } else if (c < 0x10000) {
        utf8[k++] = 0xe0 | (c >> 12);
        utf8[k++] = 0x80 | ((c >> 6) & 0x3f);
        utf8[k++] = 0x80 | (c & 0x3f);
      } else {
        utf8[k++] = 0xf0 | (c >> 18);
        utf8[k++] = 0x80 | ((c >> 12) & 0x3f);
        utf8[k++] = 0x80 | ((c >> 6) & 0x3f);
        utf8[k++] = 0x80 | (c & 0x3f);
      }
    }
    this.length = start;
    this.raw(utf8.subarray(0, k));
  }
}

function encodeInto(w: Writer, value: unknown, options: EncodeOptions, depth: number): void {
  if (depth > 64) throw new RangeError("value nested too deeply to marshal");
  switch (typeof value) {
    case "undefined":
      w.byte(T_UNDEFINED);
      return;
    case "boolean":
      w.byte(value ? T_TRUE : T_FALSE);
      return;
    case "number":
      if ((value | 0) === value && !Object.is(value, -0)) {
        w.byte(T_INT);
        w.varint(value >= 0 ? value * 2 : -value * 2 - 1);
      } else {
        w.byte(T_FLOAT);
        w.float(value);
      }
      return;
    case "string":
      w.byte(T_STRING);
      w.string(value);
      return;
    case "object": {
      if (value === null) {
        w.byte(T_NULL);
        return;
      }
      if (value instanceof WireRef) {
        w.byte(T_REF);
        w.varint(value.handle);
        return;
      }
      const handle = options.refOf?.(value);
      if (handle !== undefined) {
        w.byte(T_REF);
        w.varint(handle);
        return;
      }
      if (value instanceof ArrayBuffer) {
        w.byte(T_BYTES);
        w.raw(new Uint8Array(value));
        return;
      }
      if (ArrayBuffer.isView(value)) {
        w.byte(T_BYTES);
        w.raw(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
        return;
      }
      if (Array.isArray(value)) {
        w.byte(T_ARRAY);
        w.varint(value.length);
        for (const item of value) encodeInto(w, item, options, depth + 1);
        return;
      }
      const keys = Object.keys(value);
      w.byte(T_OBJECT);
      w.varint(keys.length);
      for (const key of keys) {
        w.string(key);
        encodeInto(w, (value as Record<string, unknown>)[key], options, depth + 1);
      }
      return;
    }
    default:
      throw new TypeError("cannot marshal a " + typeof value);
  }
}

/** The bytes of `value`, in a fresh ArrayBuffer of exactly that length. */
export function encode(value: unknown, options: EncodeOptions = {}): ArrayBuffer {
  const w = new Writer();
  encodeInto(w, value, options, 0);
  return w.bytes.buffer.slice(0, w.length);
}

class Reader {
  readonly bytes: Uint8Array;
  offset = 0;
  #view: DataView | undefined;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  byte(): number {
    if (this.offset >= this.bytes.length) throw new RangeError("truncated bridge message");
    return this.bytes[this.offset++];
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
      if (scale > 2 ** 35) throw new RangeError("bad varint in bridge message");
    }
  }

  take(n: number): Uint8Array {
    if (this.offset + n > this.bytes.length) throw new RangeError("truncated bridge message");
    const slice = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return slice;
  }

  float(): number {
    const b = this.take(8);
    this.#view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.#view.getFloat64(b.byteOffset - this.bytes.byteOffset, true);
  }

  string(): string {
    const b = this.take(this.varint());
    let out = "";
    let chunk: number[] = [];
    for (let i = 0; i < b.length; ) {
      const c = b[i++];
      let code: number;
      if (c < 0x80) code = c;
      else if (c < 0xe0) code = ((c & 0x1f) << 6) | (b[i++] & 0x3f);
      else if (c < 0xf0) code = ((c & 0x0f) << 12) | ((b[i++] & 0x3f) << 6) | (b[i++] & 0x3f);
      else {
        code = ((c & 0x07) << 18) | ((b[i++] & 0x3f) << 12) | ((b[i++] & 0x3f) << 6) | (b[i++] & 0x3f);
        code -= 0x10000;
        chunk.push(0xd800 + (code >> 10));
        code = 0xdc00 + (code & 0x3ff);
      }
      chunk.push(code);
      // XS has a small argument stack: convert in chunks.
      if (chunk.length >= 64) {
        out += String.fromCharCode(...chunk);
        chunk = [];
      }
    }
    return chunk.length ? out + String.fromCharCode(...chunk) : out;
  }
}

function decodeFrom(r: Reader, options: DecodeOptions): unknown {
  const tag = r.byte();
  switch (tag) {
    case T_UNDEFINED:
      return undefined;
    case T_NULL:
      return null;
    case T_FALSE:
      return false;
    case T_TRUE:
      return true;
    case T_INT: {
      const z = r.varint();
      return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    }
    case T_FLOAT:
      return r.float();
    case T_STRING:
      return r.string();
    case T_BYTES: {
      const b = r.take(r.varint());
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    }
    case T_ARRAY: {
      const n = r.varint();
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(decodeFrom(r, options));
      return out;
    }
    case T_OBJECT: {
      const n = r.varint();
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const key = r.string();
        out[key] = decodeFrom(r, options);
      }
      return out;
    }
    case T_REF: {
      const handle = r.varint();
      return options.deref ? options.deref(handle) : new WireRef(handle);
    }
    default:
      throw new RangeError("bad tag " + tag + " in bridge message");
  }
}

/** The value encoded in `bytes` (an ArrayBuffer or a view of one). */
export function decode(bytes: ArrayBuffer | Uint8Array, options: DecodeOptions = {}): unknown {
  const r = new Reader(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  const value = decodeFrom(r, options);
  if (r.offset !== r.bytes.length) throw new RangeError("trailing bytes in bridge message");
  return value;
}

// The bridge protocol: what each message means. Requests go from the guest (XS) to the host with
// the synchronous `issueCommand`; events go from the host to the guest's `handleCommand`. Every
// message is one encoded array whose first item is its op.

/** Guest → host. */
export const Op = {
  /** [NEW, module, options, callbackNames] → handle of a new IO object (the shim's constructor). */
  NEW: 1,
  /** [CALL, handle, method, args, outArgs] → [result, outBytes[]]: outArgs are indices of buffer arguments the method fills. */
  CALL: 2,
  /** [GET, handle, property] → value */
  GET: 3,
  /** [SET, handle, property, value] → undefined */
  SET: 4,
  /** [STATIC, module, method, args] → a static method of the module's class (Preference.get, Timer.delay). */
  STATIC: 5,
  /** [TIMER, "set" | "repeat", isFunction, args] → handle of a new timer. */
  TIMER: 6,
  /** [RELEASE, handles] → the guest collected these objects; the host closes and forgets them. */
  RELEASE: 7,
  /** [TRACE, text] → undefined: Moddable's trace(). */
  TRACE: 8,
} as const;

/** Host → guest. */
export const Event = {
  /** [CALLBACK, handle, name, args] → the object's callback (onReadable, a timer's callback…) */
  CALLBACK: 1,
  /** [EVAL, functionBody] → the body's return value; it sees `modules`, the exposed bundle modules. */
  EVAL: 2,
  /** [GC] → undefined, after a full garbage collection. */
  GC: 3,
} as const;

/** A reply, either way: [0, value] or [1, errorName, message, stack]. */
export const Reply = { OK: 0, ERROR: 1 } as const;
