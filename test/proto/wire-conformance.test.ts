// Wire conformance: every message we generate into proto/gen must encode to
// exactly the bytes the official Viam TypeScript SDK (@viamrobotics/sdk, which
// bundles protobuf-es v1 classes generated from viamrobotics/api v0.1.512)
// produces, and the field layout (numbers, names, kinds) must match too.
//
// The test is generic: it walks whatever `*_pb.js` modules were compiled from
// proto/gen (so new .proto files are picked up once generated), collects the
// `file_*` descriptors they export and checks every message, enum and service
// in them against the SDK counterpart with the same type name.
//
// SDK counterparts come from what the package exports (the `*Api` namespaces,
// services in `_connect` namespaces, and every type reachable from their
// fields). Types the package does not export (the goutils proto.rpc.* messages
// and most services) exist only as module-local bindings inside the SDK's
// bundle; for those the test imports a scratch copy of the bundle with those
// bindings re-exported (counted separately as "bundle-internal").
//
// Values are produced by a seeded generator: set WIRE_SEED to change the seed;
// a failure message names the seed and variant so it reproduces. Set
// WIRE_DUMP=<full message name> to print the generated values as JSON.

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import {
  create,
  createRegistry,
  equals,
  fromBinary,
  fromJson,
  ScalarType,
  toBinary,
  toJson,
  type DescEnum,
  type DescField,
  type DescFile,
  type DescMessage,
  type DescService,
  type JsonObject,
  type JsonValue,
  type Message,
  type Registry,
} from "@bufbuild/protobuf";
import { reflect, type ReflectList, type ReflectMap, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import * as wkt from "@bufbuild/protobuf/wkt";
import * as sdk from "@viamrobotics/sdk";

// ---------------------------------------------------------------------------
// Minimal shapes of protobuf-es v1 runtime objects (the SDK's bundled copy).

interface V1FieldInfo {
  readonly no: number;
  readonly name: string;
  readonly jsonName: string;
  readonly kind: "scalar" | "enum" | "message" | "map";
  readonly T?: unknown;
  readonly K?: number;
  readonly V?: { readonly kind: "scalar" | "enum" | "message"; readonly T: unknown };
  readonly repeated?: boolean;
  readonly packed?: boolean;
  readonly opt?: boolean;
  readonly oneof?: { readonly name: string };
}
interface V1Message {
  toBinary(options?: object): Uint8Array;
  toJson(options?: object): JsonValue;
}
interface V1MessageType {
  readonly typeName: string;
  readonly fields: { list(): readonly V1FieldInfo[] };
  fromBinary(bytes: Uint8Array, options?: object): V1Message;
  fromJson(json: JsonValue, options?: object): V1Message;
}
interface V1EnumType {
  readonly typeName: string;
  readonly values: readonly { readonly no: number; readonly name: string }[];
}
interface V1ServiceType {
  readonly typeName: string;
  readonly methods: Record<string, { readonly name: string; readonly I: V1MessageType; readonly O: V1MessageType; readonly kind: number }>;
}

function isV1MessageType(v: unknown): v is V1MessageType {
  if (typeof v !== "function") return false;
  const t = v as unknown as Partial<V1MessageType>;
  return typeof t.typeName === "string" && typeof t.fields?.list === "function" && typeof t.fromBinary === "function";
}
function isV1ServiceType(v: unknown): v is V1ServiceType {
  if (v === null || typeof v !== "object") return false;
  const s = v as Partial<V1ServiceType>;
  return typeof s.typeName === "string" && s.methods !== null && typeof s.methods === "object";
}
function isV1EnumType(v: unknown): v is V1EnumType {
  if (v === null || typeof v !== "object") return false;
  const e = v as Partial<V1EnumType>;
  return typeof e.typeName === "string" && Array.isArray(e.values);
}

// ---------------------------------------------------------------------------
// Our side: load every generated module and collect its descriptors.

const genRoot = fileURLToPath(new URL("../../proto/gen/", import.meta.url));

function walkFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...walkFiles(p));
    else if (entry.endsWith("_pb.js")) out.push(p);
  }
  return out;
}

function isDescFile(v: unknown): v is DescFile {
  return v !== null && typeof v === "object" && (v as { kind?: unknown }).kind === "file" && Array.isArray((v as DescFile).messages);
}

const ourFiles: DescFile[] = [];
for (const path of walkFiles(genRoot)) {
  const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  for (const [name, value] of Object.entries(mod)) {
    if (name.startsWith("file_") && isDescFile(value) && !ourFiles.includes(value)) ourFiles.push(value);
  }
}

function collectMessages(list: readonly DescMessage[], out: DescMessage[]): void {
  for (const m of list) {
    if (m.proto.options?.mapEntry === true) continue;
    out.push(m);
    collectMessages(m.nestedMessages, out);
  }
}
const ourMessages: DescMessage[] = [];
const ourEnums: DescEnum[] = [];
const ourServices: DescService[] = [];
for (const file of ourFiles) {
  const msgs: DescMessage[] = [];
  collectMessages(file.messages, msgs);
  ourMessages.push(...msgs);
  ourEnums.push(...file.enums);
  for (const m of msgs) ourEnums.push(...m.nestedEnums);
  ourServices.push(...file.services);
}

// Registry used for google.protobuf.Any in JSON (our side).
const ourRegistry: Registry = createRegistry(
  ...ourFiles,
  wkt.file_google_protobuf_duration,
  wkt.file_google_protobuf_timestamp,
  wkt.file_google_protobuf_struct,
  wkt.file_google_protobuf_any,
);

// ---------------------------------------------------------------------------
// SDK side: everything the package exports, plus types reachable from fields.

const sdkMessages = new Map<string, V1MessageType>();
const sdkEnums = new Map<string, V1EnumType>();
const sdkServices = new Map<string, V1ServiceType>();
// Where each SDK type came from: "export" or "bundle-internal".
const sdkSource = new Map<string, "export" | "bundle-internal">();

function addSdkMessage(t: V1MessageType, source: "export" | "bundle-internal"): void {
  if (sdkMessages.has(t.typeName)) return;
  sdkMessages.set(t.typeName, t);
  sdkSource.set(t.typeName, source);
  for (const f of t.fields.list()) {
    const ref = f.kind === "map" ? f.V?.T : f.T;
    const refKind = f.kind === "map" ? f.V?.kind : f.kind;
    if (refKind === "message" && isV1MessageType(ref)) addSdkMessage(ref, source);
    if (refKind === "enum" && isV1EnumType(ref) && !sdkEnums.has(ref.typeName)) sdkEnums.set(ref.typeName, ref);
  }
}
function addSdkService(s: V1ServiceType, source: "export" | "bundle-internal"): void {
  if (!sdkServices.has(s.typeName)) {
    sdkServices.set(s.typeName, s);
    sdkSource.set(s.typeName, source);
  }
  for (const m of Object.values(s.methods)) {
    addSdkMessage(m.I, source);
    addSdkMessage(m.O, source);
  }
}
function visitExport(v: unknown, depth: number): void {
  if (isV1MessageType(v)) return addSdkMessage(v, "export");
  if (isV1ServiceType(v) && !isV1EnumType(v)) return addSdkService(v, "export");
  if (depth === 0 && v !== null && typeof v === "object") {
    for (const inner of Object.values(v as Record<string, unknown>)) visitExport(inner, 1);
  }
}
for (const value of Object.values(sdk as Record<string, unknown>)) visitExport(value, 0);

// Types we need that the package does not export: look for their module-level
// bindings in the bundle and import a scratch copy that re-exports them.
const bundlePath = fileURLToPath(import.meta.resolve("@viamrobotics/sdk"));
const bundleText = readFileSync(bundlePath, "utf8");
const bundleNotes: string[] = [];
{
  const wanted = new Set<string>([
    ...ourMessages.map((m) => m.typeName).filter((n) => !sdkMessages.has(n)),
    ...ourServices.map((s) => s.typeName).filter((n) => !sdkServices.has(n)),
  ]);
  const ident = "[A-Za-z_$][\\w$]*";
  const patterns = [
    new RegExp(`(?:^|[\\s,;])(${ident})\\s*=\\s*(?:/\\*\\s*@__PURE__\\s*\\*/\\s*)?${ident}\\.makeMessageType\\(\\s*"([^"]+)"`, "g"),
    new RegExp(`(?:^|[\\s,;])(${ident})\\.typeName\\s*=\\s*"([^"]+)"`, "g"),
    new RegExp(`(?:^|[\\s,;])(${ident})\\s*=\\s*\\{\\s*typeName:\\s*"([^"]+)",\\s*methods:`, "g"),
  ];
  const bindings = new Map<string, string>(); // typeName -> identifier
  for (const re of patterns) {
    for (const m of bundleText.matchAll(re)) {
      const [, id, typeName] = m;
      if (id !== undefined && typeName !== undefined && wanted.has(typeName) && !bindings.has(typeName)) bindings.set(typeName, id);
    }
  }
  if (bindings.size > 0) {
    const dir = mkdtempSync(join(tmpdir(), "sprocket-wire-"));
    try {
      const entries = [...bindings.entries()];
      const exportLine = `\nexport { ${entries.map(([, id], i) => `${id} as __wire${i}`).join(", ")} };\n`;
      const scratch = join(dir, "sdk-internals.mjs");
      writeFileSync(scratch, bundleText + exportLine);
      const mod = (await import(pathToFileURL(scratch).href)) as Record<string, unknown>;
      entries.forEach(([typeName], i) => {
        const v = mod[`__wire${i}`];
        if (isV1MessageType(v) && v.typeName === typeName) addSdkMessage(v, "bundle-internal");
        else if (isV1ServiceType(v) && v.typeName === typeName) addSdkService(v, "bundle-internal");
        else bundleNotes.push(`binding for ${typeName} is not a v1 message/service type`);
      });
    } catch (err) {
      bundleNotes.push(`could not load bundle-internal types: ${String(err)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

// The SDK knows a package if its bundle mentions any type of that package.
function sdkKnowsPackage(pkg: string): boolean {
  return bundleText.includes(`"${pkg}.`);
}

// Registry passed to the SDK's JSON reader/writer for google.protobuf.Any.
const sdkTypeRegistry = {
  findMessage: (typeName: string): V1MessageType | undefined => sdkMessages.get(typeName),
};

// ---------------------------------------------------------------------------
// Field layout signatures, comparable across v1 and v2.

function refName(v: unknown): string {
  return (v !== null && typeof v === "object") || typeof v === "function" ? String((v as { typeName?: unknown }).typeName) : "?";
}

function ourFieldSig(f: DescField): string {
  const parts = [`#${f.number}`, f.name, `json=${f.jsonName}`];
  switch (f.fieldKind) {
    case "scalar":
      parts.push(`scalar:${ScalarType[f.scalar]}`);
      break;
    case "enum":
      parts.push(`enum:${f.enum.typeName}`);
      break;
    case "message":
      parts.push(`message:${f.message.typeName}`);
      break;
    case "list":
      parts.push("repeated");
      if (f.listKind === "scalar") parts.push(`scalar:${ScalarType[f.scalar]}`, `packed=${f.packed}`);
      else if (f.listKind === "enum") parts.push(`enum:${f.enum.typeName}`, `packed=${f.packed}`);
      else parts.push(`message:${f.message.typeName}`);
      break;
    case "map": {
      const value =
        f.mapKind === "scalar" ? `scalar:${ScalarType[f.scalar]}` : f.mapKind === "enum" ? `enum:${f.enum.typeName}` : `message:${f.message.typeName}`;
      parts.push(`map<${ScalarType[f.mapKey]}, ${value}>`);
      break;
    }
  }
  if (f.oneof) parts.push(`oneof=${f.oneof.name}`);
  if (f.proto.proto3Optional === true) parts.push("optional");
  return parts.join(" ");
}

function sdkFieldSig(f: V1FieldInfo): string {
  const parts = [`#${f.no}`, f.name, `json=${f.jsonName}`];
  const one = (kind: string, t: unknown): string =>
    kind === "scalar" ? `scalar:${ScalarType[t as number]}` : `${kind}:${refName(t)}`;
  if (f.kind === "map") {
    parts.push(`map<${ScalarType[f.K as number]}, ${one(f.V?.kind ?? "?", f.V?.T)}>`);
  } else if (f.repeated === true) {
    parts.push("repeated", one(f.kind, f.T));
    if (f.kind !== "message") parts.push(`packed=${f.packed === true}`);
  } else {
    parts.push(one(f.kind, f.T));
  }
  if (f.oneof) parts.push(`oneof=${f.oneof.name}`);
  if (f.opt === true) parts.push("optional");
  return parts.join(" ");
}

// ---------------------------------------------------------------------------
// Deterministic value generation with protobuf-es v2 reflection.

const SEED = Number.parseInt(process.env["WIRE_SEED"] ?? "20260512", 10);
const MAX_DEPTH = 3;

function hash32(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

class Gen {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32: uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return Math.floor(min + this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  sign(): number {
    return this.next() < 0.6 ? -1 : 1;
  }
  str(): string {
    const pieces = ["héllo", "wörld", "✓", "🤖", "日本語", "ß", "Ω≈ç√", "tab\there", "👍🏽", "ascii", "nul\u0000byte"];
    return `${this.pick(pieces)}-${this.int(0, 99999)}-${this.pick(pieces)}`;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.int(1, 12));
    for (let i = 0; i < out.length; i++) out[i] = this.int(0, 255);
    out[0] = this.pick([0x00, 0xff, 0x80, 0x7f]);
    return out;
  }
  double(): number {
    return this.pick([
      () => this.sign() * (this.next() * 1e6 + 0.125),
      () => this.sign() * this.next() * 1e-300,
      () => this.sign() * 1.7976931348623157e308 * this.next(),
      () => this.sign() * this.int(1, 2 ** 53 - 1),
    ])();
  }
  float(): number {
    return Math.fround(this.sign() * (this.next() * 1e4 + 0.5));
  }
  int64(): bigint {
    if (this.next() < 0.15) return this.pick([-(2n ** 63n), 2n ** 63n - 1n]);
    return BigInt(this.sign()) * (BigInt(this.int(1, 2 ** 31)) * BigInt(this.int(1, 2 ** 31)) + BigInt(this.int(0, 999)));
  }
  uint64(): bigint {
    if (this.next() < 0.5) return 2n ** 64n - 1n - BigInt(this.int(0, 1_000_000));
    return BigInt(this.int(1, 2 ** 31)) * BigInt(this.int(1, 2 ** 31));
  }
}

type Scalar = number | bigint | string | boolean | Uint8Array;

function scalarValue(t: ScalarType, g: Gen, zero: boolean): Scalar {
  switch (t) {
    case ScalarType.DOUBLE:
      return zero ? 0 : g.double();
    case ScalarType.FLOAT:
      return zero ? 0 : g.float();
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return zero ? 0 : g.sign() < 0 ? -g.int(1, 2 ** 31) : g.int(1, 2 ** 31 - 1);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return zero ? 0 : g.pick([g.int(1, 1000), g.int(2 ** 31, 2 ** 32 - 1)]);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return zero ? 0n : g.int64();
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return zero ? 0n : g.uint64();
    case ScalarType.BOOL:
      return !zero;
    case ScalarType.STRING:
      return zero ? "" : g.str();
    case ScalarType.BYTES:
      return zero ? new Uint8Array(0) : g.bytes();
  }
}

function mapKeys(t: ScalarType, g: Gen): Scalar[] {
  const n = g.int(2, 3);
  switch (t) {
    case ScalarType.BOOL:
      return [true, false];
    case ScalarType.STRING:
      return Array.from({ length: n }, (_, i) => `k${i}-${g.str()}`);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return Array.from({ length: n }, (_, i) => BigInt(i % 2 === 0 ? -1 : 1) * (BigInt(i + 1) * 1_000_000_007n + 2n ** 40n));
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return Array.from({ length: n }, (_, i) => 2n ** 64n - 1n - BigInt(i));
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return Array.from({ length: n }, (_, i) => 4294967295 - i);
    default:
      return Array.from({ length: n }, (_, i) => (i % 2 === 0 ? -1 : 1) * (1000 + i));
  }
}

function enumValue(e: DescEnum, g: Gen, zero: boolean): number {
  if (zero) return 0;
  const nonZero = e.values.filter((v) => v.number !== 0);
  return nonZero.length > 0 ? g.pick(nonZero).number : 0;
}

function jsonStruct(g: Gen, depth: number): JsonObject {
  const o: JsonObject = {
    num: g.double(),
    int: -g.int(1, 1_000_000),
    yes: true,
    no: false,
    nothing: null,
    text: g.str(),
    list: [g.float(), g.str(), true, null, { inner: g.int(0, 100), deeper: [false, -0.5] }],
  };
  if (depth < 2) o["nested"] = jsonStruct(g, depth + 1);
  return o;
}

// Builders for well-known types that need valid values (JSON round trips).
const special: Record<string, (desc: DescMessage, g: Gen, depth: number) => Message> = {
  "google.protobuf.Struct": (desc, g, depth) => fromJson(desc, jsonStruct(g, depth)),
  "google.protobuf.Value": (desc, g, depth) =>
    fromJson(desc, g.pick<JsonValue>([jsonStruct(g, depth), [g.str(), -3, null, { a: [true] }], g.str(), g.double(), false, null])),
  "google.protobuf.ListValue": (desc, g, depth) => fromJson(desc, [g.str(), g.float(), null, true, jsonStruct(g, depth + 1)]),
  "google.protobuf.Timestamp": (desc, g) =>
    create(desc, { seconds: BigInt(g.int(-62135596800, 253402300799)), nanos: g.int(1, 999_999_999) } as never),
  "google.protobuf.Duration": (desc, g) => {
    const sign = g.sign();
    return create(desc, { seconds: BigInt(sign * g.int(1, 315_576_000_000)), nanos: sign * g.int(1, 999_999_999) } as never);
  },
  "google.protobuf.Any": (desc, g) => {
    const inner =
      g.next() < 0.5
        ? { url: "type.googleapis.com/google.protobuf.Duration", bytes: toBinary(wkt.DurationSchema, special["google.protobuf.Duration"]!(wkt.DurationSchema, g, 0) as wkt.Duration) }
        : { url: "type.googleapis.com/google.protobuf.Timestamp", bytes: toBinary(wkt.TimestampSchema, special["google.protobuf.Timestamp"]!(wkt.TimestampSchema, g, 0) as wkt.Timestamp) };
    return create(desc, { typeUrl: inner.url, value: inner.bytes } as never);
  },
};

interface Variant {
  /** Which case of each oneof to set (modulo the oneof's size). */
  readonly oneofCase: number;
  /** Set proto3 `optional` and scalar oneof members to their zero values (presence must still be encoded). */
  readonly zeroPresence: boolean;
}

function singularValue(f: DescField, r: ReflectMessage, g: Gen, depth: number, variant: Variant, zero: boolean): void {
  switch (f.fieldKind) {
    case "scalar":
      r.set(f, scalarValue(f.scalar, g, zero));
      return;
    case "enum":
      r.set(f, enumValue(f.enum, g, zero));
      return;
    case "message":
      r.set(f, populate(f.message, g, depth + 1, variant));
      return;
    default:
      throw new Error(`unexpected field kind ${f.fieldKind}`);
  }
}

function populate(desc: DescMessage, g: Gen, depth: number, variant: Variant): ReflectMessage {
  const build = special[desc.typeName];
  if (build) return reflect(desc, build(desc, g, depth));
  const r = reflect(desc);
  if (depth > MAX_DEPTH) return r; // present but empty
  for (const member of r.members) {
    if (member.kind === "oneof") {
      const f = member.fields[variant.oneofCase % member.fields.length];
      if (f) singularValue(f, r, g, depth, variant, variant.zeroPresence && f.fieldKind !== "message");
      continue;
    }
    const f = member;
    switch (f.fieldKind) {
      case "scalar":
      case "enum":
        singularValue(f, r, g, depth, variant, variant.zeroPresence && f.proto.proto3Optional === true);
        break;
      case "message":
        singularValue(f, r, g, depth, variant, false);
        break;
      case "list": {
        const list = r.get(f) as ReflectList;
        const n = g.int(2, 3);
        for (let i = 0; i < n; i++) {
          if (f.listKind === "scalar") list.add(scalarValue(f.scalar, g, false));
          else if (f.listKind === "enum") list.add(enumValue(f.enum, g, false));
          else list.add(populate(f.message, g, depth + 1, { oneofCase: variant.oneofCase + i, zeroPresence: variant.zeroPresence }));
        }
        break;
      }
      case "map": {
        const map = r.get(f) as ReflectMap;
        mapKeys(f.mapKey, g).forEach((key, i) => {
          if (f.mapKind === "scalar") map.set(key, scalarValue(f.scalar, g, false));
          else if (f.mapKind === "enum") map.set(key, enumValue(f.enum, g, false));
          else map.set(key, populate(f.message, g, depth + 1, { oneofCase: variant.oneofCase + i, zeroPresence: variant.zeroPresence }));
        });
        break;
      }
    }
  }
  return r;
}

function variantsFor(desc: DescMessage): Variant[] {
  const cases = Math.max(1, ...desc.oneofs.map((o) => o.fields.length));
  const hasPresence =
    desc.fields.some((f) => f.proto.proto3Optional === true && f.fieldKind !== "message") ||
    desc.oneofs.some((o) => o.fields.some((f) => f.fieldKind !== "message"));
  const out: Variant[] = [];
  for (let i = 0; i < cases; i++) out.push({ oneofCase: i, zeroPresence: false });
  if (hasPresence) for (let i = 0; i < cases; i++) out.push({ oneofCase: i, zeroPresence: true });
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

// ---------------------------------------------------------------------------
// Bookkeeping for the summary.

const checkedExport: string[] = [];
const checkedInternal: string[] = [];
const noCounterpart: string[] = [];

// ---------------------------------------------------------------------------
// Tests.

describe("wire conformance with @viamrobotics/sdk", () => {
  test("found generated files and SDK types", () => {
    assert.ok(ourFiles.length > 0, `no *_pb.js files with file_* descriptors under ${genRoot}`);
    assert.ok(ourMessages.length > 0, "no messages in generated files");
    assert.ok(sdkMessages.size > 0, "no message types found in @viamrobotics/sdk exports");
  });

  for (const desc of ourMessages) {
    test(desc.typeName, (t) => {
      const theirs = sdkMessages.get(desc.typeName);
      if (!theirs) {
        noCounterpart.push(desc.typeName);
        const pkg = desc.file.proto.package;
        // A package the SDK knows must contain every message we define in it;
        // otherwise the name (or package) is probably misspelled.
        assert.ok(!sdkKnowsPackage(pkg), `${desc.typeName}: the SDK has types in package ${pkg} but not this message`);
        t.skip(`no SDK counterpart for ${desc.typeName}`);
        return;
      }
      (sdkSource.get(desc.typeName) === "export" ? checkedExport : checkedInternal).push(desc.typeName);

      // 1. Layout: numbers, names, kinds, repeated/map/oneof/optional.
      const ours = desc.fields.map(ourFieldSig).sort();
      const sdkSigs = theirs.fields.list().map(sdkFieldSig).sort();
      assert.deepEqual(ours, sdkSigs, `field layout of ${desc.typeName} differs from the SDK`);
      const ourOneofs = desc.oneofs.map((o) => `${o.name}: ${o.fields.map((f) => f.number).sort((a, b) => a - b).join(",")}`).sort();
      const sdkOneofMap = new Map<string, number[]>();
      for (const f of theirs.fields.list()) if (f.oneof) sdkOneofMap.set(f.oneof.name, [...(sdkOneofMap.get(f.oneof.name) ?? []), f.no]);
      const sdkOneofs = [...sdkOneofMap].map(([n, nos]) => `${n}: ${nos.sort((a, b) => a - b).join(",")}`).sort();
      assert.deepEqual(ourOneofs, sdkOneofs, `oneofs of ${desc.typeName} differ from the SDK`);

      // 2. Bytes, both directions, for every variant.
      for (const [vi, variant] of variantsFor(desc).entries()) {
        const where = `${desc.typeName} variant ${vi} (oneofCase=${variant.oneofCase}, zeroPresence=${variant.zeroPresence}, WIRE_SEED=${SEED})`;
        const g = new Gen(hash32(`${SEED}:${desc.typeName}:${vi}`));
        const msg = populate(desc, g, 0, variant).message;

        // ours -> bytes -> SDK decode -> SDK encode: identical bytes.
        const ourBytes = toBinary(desc, msg);
        const sdkMsg = theirs.fromBinary(ourBytes, { readUnknownFields: false });
        assert.equal(hex(sdkMsg.toBinary()), hex(ourBytes), `SDK re-encoding of our bytes differs: ${where}`);

        // ours -> JSON -> SDK message -> SDK bytes: identical bytes, and our
        // decoder reads them back to an equal message.
        const ourJson = toJson(desc, msg, { registry: ourRegistry });
        if (process.env["WIRE_DUMP"] === desc.typeName) t.diagnostic(`${where}: ${JSON.stringify(ourJson)} = ${hex(ourBytes)}`);
        const sdkFromJson = theirs.fromJson(ourJson, { typeRegistry: sdkTypeRegistry });
        const sdkBytes = sdkFromJson.toBinary();
        assert.equal(hex(sdkBytes), hex(ourBytes), `SDK encoding of a message built from our JSON differs: ${where}`);
        const back = fromBinary(desc, sdkBytes, { readUnknownFields: false });
        assert.ok(equals(desc, back, msg), `decoding SDK bytes did not give back the original message: ${where}`);
        assert.deepEqual(sdkFromJson.toJson({ typeRegistry: sdkTypeRegistry }), ourJson, `SDK JSON differs from ours: ${where}`);
      }
    });
  }

  for (const e of ourEnums) {
    test(`enum ${e.typeName}`, (t) => {
      const theirs = sdkEnums.get(e.typeName);
      if (!theirs) {
        t.skip(`no SDK counterpart for enum ${e.typeName}`);
        return;
      }
      assert.deepEqual(
        e.values.map((v) => `${v.number}=${v.name}`),
        theirs.values.map((v) => `${v.no}=${v.name}`),
        `values of enum ${e.typeName} differ from the SDK`,
      );
    });
  }

  const kinds = ["unary", "server_streaming", "client_streaming", "bidi_streaming"];
  for (const s of ourServices) {
    test(`service ${s.typeName}`, (t) => {
      const theirs = sdkServices.get(s.typeName);
      if (!theirs) {
        t.skip(`no SDK counterpart for service ${s.typeName}`);
        return;
      }
      const ours = s.methods.map((m) => `${m.name} ${m.methodKind} ${m.input.typeName} -> ${m.output.typeName}`).sort();
      const sdkSigs = Object.values(theirs.methods)
        .map((m) => `${m.name} ${kinds[m.kind] ?? m.kind} ${m.I.typeName} -> ${m.O.typeName}`)
        .sort();
      // We may leave out methods whose messages come from packages we do not
      // define (e.g. RobotService.SendTraces); everything we have must match.
      const sdkByName = new Map(sdkSigs.map((sig) => [sig.split(" ")[0], sig]));
      for (const sig of ours) assert.equal(sdkByName.get(sig.split(" ")[0]), sig, `method of ${s.typeName} differs from the SDK`);
      const missing = [...sdkByName.keys()].filter((n) => !s.methods.some((m) => m.name === n));
      if (missing.length > 0) t.diagnostic(`${s.typeName}: SDK methods we do not define: ${missing.join(", ")}`);
    });
  }

  test("summary", (t) => {
    for (const note of bundleNotes) t.diagnostic(note);
    t.diagnostic(
      `messages: ${ourMessages.length} in proto/gen; ${checkedExport.length} checked against exported SDK classes, ` +
        `${checkedInternal.length} against bundle-internal SDK classes, ${noCounterpart.length} without SDK counterpart`,
    );
    if (checkedInternal.length > 0) t.diagnostic(`bundle-internal: ${checkedInternal.sort().join(", ")}`);
    if (noCounterpart.length > 0) t.diagnostic(`no SDK counterpart: ${noCounterpart.sort().join(", ")}`);
    assert.equal(checkedExport.length + checkedInternal.length + noCounterpart.length, ourMessages.length);
  });
});
