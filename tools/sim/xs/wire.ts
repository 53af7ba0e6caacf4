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

// The encoder and decoder keep their state in module variables and write into one growing buffer:
// on XS (an interpreter) every allocation and call counts, and the bridge encodes and decodes
// around every I2C transfer. Neither is re-entrant (refOf and deref must not encode or decode).

let out = new Uint8Array(256);
let outView = new DataView(out.buffer);
let length = 0;

function reserve(n: number): void {
  if (length + n <= out.length) return;
  let size = out.length * 2;
  while (size < length + n) size *= 2;
  const next = new Uint8Array(size);
  next.set(out.subarray(0, length));
  out = next;
  outView = new DataView(out.buffer);
}

function writeVarint(value: number): void {
  // value is a non-negative integer below 2^32 (lengths, counts, zigzagged int32).
  reserve(5);
  while (value > 0x7f) {
    out[length++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[length++] = value;
}

function writeBytes(bytes: Uint8Array): void {
  const n = bytes.length;
  writeVarint(n);
  reserve(n);
  if (n <= 16) for (let i = 0; i < n; i++) out[length++] = bytes[i];
  else {
    out.set(bytes, length);
    length += n;
  }
}

function writeString(value: string): void {
  const n = value.length;
  reserve(5 + n * 3);
  const start = length;
  if (n < 128) {
    out[length++] = n;
    let i = 0;
    for (; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c > 0x7f) break;
      out[length++] = c;
    }
    if (i === n) return; // ASCII, the usual case: method and option names
    length = start;
  }
  // UTF-8 by hand (no TextEncoder on a board): at most 3 bytes per UTF-16 unit.
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
  writeBytes(utf8.subarray(0, k));
}

function writeValue(value: unknown, refOf: EncodeOptions["refOf"], depth: number): void {
  if (depth > 64) throw new RangeError("value nested too deeply to marshal");
  reserve(1);
  switch (typeof value) {
    case "undefined":
      out[length++] = T_UNDEFINED;
      return;
    case "boolean":
      out[length++] = value ? T_TRUE : T_FALSE;
      return;
    case "number":
      if ((value | 0) === value && (value !== 0 || 1 / value > 0)) {
        out[length++] = T_INT;
        writeVarint(value >= 0 ? value * 2 : -value * 2 - 1);
      } else {
        out[length++] = T_FLOAT;
        reserve(8);
        outView.setFloat64(length, value, true);
        length += 8;
      }
      return;
    case "string":
      out[length++] = T_STRING;
      writeString(value);
      return;
    case "object": {
      if (value === null) {
        out[length++] = T_NULL;
        return;
      }
      if (Array.isArray(value)) {
        out[length++] = T_ARRAY;
        const n = value.length;
        writeVarint(n);
        for (let i = 0; i < n; i++) writeValue(value[i], refOf, depth + 1);
        return;
      }
      if (value instanceof Uint8Array) {
        out[length++] = T_BYTES;
        writeBytes(value);
        return;
      }
      if (value instanceof ArrayBuffer) {
        out[length++] = T_BYTES;
        writeBytes(new Uint8Array(value));
        return;
      }
      if (ArrayBuffer.isView(value)) {
        out[length++] = T_BYTES;
        writeBytes(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
        return;
      }
      const handle = value instanceof WireRef ? value.handle : refOf?.(value);
      if (handle !== undefined) {
        out[length++] = T_REF;
        writeVarint(handle);
        return;
      }
      out[length++] = T_OBJECT;
      const keys = Object.keys(value);
      writeVarint(keys.length);
      for (const key of keys) {
        writeString(key);
        writeValue((value as Record<string, unknown>)[key], refOf, depth + 1);
      }
      return;
    }
    default:
      throw new TypeError("cannot marshal a " + typeof value);
  }
}

/** The bytes of `value`, in a fresh ArrayBuffer of exactly that length. */
export function encode(value: unknown, options?: EncodeOptions): ArrayBuffer {
  length = 0;
  writeValue(value, options?.refOf, 0);
  return out.buffer.slice(0, length);
}

let input: Uint8Array = new Uint8Array(0);
let inputView: DataView | undefined;
let offset = 0;

function truncated(): never {
  throw new RangeError("truncated bridge message");
}

function readVarint(): number {
  let b = offset < input.length ? input[offset++] : truncated();
  if (b < 0x80) return b;
  let value = b & 0x7f;
  let scale = 128;
  for (;;) {
    b = offset < input.length ? input[offset++] : truncated();
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 128;
    if (scale > 2 ** 35) throw new RangeError("bad varint in bridge message");
  }
}

function readString(): string {
  const n = readVarint();
  const end = offset + n;
  if (end > input.length) truncated();
  const b = input;
  let text = "";
  let chunk: number[] = [];
  while (offset < end) {
    const c = b[offset++];
    let code: number;
    if (c < 0x80) code = c;
    else if (c < 0xe0) code = ((c & 0x1f) << 6) | (b[offset++] & 0x3f);
    else if (c < 0xf0) code = ((c & 0x0f) << 12) | ((b[offset++] & 0x3f) << 6) | (b[offset++] & 0x3f);
    else {
      code = ((c & 0x07) << 18) | ((b[offset++] & 0x3f) << 12) | ((b[offset++] & 0x3f) << 6) | (b[offset++] & 0x3f);
      code -= 0x10000;
      chunk.push(0xd800 + (code >> 10));
      code = 0xdc00 + (code & 0x3ff);
    }
    chunk.push(code);
    // XS has a small argument stack: convert in chunks.
    if (chunk.length >= 64) {
      text += String.fromCharCode(...chunk);
      chunk = [];
    }
  }
  return chunk.length ? text + String.fromCharCode(...chunk) : text;
}

function readValue(deref: DecodeOptions["deref"]): unknown {
  const tag = offset < input.length ? input[offset++] : truncated();
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
      const z = readVarint();
      return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    }
    case T_FLOAT: {
      if (offset + 8 > input.length) truncated();
      inputView ??= new DataView(input.buffer, input.byteOffset, input.byteLength);
      const value = inputView.getFloat64(offset, true);
      offset += 8;
      return value;
    }
    case T_STRING:
      return readString();
    case T_BYTES: {
      const n = readVarint();
      if (offset + n > input.length) truncated();
      const start = input.byteOffset + offset;
      offset += n;
      return input.buffer.slice(start, start + n);
    }
    case T_ARRAY: {
      const n = readVarint();
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) items.push(readValue(deref));
      return items;
    }
    case T_OBJECT: {
      const n = readVarint();
      const object: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const key = readString();
        object[key] = readValue(deref);
      }
      return object;
    }
    case T_REF: {
      const handle = readVarint();
      return deref ? deref(handle) : new WireRef(handle);
    }
    default:
      throw new RangeError("bad tag " + tag + " in bridge message");
  }
}

/** The value encoded in `bytes` (an ArrayBuffer or a view of one). */
export function decode(bytes: ArrayBuffer | Uint8Array, options?: DecodeOptions): unknown {
  input = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  inputView = undefined;
  offset = 0;
  try {
    const value = readValue(options?.deref);
    if (offset !== input.length) throw new RangeError("trailing bytes in bridge message");
    return value;
  } finally {
    input = new Uint8Array(0); // do not keep the message alive
    inputView = undefined;
  }
}

// The bridge protocol: what each message means. Requests go from the guest (XS) to the host with
// the synchronous `issueCommand`; events go from the host to the guest's `handleCommand`. Every
// message is one encoded array whose first item is its op.

/** Guest → host. */
export const Op = {
  /**
   * [NEW, module, options, callbackNames, trailing?] → handle of a new IO object (the shim's
   * constructor). `trailing` names the callback passed as the constructor's second argument
   * (`new WiFi(options, callback)`, `new MDNS(options, callback)`) instead of inside the options.
   */
  NEW: 1,
  /**
   * [CALL, handle, method, args, outArgs, callbackArgs?] → [result, outBytes[], callbackHandles[]]:
   * outArgs are indices of buffer arguments the method fills; callbackArgs are indices of function
   * arguments (sent as undefined), each replaced on the host by a function that delivers
   * [CALLBACK, handle, "callback", args] to the guest. A result that is a new shim object (a
   * Listener's accepted socket) is adopted by the host and returned as a reference.
   */
  CALL: 2,
  /** [GET, handle, property] → value */
  GET: 3,
  /** [SET, handle, property, value] → undefined */
  SET: 4,
  /**
   * [STATIC, module, method, args, callbackArgs?] → a static method of the module's class
   * (Preference.get, Timer.delay); with callbackArgs (as for CALL) → [result, callbackHandles[]].
   */
  STATIC: 5,
  /** [TIMER, "set" | "repeat", isFunction, args] → handle of a new timer. */
  TIMER: 6,
  /** [RELEASE, handles] → the guest collected these objects; the host closes and forgets them. */
  RELEASE: 7,
  /** [TRACE, text] → undefined: Moddable's trace(). */
  TRACE: 8,
  /** [STATIC_GET, module, property] → a static accessor of the module's class (WiFi.mode). */
  STATIC_GET: 9,
  /** [STATIC_SET, module, property, value] → undefined */
  STATIC_SET: 10,
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
