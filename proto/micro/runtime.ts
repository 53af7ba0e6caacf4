// The hand-written runtime shared by the codecs protoc-gen-micro generates into proto/micro/gen.
// It must run on Moddable XS (ESP32) as well as Node, so it uses only ECMAScript built-ins: no
// TextEncoder/TextDecoder, no Buffer, no Node imports. Generated code unrolls every field and calls the
// primitives below; there are no descriptors and no reflection at run time.
//
// Byte-for-byte parity with @bufbuild/protobuf's toBinary is the contract (the property tests in
// test/proto/micro-codec.test.ts check it), so where protobuf-es makes a choice the wire format leaves
// open (lone surrogates, map entry defaults, Value without a kind) we make the same one.

/** A JSON value, the plain shape of google.protobuf.Value (like protobuf-es's JsonValue). */
export type JsonValue = number | string | boolean | null | JsonValue[] | JsonObject;
/** A JSON object, the plain shape of google.protobuf.Struct (like protobuf-es's JsonObject). */
export type JsonObject = { [key: string]: JsonValue };

/** Thrown for malformed input; `offset` is where in the input the reader was. */
export class DecodeError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`cannot decode protobuf: ${message} at offset ${offset}`);
    this.name = "DecodeError";
    this.offset = offset;
  }
}

// Wire type names, only for error texts.
const wireNames = ["varint", "fixed64", "length-delimited", "start-group", "end-group", "fixed32"];

/**
 * An append-only byte buffer that grows by doubling. Nested messages get a one-byte length placeholder
 * (fork) that join() fills in, shifting the body right in the rare case the length needs more bytes;
 * that is what protobuf-es does too, and it avoids a separate sizing pass.
 */
export class Writer {
  buf: Uint8Array;
  pos = 0;
  // Little-endian float/fixed writes; recreated whenever buf is replaced.
  private view: DataView;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** An unsigned varint below 2^32: tags, lengths, uint32. */
  uint32(v: number): void {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    while (v > 0x7f) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** int32 and enums: negative values are sign-extended to ten bytes, as the spec requires. */
  int32(v: number): void {
    if (v >= 0) this.uint32(v);
    else this.varint64(v, -1);
  }

  sint32(v: number): void {
    this.uint32(((v << 1) ^ (v >> 31)) >>> 0);
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  sfixed32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
  }

  float(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  double(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  int64(v: bigint): void {
    // Non-negative values below 2^32 are the common case and need no BigInt arithmetic.
    if (v >= 0n && v <= 0xffffffffn) this.uint32(Number(v));
    else this.varint64(lo32(v), hi32(v));
  }

  uint64(v: bigint): void {
    this.int64(v);
  }

  sint64(v: bigint): void {
    this.int64(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)));
  }

  fixed64(v: bigint): void {
    this.ensure(8);
    this.view.setInt32(this.pos, lo32(v), true);
    this.view.setInt32(this.pos + 4, hi32(v), true);
    this.pos += 8;
  }

  sfixed64(v: bigint): void {
    this.fixed64(v);
  }

  /** A varint from two 32-bit halves (two's complement). */
  varint64(lo: number, hi: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    lo >>>= 0;
    hi >>>= 0;
    while (hi !== 0 || lo > 0x7f) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  bytes(v: Uint8Array): void {
    this.uint32(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /**
   * UTF-8 straight into the buffer; a lone surrogate becomes U+FFFD (EF BF BD), as TextEncoder (and
   * so protobuf-es) writes it. The length prefix is fixed up afterwards by fork/join.
   */
  string(s: string): void {
    const n = s.length;
    const at = this.fork();
    this.ensure(n * 3);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        b[p++] = c;
        continue;
      }
      if (c < 0x800) {
        b[p++] = 0xc0 | (c >> 6);
        b[p++] = 0x80 | (c & 0x3f);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          // A surrogate pair: four bytes. (Four bytes for two UTF-16 units fits the n * 3 reserve.)
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          b[p++] = 0xf0 | (c >> 18);
          b[p++] = 0x80 | ((c >> 12) & 0x3f);
          b[p++] = 0x80 | ((c >> 6) & 0x3f);
          b[p++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      b[p++] = 0xe0 | (c >> 12);
      b[p++] = 0x80 | ((c >> 6) & 0x3f);
      b[p++] = 0x80 | (c & 0x3f);
    }
    this.pos = p;
    this.join(at);
  }

  /** Reserves one byte for a length prefix; returns where it is, for join(). */
  fork(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Writes the length of everything since fork(at) into the placeholder at `at`. */
  join(at: number): void {
    const len = this.pos - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    // The length needs more than the one reserved byte: shift the body right to make room.
    let extra = 0;
    for (let v = len >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    const end = this.pos + extra;
    this.pos = at;
    this.uint32(len);
    this.pos = end;
  }

  /** A length-delimited submessage: tag, placeholder, body, length. */
  msg<T>(tag: number, v: T, write: (w: Writer, v: T) => void): void {
    this.uint32(tag);
    const at = this.fork();
    write(this, v);
    this.join(at);
  }
}

// Low and high 32 bits of a 64-bit two's complement value (BigInt bit operations act on an infinite
// two's complement, so negative numbers come out right).
function lo32(v: bigint): number {
  return Number(v & 0xffffffffn) | 0;
}
function hi32(v: bigint): number {
  return Number((v >> 32n) & 0xffffffffn) | 0;
}

/**
 * Reads the wire format from one input buffer. Every read is bounds-checked against the end of the
 * buffer; each generated message reader checks it stopped exactly at the end of its own length, so
 * a nested length that runs past its parent is caught there. `bytes` fields are views into the
 * input (as in protobuf-es): copy them if the input buffer is reused.
 */
export class Reader {
  readonly buf: Uint8Array;
  pos = 0;
  /** Nesting of Struct/Value/ListValue, the only recursive types; capped like protobuf-es's 100. */
  depth = 0;
  // Little-endian float/fixed reads; made on first use, since most messages have no such field.
  private dv: DataView | undefined;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  private get view(): DataView {
    return (this.dv ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  fail(message: string): never {
    throw new DecodeError(message, this.pos);
  }

  /** A field tag: the varint (field number << 3 | wire type). */
  tag(): number {
    const start = this.pos;
    const t = this.uint32();
    // A tag is a uint32: more than five bytes, or a fifth byte above 0x0f, would overflow it.
    const n = this.pos - start;
    if (n > 5 || (n === 5 && this.buf[this.pos - 1] > 0x0f)) this.fail("tag varint overflows 32 bits");
    if (t >>> 3 === 0) this.fail("field number 0 in tag");
    if ((t & 7) > 5) this.fail(`invalid wire type ${t & 7} for field ${t >>> 3}`);
    return t;
  }

  /** Throws unless the tag has the wire type the schema declares for its field. */
  want(t: number, wireType: number): void {
    if ((t & 7) !== wireType) {
      this.fail(`field ${t >>> 3} has wire type ${wireNames[t & 7]}, expected ${wireNames[wireType]}`);
    }
  }

  /** Reads a varint, keeping its low 32 bits (unsigned). Up to ten bytes, like any varint. */
  uint32(): number {
    const b = this.buf;
    const n = b.length;
    let p = this.pos;
    if (p < n && b[p] < 0x80) {
      this.pos = p + 1;
      return b[p];
    }
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      if (p >= n) this.fail("truncated varint");
      const c = b[p++];
      // Bits past the 32nd are dropped; at shift 28 only the low four bits of c land.
      if (shift < 32) v |= (c & 0x7f) << shift;
      if (c < 0x80) break;
      if (shift === 63) this.fail("varint longer than ten bytes");
    }
    this.pos = p;
    return v >>> 0;
  }

  int32(): number {
    return this.uint32() | 0;
  }

  sint32(): number {
    const z = this.uint32();
    return (z >>> 1) ^ -(z & 1);
  }

  bool(): boolean {
    // Any nonzero varint is true; read it whole, since it may be up to ten bytes.
    this.varint64();
    return this.lo !== 0 || this.hi !== 0;
  }

  fixed32(): number {
    return this.view.getUint32(this.take(4), true);
  }

  sfixed32(): number {
    return this.view.getInt32(this.take(4), true);
  }

  float(): number {
    return this.view.getFloat32(this.take(4), true);
  }

  double(): number {
    return this.view.getFloat64(this.take(8), true);
  }

  int64(): bigint {
    this.varint64();
    return toBigInt(this.lo, this.hi, true);
  }

  uint64(): bigint {
    this.varint64();
    return toBigInt(this.lo, this.hi, false);
  }

  sint64(): bigint {
    this.varint64();
    const u = toBigInt(this.lo, this.hi, false);
    return (u >> 1n) ^ -(u & 1n);
  }

  fixed64(): bigint {
    const at = this.take(8);
    return toBigInt(this.view.getInt32(at, true), this.view.getInt32(at + 4, true), false);
  }

  sfixed64(): bigint {
    const at = this.take(8);
    return toBigInt(this.view.getInt32(at, true), this.view.getInt32(at + 4, true), true);
  }

  // The two halves of the last varint64() read; fields so the read allocates nothing.
  private lo = 0;
  private hi = 0;

  private varint64(): void {
    const b = this.buf;
    const n = b.length;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; ; shift += 7) {
      if (p >= n) this.fail("truncated varint");
      const c = b[p++];
      if (shift < 28) lo |= (c & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (c & 0x0f) << 28;
        hi = (c & 0x7f) >> 4;
      } else hi |= (c & 0x7f) << (shift - 32);
      if (c < 0x80) break;
      if (shift === 63) this.fail("varint longer than ten bytes");
    }
    this.pos = p;
    this.lo = lo;
    this.hi = hi;
  }

  /** Advances over n bytes and returns where they start. */
  private take(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) this.fail(`${n}-byte value runs past the end (${this.buf.length})`);
    this.pos = at + n;
    return at;
  }

  /** Reads a length prefix and returns the end position of the data it announces. */
  len(): number {
    const n = this.uint32();
    const end = this.pos + n;
    if (end > this.buf.length) this.fail(`length ${n} runs past the end (${this.buf.length})`);
    return end;
  }

  bytes(): Uint8Array {
    const end = this.len();
    const v = this.buf.subarray(this.pos, end);
    this.pos = end;
    return v;
  }

  /**
   * Strict UTF-8, like protobuf-es for proto3 strings (TextDecoder with fatal: true): overlong forms,
   * surrogate code points, values past U+10FFFF and cut-off sequences are errors, not U+FFFD.
   */
  string(): string {
    const end = this.len();
    const b = this.buf;
    let p = this.pos;
    // Most strings (names, keys, methods) are short ASCII: copy the bytes into a preallocated array
    // and make the string in one call (measured fastest in V8), unless a byte is non-ASCII.
    const n = end - p;
    if (n <= chunk) {
      const codes = new Array<number>(n);
      let i = 0;
      for (; i < n; i++) {
        const c = b[p + i];
        if (c >= 0x80) break;
        codes[i] = c;
      }
      if (i === n) {
        this.pos = end;
        return String.fromCharCode(...codes);
      }
    }
    // Code units collected in chunks, so String.fromCharCode never sees a huge argument list.
    let out = "";
    const units: number[] = [];
    while (p < end) {
      const c = b[p++];
      if (c < 0x80) {
        units.push(c);
      } else {
        // Errors report where the offending sequence starts.
        const start = p - 1;
        // Continuation bytes still to come, the bits so far, and the least code point that needs
        // this many bytes (anything smaller is an overlong form).
        let need = 1;
        let cp = c & 0x1f;
        let min = 0x80;
        if (c >= 0xe0 && c <= 0xef) {
          need = 2;
          cp = c & 0x0f;
          min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
          need = 3;
          cp = c & 0x07;
          min = 0x10000;
        } else if (c < 0xc2 || c > 0xdf) {
          this.pos = start;
          return this.fail("invalid UTF-8");
        }
        if (p + need > end) {
          this.pos = start;
          return this.fail("truncated UTF-8 sequence");
        }
        for (let k = 0; k < need; k++) {
          const d = b[p++];
          if ((d & 0xc0) !== 0x80) {
            this.pos = start;
            return this.fail("invalid UTF-8");
          }
          cp = (cp << 6) | (d & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          this.pos = start;
          return this.fail("invalid UTF-8");
        }
        if (cp >= 0x10000) {
          cp -= 0x10000;
          units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
        } else units.push(cp);
      }
      if (units.length >= chunk) {
        out += String.fromCharCode(...units);
        units.length = 0;
      }
    }
    this.pos = end;
    return units.length === 0 ? out : out + String.fromCharCode(...units);
  }

  /** Skips an unknown field (groups included, as protobuf-es does). */
  skip(t: number): void {
    switch (t & 7) {
      case 0:
        this.varint64();
        return;
      case 1:
        this.take(8);
        return;
      case 2:
        this.pos = this.len();
        return;
      case 5:
        this.take(4);
        return;
      case 3: {
        if (++this.depth > maxDepth) this.fail("groups nested too deeply");
        for (;;) {
          const u = this.tag();
          if ((u & 7) === 4) {
            if (u >>> 3 !== t >>> 3) this.fail(`end-group ${u >>> 3} does not match start-group ${t >>> 3}`);
            break;
          }
          this.skip(u);
        }
        this.depth--;
        return;
      }
      default:
        this.fail(`unexpected end-group for field ${t >>> 3}`);
    }
  }

  /** Called by every message reader when it stops: it must end exactly where its length said. */
  done(end: number): void {
    if (this.pos !== end) this.fail(`message overruns its length (ends at ${end})`);
  }
}

const maxDepth = 100;

// Code units per String.fromCharCode call: every unit is an argument on the XS stack, which a board's
// manifest may cap at a few hundred slots, so stay well below that.
const chunk = 64;

function toBigInt(lo: number, hi: number, signed: boolean): bigint {
  if (hi === 0) return BigInt(lo >>> 0);
  // Small negative numbers: the high half is all ones and the low half carries the sign.
  if (signed && hi === -1 && lo < 0) return BigInt(lo);
  const u = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return signed ? BigInt.asIntN(64, u) : u;
}

/** Sets an own property even when the key is "__proto__", so a map key can never change a prototype. */
export function setOwn<V>(rec: { [key: string]: V }, key: string, value: V): void {
  if (key === "__proto__") Object.defineProperty(rec, key, { value, enumerable: true, writable: true, configurable: true });
  else rec[key] = value;
}

// One writer for every encode: the firmware should not allocate a fresh buffer per message. It only
// grows; encode() returns a copy of the written bytes, so the next encode may reuse it at once.
const shared = new Writer();
let encoding = false;

/** Runs a generated write function on the shared writer and returns a copy of the bytes. */
export function encode<T>(message: T, write: (w: Writer, v: T) => void): Uint8Array {
  if (encoding) throw new Error("encode() is not re-entrant");
  encoding = true;
  shared.pos = 0;
  try {
    write(shared, message);
    return shared.buf.slice(0, shared.pos);
  } finally {
    encoding = false;
  }
}

/** Runs a generated read function over the whole input. */
export function decode<T>(bytes: Uint8Array, read: (r: Reader, end: number) => T): T {
  return read(new Reader(bytes), bytes.length);
}

// google.protobuf.Struct / Value / ListValue travel as plain JSON values, like protobuf-es's JsonObject.
// Struct is `map<string, Value> fields = 1`; Value is `oneof kind { NullValue null_value = 1; double
// number_value = 2; string string_value = 3; bool bool_value = 4; Struct struct_value = 5; ListValue
// list_value = 6; }`; ListValue is `repeated Value values = 1`.

export function writeStruct(w: Writer, o: JsonObject): void {
  for (const k of Object.keys(o)) {
    // Each map entry holds key (field 1) and value (field 2), both written even when empty.
    w.uint32(10);
    const at = w.fork();
    w.uint32(10);
    w.string(k);
    w.msg(18, o[k], writeValue);
    w.join(at);
  }
}

export function writeValue(w: Writer, v: JsonValue): void {
  switch (typeof v) {
    case "number":
      w.uint32(17);
      w.double(v);
      return;
    case "string":
      w.uint32(26);
      w.string(v);
      return;
    case "boolean":
      w.uint32(32);
      w.bool(v);
      return;
    case "undefined":
      // Not a JSON value; protobuf-es turns it into a Value with no kind, which is empty.
      return;
  }
  if (v === null) {
    // A oneof member is written even when it is the zero value.
    w.uint32(8);
    w.uint32(0);
  } else if (Array.isArray(v)) w.msg(50, v, writeList);
  else w.msg(42, v, writeStruct);
}

export function writeList(w: Writer, a: JsonValue[]): void {
  for (let i = 0; i < a.length; i++) w.msg(10, a[i], writeValue);
}

/** Reads a Struct's entries into `o` (a repeated Struct field merges, so `o` may already hold keys). */
export function readStruct(r: Reader, end: number, o: JsonObject = {}): JsonObject {
  if (++r.depth > maxDepth) r.fail("Struct nested too deeply");
  while (r.pos < end) {
    const t = r.tag();
    if (t >>> 3 !== 1) {
      r.skip(t);
      continue;
    }
    r.want(t, 2);
    const e = r.len();
    let k = "";
    let v: JsonValue | undefined;
    while (r.pos < e) {
      const u = r.tag();
      const f = u >>> 3;
      if (f === 1) {
        r.want(u, 2);
        k = r.string();
      } else if (f === 2) {
        r.want(u, 2);
        // A value repeated inside one entry merges into the previous one, as for any message field.
        v = readValue(r, r.len(), v);
      } else r.skip(u);
    }
    r.done(e);
    // A missing value is a Value with no kind, which protobuf-es shows as null.
    setOwn(o, k, v === undefined ? null : v);
  }
  r.done(end);
  r.depth--;
  return o;
}

/**
 * Reads a Value. `prev` is the value this one merges into: the last member of the oneof wins, except
 * that a Struct merges into a previous Struct and a list appends to a previous list, as the spec
 * says for message fields. A Value with no kind reads as null, as protobuf-es shows it.
 */
export function readValue(r: Reader, end: number, prev?: JsonValue): JsonValue {
  let v = prev;
  while (r.pos < end) {
    const t = r.tag();
    switch (t >>> 3) {
      case 1:
        r.want(t, 0);
        r.int32();
        v = null;
        break;
      case 2:
        r.want(t, 1);
        v = r.double();
        break;
      case 3:
        r.want(t, 2);
        v = r.string();
        break;
      case 4:
        r.want(t, 0);
        v = r.bool();
        break;
      case 5:
        r.want(t, 2);
        v = readStruct(r, r.len(), isObject(v) ? v : undefined);
        break;
      case 6:
        r.want(t, 2);
        v = readList(r, r.len(), Array.isArray(v) ? v : undefined);
        break;
      default:
        r.skip(t);
    }
  }
  r.done(end);
  return v === undefined ? null : v;
}

export function readList(r: Reader, end: number, a: JsonValue[] = []): JsonValue[] {
  if (++r.depth > maxDepth) r.fail("ListValue nested too deeply");
  while (r.pos < end) {
    const t = r.tag();
    if (t >>> 3 === 1) {
      r.want(t, 2);
      a.push(readValue(r, r.len()));
    } else r.skip(t);
  }
  r.done(end);
  r.depth--;
  return a;
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
