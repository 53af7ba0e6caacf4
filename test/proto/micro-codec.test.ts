// The protoc-gen-micro codecs (proto/micro) against protobuf-es, for every generated message: found by
// walking the compiled proto/micro/gen and pairing each encodeX with protobuf-es's XSchema from the
// same .proto file, so nothing here lists messages. Arbitrary messages are built from the protobuf-es
// descriptors. Per message: our encode gives toBinary's bytes, our decode of those bytes equals
// fromBinary's message in our plain shape, our own round trip holds, and concatenated messages with
// unknown fields between them (merge, last-one-wins, skipping) decode as protobuf-es decodes them.
// Then the runtime's primitives, malformed input, a size report and a benchmark smoke run.

import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

import { create, fromBinary, ScalarType, toBinary, type DescField, type DescMessage, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { ListValueSchema, NullValue, StructSchema, ValueSchema, type ListValue, type Struct, type Value } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import ts from "typescript";

import { DecodeError, Reader, Writer } from "../../proto/micro/runtime.js";
import { decodeRequest, encodeRequest } from "../../proto/micro/gen/proto/rpc/webrtc/v1/grpc_micro.js";
import { decodeResourceName } from "../../proto/micro/gen/common/v1/common_micro.js";
import { RequestSchema } from "../../proto/gen/proto/rpc/webrtc/v1/grpc_pb.js";
import { ResourceNameSchema } from "../../proto/gen/common/v1/common_pb.js";
import { microCodecBench } from "../bench/micro-codec.js";

// Loosely typed views of a generated message: protobuf-es messages and our plain objects.
type Obj = Record<string, unknown>;

interface Codec {
  readonly typeName: string;
  readonly schema: DescMessage;
  readonly encode: (m: Obj) => Uint8Array;
  readonly decode: (b: Uint8Array) => Obj;
}

const here = dirname(fileURLToPath(import.meta.url));
const microGen = resolve(here, "../../proto/micro/gen");
const pbGen = resolve(here, "../../proto/gen");

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Every encodeX in proto/micro/gen, with protobuf-es's schema for X from the same .proto file. */
async function loadCodecs(): Promise<Codec[]> {
  const codecs: Codec[] = [];
  for (const file of walk(microGen).filter((f) => f.endsWith("_micro.js")).sort()) {
    const rel = relative(microGen, file).replace(/_micro\.js$/, "");
    const micro = (await import(pathToFileURL(file).href)) as Obj;
    // Well-known types come from protobuf-es itself, everything else from our protoc-gen-es output.
    const pb = (await import(rel.startsWith("google/protobuf/") ? "@bufbuild/protobuf/wkt" : pathToFileURL(join(pbGen, `${rel}_pb.js`)).href)) as Obj;
    for (const [name, fn] of Object.entries(micro)) {
      if (!name.startsWith("encode")) continue;
      const shape = name.slice("encode".length);
      const schema = pb[`${shape}Schema`] as DescMessage | undefined;
      assert.ok(schema?.kind === "message", `no protobuf-es schema ${shape}Schema for ${rel}_micro.js`);
      codecs.push({
        typeName: schema.typeName,
        schema,
        encode: fn as Codec["encode"],
        decode: micro[`decode${shape}`] as Codec["decode"],
      });
    }
  }
  return codecs;
}

const codecs = await loadCodecs();
const byType = new Map(codecs.map((c) => [c.typeName, c]));

// ---------------------------------------------------------------------------------------------
// Arbitraries from descriptors

/** Sets an own property even for "__proto__" (map keys are data, never prototypes). */
function setOwn(o: Obj, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

// Strings: ASCII, any code point, any UTF-16 unit (lone surrogates, which encode as U+FFFD), and long
// ones whose length prefix needs two bytes (the writer then shifts the body).
const arbString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 6 }),
  fc.string({ minLength: 120, maxLength: 300 }),
);

// Map and Struct keys, with the awkward ones: empty, integer-like (JS orders those first), "__proto__".
// Keys are well-formed UTF-16: two keys with different lone surrogates both reach the wire as U+FFFD,
// so they are one key to any reader and a map with both cannot round-trip (values keep them).
const utf8 = { encoder: new TextEncoder(), decoder: new TextDecoder() };
const wellFormed = (s: string) => utf8.decoder.decode(utf8.encoder.encode(s)) === s;
const arbKey: fc.Arbitrary<string> = fc.oneof(arbString.filter(wellFormed), fc.constantFrom("", "__proto__", "0", "7", "10", "constructor"));

function toObject(pairs: [string, unknown][]): Obj {
  const o: Obj = {};
  for (const [k, v] of pairs) setOwn(o, k, v);
  return o;
}

const { json: arbJson } = fc.letrec<{ json: JsonValue; list: JsonValue[]; object: JsonObject }>((tie) => ({
  json: fc.oneof(
    { maxDepth: 3, depthIdentifier: "json" },
    fc.constant(null),
    fc.double(),
    arbString,
    fc.boolean(),
    tie("list"),
    tie("object"),
  ),
  list: fc.array(tie("json"), { maxLength: 3, depthIdentifier: "json" }),
  object: fc.array(fc.tuple(arbKey, tie("json")), { maxLength: 3, depthIdentifier: "json" }).map((p) => toObject(p) as JsonObject),
}));
const arbJsonObject: fc.Arbitrary<JsonObject> = fc
  .array(fc.tuple(arbKey, arbJson), { maxLength: 4 })
  .map((p) => toObject(p) as JsonObject);

/** A google.protobuf.Value message holding a JSON value (always with a kind: see the runtime). */
function valueMessage(j: JsonValue): Value {
  if (j === null) return create(ValueSchema, { kind: { case: "nullValue", value: NullValue.NULL_VALUE } });
  switch (typeof j) {
    case "number":
      return create(ValueSchema, { kind: { case: "numberValue", value: j } });
    case "string":
      return create(ValueSchema, { kind: { case: "stringValue", value: j } });
    case "boolean":
      return create(ValueSchema, { kind: { case: "boolValue", value: j } });
  }
  if (Array.isArray(j)) return create(ValueSchema, { kind: { case: "listValue", value: listMessage(j) } });
  return create(ValueSchema, { kind: { case: "structValue", value: structMessage(j) } });
}
function listMessage(a: JsonValue[]): ListValue {
  return create(ListValueSchema, { values: a.map(valueMessage) });
}
function structMessage(o: JsonObject): Struct {
  const s = create(StructSchema);
  for (const k of Object.keys(o)) setOwn(s.fields as Obj, k, valueMessage(o[k]));
  return s;
}

function arbScalar(t: ScalarType): fc.Arbitrary<unknown> {
  switch (t) {
    case ScalarType.DOUBLE:
      return fc.double(); // NaN, -0 and the infinities included
    case ScalarType.FLOAT:
      return fc.float(); // float32 values only, as protobuf-es requires
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.integer({ min: 0, max: 0xffffffff });
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return arbString;
    case ScalarType.BYTES:
      return fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ minLength: 120, maxLength: 300 }));
  }
}

const maxDepth = 3;

/** A value of one element of a field (the field itself, a list item or a map value), as protobuf-es holds it. */
function arbElement(f: DescField, depth: number): fc.Arbitrary<unknown> {
  if (f.enum !== undefined) {
    // Open enums: declared values and any other int32.
    return fc.oneof(fc.constantFrom(...f.enum.values.map((v) => v.number)), fc.integer({ min: -0x80000000, max: 0x7fffffff }));
  }
  if (f.message !== undefined) {
    // protobuf-es holds a Struct field (outside Value) as a JsonObject.
    if (f.message.typeName === "google.protobuf.Struct") return arbJsonObject;
    return arbMessage(f.message, depth + 1);
  }
  return arbScalar(f.scalar as ScalarType);
}

const arbCache = new Map<string, fc.Arbitrary<Obj>>();

/** An arbitrary protobuf-es message of any schema: every field, oneof case and presence state. */
function arbMessage(desc: DescMessage, depth = 0): fc.Arbitrary<Obj> {
  if (desc.typeName === "google.protobuf.Value") return arbJson.map((j) => valueMessage(j) as unknown as Obj);
  if (desc.typeName === "google.protobuf.ListValue") return fc.array(arbJson, { maxLength: 3 }).map((a) => listMessage(a) as unknown as Obj);
  if (desc.typeName === "google.protobuf.Struct") return arbJsonObject.map((o) => structMessage(o) as unknown as Obj);
  const key = `${desc.typeName}@${depth}`;
  const cached = arbCache.get(key);
  if (cached !== undefined) return cached;
  const deep = depth >= maxDepth;
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const member of desc.members) {
    if (member.kind === "oneof") {
      const cases = member.fields.map((f) => arbElement(f, depth).map((value) => ({ case: f.localName, value })));
      fields[member.localName] = deep ? fc.constant({ case: undefined }) : fc.oneof(fc.constant({ case: undefined }), ...cases);
      continue;
    }
    const f = member;
    switch (f.fieldKind) {
      case "list":
        fields[f.localName] = fc.array(arbElement(f, depth), { maxLength: deep ? 0 : 3 });
        break;
      case "map":
        fields[f.localName] = fc.array(fc.tuple(arbKey, arbElement(f, depth)), { maxLength: deep ? 0 : 3 }).map(toObject);
        break;
      case "message":
        fields[f.localName] = deep ? fc.constant(undefined) : fc.option(arbElement(f, depth), { nil: undefined });
        break;
      default:
        // Explicit presence (proto3 optional) may be unset; implicit presence always has a value.
        fields[f.localName] = f.presence === 2 ? arbElement(f, depth) : fc.option(arbElement(f, depth), { nil: undefined });
    }
  }
  const arb = fc.record(fields).map((init) => Object.assign(create(desc), init) as unknown as Obj);
  arbCache.set(key, arb);
  return arb;
}

// ---------------------------------------------------------------------------------------------
// protobuf-es message -> our plain shape

function valueToJson(v: Value): JsonValue {
  switch (v.kind.case) {
    case "structValue":
      return structToJson(v.kind.value);
    case "listValue":
      return v.kind.value.values.map(valueToJson);
    case "nullValue":
    case undefined:
      return null;
    default:
      return v.kind.value;
  }
}
function structToJson(s: Struct): JsonObject {
  const o: Obj = {};
  for (const k of Object.keys(s.fields)) setOwn(o, k, valueToJson(s.fields[k]));
  return o as JsonObject;
}

function plainElement(f: DescField, v: unknown): unknown {
  const m = f.message;
  if (m === undefined) return v;
  switch (m.typeName) {
    case "google.protobuf.Struct":
      return structToJson(structMessage(v as JsonObject)); // a copy of the JsonObject protobuf-es holds
    case "google.protobuf.Value":
      return valueToJson(v as Value);
    case "google.protobuf.ListValue":
      return (v as ListValue).values.map(valueToJson);
  }
  return toPlain(m, v as Obj);
}

/** Our plain shape of a protobuf-es message: the same properties without $typeName and $unknown. */
function toPlain(desc: DescMessage, msg: Obj): Obj {
  const out: Obj = {};
  for (const member of desc.members) {
    const v = msg[member.localName];
    if (member.kind === "oneof") {
      const o = v as { case: string | undefined; value?: unknown };
      const f = member.fields.find((x) => x.localName === o.case);
      out[member.localName] = f === undefined ? { case: undefined } : { case: o.case, value: plainElement(f, o.value) };
      continue;
    }
    switch (member.fieldKind) {
      case "list":
        out[member.localName] = (v as unknown[]).map((x) => plainElement(member, x));
        break;
      case "map": {
        const rec = v as Obj;
        out[member.localName] = toObject(Object.keys(rec).map((k) => [k, plainElement(member, rec[k])]));
        break;
      }
      default:
        out[member.localName] = v === undefined ? undefined : plainElement(member, v);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Unknown fields: records with field numbers the message does not declare, of every wire type.

function arbUnknown(desc: DescMessage): fc.Arbitrary<Uint8Array> {
  const known = new Set(desc.fields.map((f) => f.number));
  const arbNo = fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 2 ** 29 - 1 })).filter((n) => !known.has(n));
  const record = fc.tuple(arbNo, fc.integer({ min: 0, max: 4 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.uint8Array({ maxLength: 6 }));
  return fc.array(record, { maxLength: 3 }).map((records) => {
    const w = new BinaryWriter();
    for (const [no, kind, n, data] of records) {
      switch (kind) {
        case 0:
          w.tag(no, WireType.Varint).uint64(n);
          break;
        case 1:
          w.tag(no, WireType.Bit64).fixed64(n);
          break;
        case 2:
          w.tag(no, WireType.LengthDelimited).bytes(data);
          break;
        case 3:
          w.tag(no, WireType.Bit32).fixed32(Number(n & 0xffffffffn));
          break;
        default:
          // A group holding one varint record.
          w.tag(no, WireType.StartGroup).tag(1, WireType.Varint).uint64(n).tag(no, WireType.EndGroup);
      }
    }
    return w.finish();
  });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Per-message properties

const numRuns = 60;

test("protoc-gen-micro generated the firmware's messages", () => {
  const wanted = [
    "proto.rpc.webrtc.v1.Request",
    "proto.rpc.webrtc.v1.Response",
    "proto.rpc.webrtc.v1.ResponseTrailers",
    "google.rpc.Status",
    "google.protobuf.Duration",
    "proto.rpc.v1.AuthenticateRequest",
    "proto.rpc.v1.AuthenticateResponse",
    "proto.rpc.v1.Credentials",
    "viam.common.v1.GetReadingsRequest",
    "viam.common.v1.GetReadingsResponse",
    "viam.common.v1.DoCommandRequest",
    "viam.common.v1.DoCommandResponse",
    "viam.common.v1.ResourceName",
    "viam.common.v1.Vector3",
    "viam.common.v1.Orientation",
    "viam.common.v1.GeoPoint",
    "viam.common.v1.GetGeometriesRequest",
    "viam.common.v1.GetGeometriesResponse",
    "viam.common.v1.Geometry",
    "viam.component.board.v1.SetGPIORequest",
    "viam.component.motor.v1.SetPowerRequest",
    "viam.component.encoder.v1.GetPositionResponse",
    "viam.component.movementsensor.v1.GetAccuracyResponse",
    "viam.component.powersensor.v1.GetVoltageResponse",
    "viam.component.servo.v1.MoveRequest",
    "viam.robot.v1.ResourceNamesResponse",
    "viam.robot.v1.ResourceRPCSubtypesResponse",
    "viam.robot.v1.GetMachineStatusResponse",
    "viam.robot.v1.GetVersionResponse",
    "viam.robot.v1.GetOperationsResponse",
    "viam.robot.v1.StopAllRequest",
    "viam.robot.v1.StopAllResponse",
    "viam.robot.v1.Operation",
    "viam.robot.v1.ResourceStatus",
  ];
  const missing = wanted.filter((t) => !byType.has(t));
  assert.deepEqual(missing, []);
  console.log(`protoc-gen-micro codecs under test: ${codecs.length} messages`);
});

for (const c of codecs) {
  const arb = arbMessage(c.schema);

  test(`${c.typeName}: encode gives protobuf-es toBinary's bytes`, () => {
    fc.assert(
      fc.property(arb, (msg) => {
        assert.deepEqual(c.encode(toPlain(c.schema, msg)), toBinary(c.schema, msg as never));
      }),
      { numRuns },
    );
  });

  test(`${c.typeName}: decode of toBinary's bytes equals fromBinary`, () => {
    fc.assert(
      fc.property(arb, (msg) => {
        const bytes = toBinary(c.schema, msg as never);
        assert.deepEqual(c.decode(bytes), toPlain(c.schema, fromBinary(c.schema, bytes) as unknown as Obj));
      }),
      { numRuns },
    );
  });

  test(`${c.typeName}: decode(encode(x)) round-trips`, () => {
    fc.assert(
      fc.property(arb, (msg) => {
        const plain = toPlain(c.schema, msg);
        const bytes = c.encode(plain);
        const back = c.decode(bytes);
        // Equal to what protobuf-es reads from the same bytes (lone surrogates come back as U+FFFD),
        // and stable: encoding what we decoded gives the same bytes again.
        assert.deepEqual(back, toPlain(c.schema, fromBinary(c.schema, bytes) as unknown as Obj));
        assert.deepEqual(c.encode(back), bytes);
      }),
      { numRuns },
    );
  });

  test(`${c.typeName}: concatenated messages and unknown fields decode as in protobuf-es`, () => {
    fc.assert(
      fc.property(arb, arb, arbUnknown(c.schema), arbUnknown(c.schema), (a, b, u1, u2) => {
        // Concatenation is a merge: scalars last-one-wins, messages merge, repeated fields append.
        const bytes = concat(u1, toBinary(c.schema, a as never), u2, toBinary(c.schema, b as never));
        assert.deepEqual(c.decode(bytes), toPlain(c.schema, fromBinary(c.schema, bytes) as unknown as Obj));
      }),
      { numRuns: numRuns / 2 },
    );
  });
}

test("every generated decoder fails only with DecodeError on mangled input, else agrees with protobuf-es", () => {
  for (const c of codecs) {
    fc.assert(
      fc.property(arbMessage(c.schema), fc.nat(), fc.nat(255), fc.boolean(), (msg, at, byte, truncate) => {
        const good = toBinary(c.schema, msg as never);
        let bad: Uint8Array;
        if (truncate) bad = good.subarray(0, good.length === 0 ? 0 : at % good.length);
        else {
          bad = good.slice();
          if (bad.length > 0) bad[at % bad.length] = byte;
        }
        let ours: Obj;
        try {
          ours = c.decode(bad);
        } catch (e) {
          assert.ok(e instanceof DecodeError, `${c.typeName}: ${String(e)}`);
          return;
        }
        // protobuf-es may reject what we accept only where it is stricter than us (it is not, for
        // these inputs) and may accept what we reject (wrong wire types), so compare only when we decode.
        assert.deepEqual(ours, toPlain(c.schema, fromBinary(c.schema, bad) as unknown as Obj));
      }),
      { numRuns: 30 },
    );
  }
});

// ---------------------------------------------------------------------------------------------
// The runtime's primitives, including the scalar types no generated message uses yet (sint*, fixed*)

test("runtime Writer/Reader scalars match protobuf-es BinaryWriter/BinaryReader", () => {
  type Case = [string, fc.Arbitrary<unknown>, (w: Writer, v: never) => void, (w: BinaryWriter, v: never) => void, (r: Reader) => unknown];
  const cases: Case[] = [
    ["int32", arbScalar(ScalarType.INT32), (w, v) => w.int32(v), (w, v) => w.int32(v), (r) => r.int32()],
    ["uint32", arbScalar(ScalarType.UINT32), (w, v) => w.uint32(v), (w, v) => w.uint32(v), (r) => r.uint32()],
    ["sint32", arbScalar(ScalarType.SINT32), (w, v) => w.sint32(v), (w, v) => w.sint32(v), (r) => r.sint32()],
    ["fixed32", arbScalar(ScalarType.FIXED32), (w, v) => w.fixed32(v), (w, v) => w.fixed32(v), (r) => r.fixed32()],
    ["sfixed32", arbScalar(ScalarType.SFIXED32), (w, v) => w.sfixed32(v), (w, v) => w.sfixed32(v), (r) => r.sfixed32()],
    ["int64", arbScalar(ScalarType.INT64), (w, v) => w.int64(v), (w, v) => w.int64(v), (r) => r.int64()],
    ["uint64", arbScalar(ScalarType.UINT64), (w, v) => w.uint64(v), (w, v) => w.uint64(v), (r) => r.uint64()],
    ["sint64", arbScalar(ScalarType.SINT64), (w, v) => w.sint64(v), (w, v) => w.sint64(v), (r) => r.sint64()],
    ["fixed64", arbScalar(ScalarType.FIXED64), (w, v) => w.fixed64(v), (w, v) => w.fixed64(v), (r) => r.fixed64()],
    ["sfixed64", arbScalar(ScalarType.SFIXED64), (w, v) => w.sfixed64(v), (w, v) => w.sfixed64(v), (r) => r.sfixed64()],
    ["float", arbScalar(ScalarType.FLOAT), (w, v) => w.float(v), (w, v) => w.float(v), (r) => r.float()],
    ["double", arbScalar(ScalarType.DOUBLE), (w, v) => w.double(v), (w, v) => w.double(v), (r) => r.double()],
    ["bool", arbScalar(ScalarType.BOOL), (w, v) => w.bool(v), (w, v) => w.bool(v), (r) => r.bool()],
    ["string", arbString, (w, v) => w.string(v), (w, v) => w.string(v), (r) => r.string()],
    ["bytes", fc.uint8Array({ maxLength: 20000 }), (w, v) => w.bytes(v), (w, v) => w.bytes(v), (r) => r.bytes()],
  ];
  for (const [name, arb, ours, theirs, read] of cases) {
    fc.assert(
      fc.property(fc.array(arb, { maxLength: 5 }), (values) => {
        const w = new Writer(1); // tiny, so every case also grows the buffer
        const bw = new BinaryWriter();
        for (const v of values) {
          ours(w, v as never);
          theirs(bw, v as never);
        }
        const bytes = w.buf.slice(0, w.pos);
        assert.deepEqual(bytes, bw.finish(), name);
        const r = new Reader(bytes);
        const br = new BinaryReader(bytes);
        for (let i = 0; i < values.length; i++) {
          const want = name === "string" ? br.string() : (br as unknown as Record<string, () => unknown>)[name]();
          assert.deepEqual(read(r), want, name);
        }
        assert.equal(r.pos, bytes.length);
      }),
      { numRuns: 100 },
    );
  }
});

test("strict UTF-8: what TextDecoder(fatal) rejects, the reader rejects, and it accepts the rest alike", () => {
  const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 12 }), arbString.map((s) => new TextEncoder().encode(s))), (data) => {
      const w = new BinaryWriter();
      w.bytes(data);
      const r = new Reader(w.finish());
      let want: string | undefined;
      try {
        want = fatal.decode(data);
      } catch {
        want = undefined;
      }
      if (want === undefined) assert.throws(() => r.string(), DecodeError);
      else assert.equal(r.string(), want);
    }),
    { numRuns: 2000 },
  );
});

test("lengths of 2 and 3 bytes: a large packet nested two deep matches protobuf-es", () => {
  for (const size of [127, 128, 16383, 16384, 70000]) {
    const data = new Uint8Array(size).map((_, i) => i & 0xff);
    const pb = create(RequestSchema, {
      stream: { id: 2n ** 40n },
      type: { case: "message", value: { hasMessage: true, packetMessage: { data, eom: true } } },
    });
    const bytes = toBinary(RequestSchema, pb);
    const plain = toPlain(RequestSchema, pb as unknown as Obj);
    assert.deepEqual(encodeRequest(plain as never), bytes, `size ${size}`);
    assert.deepEqual(decodeRequest(bytes), plain);
  }
});

// ---------------------------------------------------------------------------------------------
// Malformed input

const hex = (h: string) => new Uint8Array(h.split(" ").filter(Boolean).map((x) => parseInt(x, 16)));

test("malformed input throws DecodeError with a clear message", () => {
  const cases: [string, string, RegExp][] = [
    ["truncated varint", "0a 01 61 ff", /truncated varint/],
    ["truncated varint in a tag", "80", /truncated varint at offset 0/],
    ["varint longer than ten bytes", "28 ff ff ff ff ff ff ff ff ff ff 01", /longer than ten bytes/],
    ["length past the end", "0a 05 61 62", /length 5 runs past the end \(4\)/],
    ["wrong wire type for a known field", "0d 00 00 00 00", /field 1 has wire type fixed32, expected length-delimited/],
    ["field number 0", "00 00", /field number 0/],
    ["wire type 7", "0f", /invalid wire type 7/],
    ["end-group without start", "2c", /unexpected end-group for field 5/],
    ["unterminated group", "2b 08 01", /truncated varint/],
    ["mismatched group end", "2b 34", /end-group 6 does not match start-group 5/],
    ["fixed64 past the end", "29 00 00", /8-byte value runs past the end/],
    ["invalid UTF-8", "0a 02 c3 28", /invalid UTF-8 at offset 2/],
    ["overlong UTF-8", "0a 02 c0 80", /invalid UTF-8/],
    ["UTF-8 surrogate", "0a 03 ed a0 80", /invalid UTF-8/],
    ["cut-off UTF-8", "0a 02 e2 82", /truncated UTF-8/],
    ["tag overflowing 32 bits", "ff ff ff ff 7f 00", /tag varint overflows 32 bits/],
  ];
  for (const [what, bytes, message] of cases) {
    assert.throws(() => decodeResourceName(hex(bytes)), (e: unknown) => e instanceof DecodeError && message.test(e.message), what);
  }
  // protobuf-es rejects these too (where it checks at all).
  assert.throws(() => fromBinary(ResourceNameSchema, hex("0a 05 61 62")));
  assert.throws(() => fromBinary(ResourceNameSchema, hex("0a 02 c3 28")));
});

test("a nested message that runs past its parent's length is an error, not a silent misread", () => {
  // Request { stream (len 1) { tag of id, but its varint lies outside the stream's one byte } }
  assert.throws(() => decodeRequest(hex("0a 01 08 05")), /message overruns its length \(ends at 3\)/);
  // A string inside Stream would be fine at the top level, but here it overruns the nested length.
  assert.throws(() => decodeRequest(hex("0a 02 12 03 61 62 63")), DecodeError);
});

test("Struct nesting deeper than 100 is refused instead of exhausting the stack", () => {
  // Value{list_value{values: Value{list_value{...}}}} 150 deep, built inside out.
  let v: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < 150; i++) {
    const list = concat(hex("0a"), varint(v.length), v); // ListValue.values = 1
    v = concat(hex("32"), varint(list.length), list); // Value.list_value = 6
  }
  const entry = concat(hex("0a 01 6b 12"), varint(v.length), v); // key "k", value
  const readings = concat(hex("0a"), varint(entry.length), entry); // GetReadingsResponse.readings = 1
  assert.throws(() => byType.get("viam.common.v1.GetReadingsResponse")!.decode(readings), /nested too deeply/);
});

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return new Uint8Array(out);
}

// ---------------------------------------------------------------------------------------------
// Code size: what the firmware would carry, against protobuf-es for the same .proto files

const require = createRequire(import.meta.url);

/** JavaScript without comments (both sides ship comments in their JS; a firmware build drops them). */
function stripped(file: string): string {
  const out = ts.transpileModule(readFileSync(file, "utf8"), {
    compilerOptions: { removeComments: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  });
  return out.outputText.replace(/^\/\/# sourceMappingURL=.*$/m, "");
}

/** Every module reachable by static imports from `entries` (bare @bufbuild/protobuf specifiers included). */
function closure(entries: string[]): string[] {
  const seen = new Set<string>();
  const todo = [...entries];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const code = stripped(file);
    for (const m of code.matchAll(/(?:import|export)\s*(?:[^'"]*?\sfrom\s*)?["']([^"']+)["']/g)) {
      const spec = m[1];
      if (spec.startsWith(".")) todo.push(resolve(dirname(file), spec));
      else if (spec.startsWith("@bufbuild/protobuf")) todo.push(require.resolve(spec).replace("/cjs/", "/esm/"));
    }
  }
  return [...seen];
}

function measure(files: string[]): { files: number; raw: number; gzip: number } {
  const text = files.map(stripped).join("\n");
  return { files: files.length, raw: Buffer.byteLength(text), gzip: gzipSync(text, { level: 9 }).length };
}

test("size: proto/micro against protobuf-es for the same .proto files (report)", () => {
  const microFiles = walk(microGen).filter((f) => f.endsWith(".js"));
  const protos = microFiles.map((f) => relative(microGen, f).replace(/_micro\.js$/, ""));
  // protobuf-es keeps the google/protobuf types in its runtime package; the rest is our protoc-gen-es output.
  const pbFiles = protos.filter((p) => !p.startsWith("google/protobuf/")).map((p) => join(pbGen, `${p}_pb.js`));
  const ours = { gen: measure(microFiles), all: measure(closure(microFiles)) };
  // toBinary and fromBinary live in the package index, which the generated files do not import themselves.
  const pbRuntimeEntries = [require.resolve("@bufbuild/protobuf").replace("/cjs/", "/esm/")];
  const theirs = { gen: measure(pbFiles), all: measure(closure([...pbFiles, ...pbRuntimeEntries])) };
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const row = (what: string, m: { files: number; raw: number; gzip: number }) =>
    `  ${what.padEnd(46)} ${String(m.files).padStart(4)} files ${kb(m.raw).padStart(11)} ${kb(m.gzip).padStart(10)} gzip`;
  console.log(
    [
      `code size, comments removed (${codecs.length} messages in ${protos.length} .proto files):`,
      row("proto/micro generated codecs", ours.gen),
      row("protobuf-es generated _pb.js (whole files)", theirs.gen),
      row("proto/micro codecs + runtime.ts", ours.all),
      row("protobuf-es _pb.js + runtime module graph", theirs.all),
      "  (protobuf-es's module graph is unbundled, so it is an upper bound a tree-shaking bundler would cut)",
    ].join("\n"),
  );
  assert.ok(ours.all.gzip < theirs.all.gzip, "the micro codecs and runtime should be smaller than protobuf-es");
});

// ---------------------------------------------------------------------------------------------

test("microCodecBench runs and checks its messages byte for byte before timing", async () => {
  const rows = await microCodecBench({ rounds: 1, roundMs: 5 });
  assert.equal(rows.length, 6);
  for (const r of rows) {
    assert.ok(r.value > 0 && r.floor > 0, r.name);
    assert.equal(r.unit, "ops/s");
    assert.ok(Math.abs(r.ratio - r.value / r.floor) < 1e-9);
  }
});
