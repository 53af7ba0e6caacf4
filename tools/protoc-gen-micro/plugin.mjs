// @ts-check
// protoc-gen-micro: generates small, reflection-free protobuf codecs for the ESP32 micro runtime.
//
// For each selected message it emits a plain TypeScript interface (the same property names and value
// shapes as protobuf-es, minus $typeName) and encodeX/decodeX plus the writeX/readX they unroll into,
// one statement per field, all calling the hand-written runtime (proto/micro/runtime.ts). Output bytes
// are meant to equal protobuf-es's toBinary; test/proto/micro-codec.test.ts checks that for every
// generated message.
//
// Options (buf.gen.yaml `opt:`):
//   message=PATTERN   a fully-qualified message name to generate; `*` matches within one name segment,
//                     `**` across dots. Repeatable. Messages they use are generated too. Without any
//                     message= option, every message of the files buf asks for is generated.
//   runtime=PATH      import path of the runtime relative to the output directory (default ../runtime.js).
//   target=ts         the only target; import_extension is ignored (imports always end in .js).
//
// Written as plain .mjs so buf can run it on a fresh clone before anything is compiled.
import { ScalarType } from "@bufbuild/protobuf";
import { Edition } from "@bufbuild/protobuf/wkt";
import { createEcmaScriptPlugin, safeIdentifier } from "@bufbuild/protoplugin";

/** @typedef {import("@bufbuild/protobuf").DescMessage} DescMessage */
/** @typedef {import("@bufbuild/protobuf").DescEnum} DescEnum */
/** @typedef {import("@bufbuild/protobuf").DescField} DescField */
/** @typedef {import("@bufbuild/protobuf").DescFile} DescFile */
/** @typedef {{ messages: string[], runtime: string }} Options */

// protobuf-es's FieldPresence.IMPLICIT: proto3 scalars without `optional`.
const IMPLICIT = 2;

// The JSON well-known types: plain JSON values in the generated shape, coded by the runtime.
/** @type {Record<string, { type: string, write: string, read: string, zero: string }>} */
const jsonTypes = {
  "google.protobuf.Struct": { type: "JsonObject", write: "writeStruct", read: "readStruct", zero: "{}" },
  "google.protobuf.Value": { type: "JsonValue", write: "writeValue", read: "readValue", zero: "null" },
  "google.protobuf.ListValue": { type: "JsonValue[]", write: "writeList", read: "readList", zero: "[]" },
};

// protobuf-es unwraps these to scalars; not needed by the firmware, so refused rather than guessed at.
const wrapperTypes = new Set(
  ["Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes"].map((n) => `google.protobuf.${n}Value`),
);

/**
 * Per scalar type: TS type, wire type, the runtime Writer/Reader method, the zero value, and the
 * "is set" test protobuf-es applies under implicit presence (to-binary.js; note -0 counts as set).
 * @type {Map<ScalarType, { ts: string, wt: number, fn: string, zero: string, set: (v: string) => string }>}
 */
const scalars = new Map();
{
  const num = (/** @type {string} */ v) => `${v} !== 0`;
  const big = (/** @type {string} */ v) => `${v} !== 0n`;
  const flt = (/** @type {string} */ v) => `!Object.is(${v}, 0)`;
  /** @type {[ScalarType, string, number, string, string, (v: string) => string][]} */
  const rows = [
    [ScalarType.DOUBLE, "number", 1, "double", "0", flt],
    [ScalarType.FLOAT, "number", 5, "float", "0", flt],
    [ScalarType.INT64, "bigint", 0, "int64", "0n", big],
    [ScalarType.UINT64, "bigint", 0, "uint64", "0n", big],
    [ScalarType.SINT64, "bigint", 0, "sint64", "0n", big],
    [ScalarType.FIXED64, "bigint", 1, "fixed64", "0n", big],
    [ScalarType.SFIXED64, "bigint", 1, "sfixed64", "0n", big],
    [ScalarType.INT32, "number", 0, "int32", "0", num],
    [ScalarType.UINT32, "number", 0, "uint32", "0", num],
    [ScalarType.SINT32, "number", 0, "sint32", "0", num],
    [ScalarType.FIXED32, "number", 5, "fixed32", "0", num],
    [ScalarType.SFIXED32, "number", 5, "sfixed32", "0", num],
    [ScalarType.BOOL, "boolean", 0, "bool", "false", (v) => v],
    [ScalarType.STRING, "string", 2, "string", '""', (v) => `${v} !== ""`],
    [ScalarType.BYTES, "Uint8Array", 2, "bytes", "new Uint8Array(0)", (v) => `${v}.length !== 0`],
  ];
  for (const [type, ts, wt, fn, zero, set] of rows) scalars.set(type, { ts, wt, fn, zero, set });
}

export const protocGenMicro = createEcmaScriptPlugin({
  name: "protoc-gen-micro",
  version: "v0.1.0",
  parseOptions,
  generateTs,
});

/**
 * @param {{ key: string, value: string }[]} raw
 * @returns {Options}
 */
function parseOptions(raw) {
  /** @type {Options} */
  const options = { messages: [], runtime: "../runtime.js" };
  for (const { key, value } of raw) {
    if (key === "message" && value !== "") options.messages.push(value);
    else if (key === "runtime" && value !== "") options.runtime = value;
    else throw new Error(`unknown option ${key}=${value} (known: message=PATTERN, runtime=PATH)`);
  }
  return options;
}

/** @param {import("@bufbuild/protoplugin").Schema<Options>} schema */
function generateTs(schema) {
  const { messages, enums } = select(schema);
  for (const file of schema.allFiles) {
    const fileMessages = [];
    const fileEnums = [];
    for (const t of schema.typesInFile(file)) {
      if (t.kind === "message" && messages.has(t)) fileMessages.push(t);
      if (t.kind === "enum" && enums.has(t)) fileEnums.push(t);
    }
    if (fileMessages.length === 0 && fileEnums.length === 0) continue;
    if (file.edition !== Edition.EDITION_PROTO3) {
      throw new Error(`${file.name}.proto is not proto3; only proto3 is supported`);
    }
    const f = schema.generateFile(`${file.name}_micro.ts`);
    for (const line of emitFile(file, fileMessages, fileEnums, schema.options.runtime)) f.print(line);
  }
}

/**
 * The messages to generate: those the message= patterns name (or every message of the requested
 * files), plus every message and enum they reach through fields.
 * @param {import("@bufbuild/protoplugin").Schema<Options>} schema
 */
function select(schema) {
  /** @type {DescMessage[]} */
  const known = [];
  for (const file of schema.allFiles) for (const t of schema.typesInFile(file)) if (t.kind === "message") known.push(t);
  /** @type {DescMessage[]} */
  let roots;
  if (schema.options.messages.length === 0) {
    const wanted = new Set(schema.files);
    roots = known.filter((m) => wanted.has(m.file));
  } else {
    roots = [];
    for (const pattern of schema.options.messages) {
      const re = globToRegExp(pattern);
      const hits = known.filter((m) => re.test(m.typeName));
      // A typo in buf.gen.yaml should fail the build, not silently drop a codec.
      if (hits.length === 0) throw new Error(`message=${pattern} matches no message`);
      roots.push(...hits);
    }
  }
  /** @type {Set<DescMessage>} */
  const messages = new Set();
  /** @type {Set<DescEnum>} */
  const enums = new Set();
  /** @param {DescMessage} m */
  const visit = (m) => {
    if (messages.has(m) || m.typeName in jsonTypes) return;
    messages.add(m);
    for (const field of m.fields) {
      check(field);
      if (field.message !== undefined) visit(field.message);
      if (field.enum !== undefined) enums.add(field.enum);
    }
  };
  roots.forEach(visit);
  return { messages, enums };
}

/**
 * Refuses what the generator does not implement, naming the field, so nothing is miscoded silently.
 * @param {DescField} field
 */
function check(field) {
  const where = `${field.parent.typeName}.${field.name}`;
  const refuse = (/** @type {string} */ what) => {
    throw new Error(`${where}: ${what} is not supported`);
  };
  if (field.fieldKind === "map" && field.mapKey !== ScalarType.STRING) refuse("a map key other than string");
  // Both flags exist only on some field kinds; absent means false.
  const flags = /** @type {{ delimitedEncoding?: boolean, longAsString?: boolean }} */ (field);
  if (flags.delimitedEncoding) refuse("group encoding");
  if (flags.longAsString) refuse("jstype = JS_STRING");
  if (field.message !== undefined && wrapperTypes.has(field.message.typeName)) refuse("a wrapper type");
  if (field.enum !== undefined && !field.enum.open) refuse("a closed enum");
}

/** @param {string} pattern */
function globToRegExp(pattern) {
  const escaped = pattern
    .split("**")
    .map((part) => part.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^.]*"))
    .join(".*");
  return new RegExp(`^${escaped}$`);
}

/**
 * The identifier protobuf-es gives a message or enum: the type name without the package, nested names
 * joined with "_" (viam.robot.v1.ResourceStatus.State becomes ResourceStatus_State).
 * @param {DescMessage | DescEnum} desc
 */
function shapeName(desc) {
  const pkg = desc.file.proto.package;
  return safeIdentifier(desc.typeName.slice(pkg.length > 0 ? pkg.length + 1 : 0).replace(/\./g, "_"));
}

/**
 * Import bookkeeping for one output file: hands out identifiers for runtime and other-file symbols,
 * renaming one (`Name$1`) when it would clash with a local declaration or another import.
 */
class Imports {
  /**
   * @param {DescFile} file
   * @param {string[]} locals names declared in this file
   * @param {string} runtime runtime import path relative to the output root
   */
  constructor(file, locals, runtime) {
    this.file = file;
    this.taken = new Set(locals);
    // import path -> (exported name -> { alias, typeOnly })
    /** @type {Map<string, Map<string, { alias: string, typeOnly: boolean }>>} */
    this.from = new Map();
    // Paths below are relative to the output root; a file in a/b/ first climbs two levels.
    this.up = "../".repeat(file.name.split("/").length - 1);
    const path = this.up + runtime.replace(/^\.\//, "");
    this.runtimePath = path.startsWith(".") ? path : `./${path}`;
  }

  /**
   * @param {string} name
   * @param {string} path
   * @param {boolean} typeOnly
   */
  use(name, path, typeOnly) {
    let names = this.from.get(path);
    if (names === undefined) this.from.set(path, (names = new Map()));
    const have = names.get(name);
    if (have !== undefined) {
      // A value import also serves type uses.
      if (!typeOnly) have.typeOnly = false;
      return have.alias;
    }
    let alias = name;
    for (let i = 1; this.taken.has(alias); i++) alias = `${name}$${i}`;
    this.taken.add(alias);
    names.set(name, { alias, typeOnly });
    return alias;
  }

  /** A runtime export (Writer, readStruct, ...). */
  rt(/** @type {string} */ name, typeOnly = false) {
    return this.use(name, this.runtimePath, typeOnly);
  }

  /**
   * A generated symbol for a message: prefix "" for the interface, "write"/"read" for functions.
   * @param {DescMessage} desc
   * @param {string} prefix
   */
  msg(desc, prefix) {
    const name = prefix + shapeName(desc);
    if (desc.file === this.file) return name;
    return this.use(name, `${this.up || "./"}${desc.file.name}_micro.js`, prefix === "");
  }

  /** The import statements, sorted so output is stable. */
  lines() {
    const out = [];
    for (const path of [...this.from.keys()].sort()) {
      const names = [...(this.from.get(path) ?? new Map()).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const spec = (/** @type {[string, { alias: string }]} */ [n, { alias }]) => (alias === n ? n : `${n} as ${alias}`);
      const types = names.filter(([, v]) => v.typeOnly).map(spec);
      const values = names.filter(([, v]) => !v.typeOnly).map(spec);
      if (types.length > 0) out.push(`import type { ${types.join(", ")} } from "${path}";`);
      if (values.length > 0) out.push(`import { ${values.join(", ")} } from "${path}";`);
    }
    return out;
  }
}

/**
 * How one element (a singular field's value, a list item, a map value) is typed, written and read.
 * @typedef {{ ts: string, wt: number, msg: boolean, write: string, read: string, zero: string,
 *   set: (v: string) => string, note: string }} Elem
 */

/**
 * @param {Imports} im
 * @param {DescField} field
 * @returns {Elem}
 */
function elem(im, field) {
  const message = field.message;
  if (message !== undefined) {
    const json = jsonTypes[message.typeName];
    if (json !== undefined) {
      const ts = json.type.replace(/^Json\w+/, (n) => im.rt(n, true));
      return { ts, wt: 2, msg: true, write: im.rt(json.write), read: im.rt(json.read), zero: json.zero, set: (v) => `${v} !== undefined`, note: "" };
    }
    // An absent map value is the empty message; reading zero bytes yields exactly that.
    const read = im.msg(message, "read");
    return { ts: im.msg(message, ""), wt: 2, msg: true, write: im.msg(message, "write"), read, zero: `${read}(r, r.pos)`, set: (v) => `${v} !== undefined`, note: "" };
  }
  if (field.enum !== undefined) {
    // Enums are open numbers (unknown values survive decoding); the comment names the enum.
    const s = /** @type {NonNullable<ReturnType<typeof scalars.get>>} */ (scalars.get(ScalarType.INT32));
    return { ...s, msg: false, write: s.fn, read: s.fn, note: ` // enum ${field.enum.typeName}` };
  }
  const s = scalars.get(/** @type {ScalarType} */ (field.scalar));
  if (s === undefined) throw new Error(`unknown scalar type in ${field.parent.typeName}.${field.name}`);
  return { ...s, msg: false, write: s.fn, read: s.fn, note: "" };
}

/**
 * Statement writing `value` with its tag.
 * @param {Elem} el
 * @param {number} tag
 * @param {string} value
 */
function writeTagged(el, tag, value) {
  // Always one statement, so callers can put it after an `if` or `for` without braces.
  return el.msg ? `w.msg(${tag}, ${value}, ${el.write});` : `{ w.uint32(${tag}); w.${el.write}(${value}); }`;
}

/**
 * Expression reading one element; `prev` is what a message merges into.
 * @param {Elem} el
 * @param {string} [prev]
 */
function readExpr(el, prev) {
  return el.msg ? `${el.read}(r, r.len()${prev === undefined ? "" : `, ${prev}`})` : `r.${el.read}()`;
}

/**
 * @param {DescFile} file
 * @param {DescMessage[]} messages
 * @param {DescEnum[]} enums
 * @param {string} runtime
 */
function emitFile(file, messages, enums, runtime) {
  const locals = [];
  for (const m of messages) {
    const n = shapeName(m);
    locals.push(n, `write${n}`, `read${n}`, `encode${n}`, `decode${n}`);
  }
  for (const e of enums) locals.push(shapeName(e));
  if (new Set(locals).size !== locals.length) throw new Error(`generated names clash in ${file.name}.proto`);

  const im = new Imports(file, locals, runtime);
  /** @type {string[]} */
  const body = [];
  for (const e of enums) emitEnum(body, e);
  for (const m of messages) emitMessage(body, im, m);
  const pkg = file.proto.package;
  return [
    `// @generated by protoc-gen-micro from ${file.name}.proto${pkg ? ` (package ${pkg})` : ""}. Do not edit; run \`npm run gen\`.`,
    "/* eslint-disable */",
    "",
    ...im.lines(),
    ...body,
  ];
}

/**
 * Enum values as a frozen-shape object, with protobuf-es's short value names (prefix stripped).
 * @param {string[]} out
 * @param {DescEnum} e
 */
function emitEnum(out, e) {
  out.push("", `/** ${e.typeName} */`, `export const ${shapeName(e)} = {`);
  for (const v of e.values) out.push(`  ${v.localName}: ${v.number},`);
  out.push("} as const;");
}

/**
 * @param {string[]} out
 * @param {Imports} im
 * @param {DescMessage} m
 */
function emitMessage(out, im, m) {
  const name = shapeName(m);
  const Writer = im.rt("Writer", true);
  const Reader = im.rt("Reader", true);

  // The plain shape: protobuf-es's property names and value types.
  out.push("", `/** ${m.typeName} */`, `export interface ${name} {`);
  /** @type {string[]} */
  const init = [];
  for (const member of m.members) {
    if (member.kind === "oneof") {
      const cases = member.fields.map((f) => `{ case: "${f.localName}"; value: ${elem(im, f).ts} }`);
      out.push(`  ${member.localName}: ${[...cases, "{ case: undefined; value?: undefined }"].join(" | ")};`);
      init.push(`${member.localName}: { case: undefined }`);
      continue;
    }
    const f = member;
    const el = elem(im, f);
    const key = f.localName;
    switch (f.fieldKind) {
      case "list":
        out.push(`  ${key}: ${el.ts.endsWith("]") ? `(${el.ts})` : el.ts}[];${el.note}`);
        init.push(`${key}: []`);
        break;
      case "map":
        out.push(`  ${key}: { [key: string]: ${el.ts} };${el.note}`);
        init.push(`${key}: {}`);
        break;
      case "message":
        out.push(`  ${key}?: ${el.ts};`);
        init.push(`${key}: undefined`);
        break;
      default:
        if (f.presence === IMPLICIT) {
          out.push(`  ${key}: ${el.ts};${el.note}`);
          init.push(`${key}: ${el.zero}`);
        } else {
          out.push(`  ${key}?: ${el.ts};${el.note}`);
          init.push(`${key}: undefined`);
        }
    }
  }
  out.push("}");

  // Writer: fields in field-number order, as protobuf-es writes them (oneof members interleave).
  const encode = im.rt("encode");
  const decode = im.rt("decode");
  out.push("", `export function write${name}(w: ${Writer}, m: ${name}): void {`);
  for (const f of [...m.fields].sort((a, b) => a.number - b.number)) out.push(`  ${writeField(im, f)}`);
  out.push("}");

  // Reader: a switch on the field number; each case checks the wire type, unknown fields are skipped.
  out.push(
    "",
    `export function read${name}(r: ${Reader}, end: number, m: ${name} = { ${init.join(", ")} }): ${name} {`,
    "  while (r.pos < end) {",
    "    const t = r.tag();",
    "    switch (t >>> 3) {",
  );
  for (const f of m.fields) out.push(`      case ${f.number}: ${readField(im, f)} break;`);
  out.push("      default: r.skip(t);", "    }", "  }", "  r.done(end);", "  return m;", "}");

  out.push(
    "",
    `export function encode${name}(m: ${name}): Uint8Array {`,
    `  return ${encode}(m, write${name});`,
    "}",
    "",
    `export function decode${name}(bytes: Uint8Array): ${name} {`,
    `  return ${decode}(bytes, read${name});`,
    "}",
  );
}

/**
 * One statement of writeX for a field.
 * @param {Imports} im
 * @param {DescField} f
 */
function writeField(im, f) {
  const el = elem(im, f);
  const v = `m.${f.localName}`;
  if (f.oneof !== undefined) {
    // A oneof member is written whenever it is the selected case, even with a zero value.
    const o = `m.${f.oneof.localName}`;
    return `if (${o}.case === "${f.localName}") ${writeTagged(el, (f.number << 3) | el.wt, `${o}.value`)}`;
  }
  switch (f.fieldKind) {
    case "list":
      if (f.packed) {
        // Packed: one length-delimited record holding every item; nothing at all when empty.
        const tag = (f.number << 3) | 2;
        return `if (${v}.length !== 0) { w.uint32(${tag}); const at = w.fork(); for (const v of ${v}) w.${el.write}(v); w.join(at); }`;
      }
      return `for (const v of ${v}) ${writeTagged(el, (f.number << 3) | el.wt, "v")}`;
    case "map": {
      // Each entry is a message with key = 1 and value = 2, both always written (as protobuf-es does).
      const tag = (f.number << 3) | 2;
      return `for (const k of Object.keys(${v})) { w.uint32(${tag}); const at = w.fork(); w.uint32(10); w.string(k); ${writeTagged(el, 16 | el.wt, `${v}[k]`)} w.join(at); }`;
    }
    case "message":
      return `if (${v} !== undefined) ${writeTagged(el, (f.number << 3) | 2, v)}`;
    default: {
      const set = f.presence === IMPLICIT ? el.set(v) : `${v} !== undefined`;
      return `if (${set}) ${writeTagged(el, (f.number << 3) | el.wt, v)}`;
    }
  }
}

/**
 * The body of readX's `case` for a field.
 * @param {Imports} im
 * @param {DescField} f
 */
function readField(im, f) {
  const el = elem(im, f);
  const v = `m.${f.localName}`;
  const want = `r.want(t, ${el.wt});`;
  if (f.oneof !== undefined) {
    const o = `m.${f.oneof.localName}`;
    // The same message member twice merges; any other member replaces the case.
    const prev = el.msg ? `${o}.case === "${f.localName}" ? ${o}.value : undefined` : undefined;
    return `${want} ${o} = { case: "${f.localName}", value: ${readExpr(el, prev)} };`;
  }
  switch (f.fieldKind) {
    case "list":
      if (!el.msg && el.wt !== 2) {
        // Packable scalars are accepted packed or not, whatever the schema says (the spec requires it).
        return `if ((t & 7) === 2) { const e = r.len(); while (r.pos < e) ${v}.push(r.${el.read}()); r.done(e); } else { ${want} ${v}.push(r.${el.read}()); }`;
      }
      return `${want} ${v}.push(${readExpr(el)});`;
    case "map": {
      // Missing key or value means the zero value; a repeated key keeps the last entry.
      const value = el.msg ? readExpr(el, "v") : `r.${el.read}()`;
      const setOwn = im.rt("setOwn");
      return (
        `{ r.want(t, 2); const e = r.len(); let k = ""; let v: ${el.ts} | undefined; ` +
        `while (r.pos < e) { const u = r.tag(); ` +
        `if (u >>> 3 === 1) { r.want(u, 2); k = r.string(); } ` +
        `else if (u >>> 3 === 2) { r.want(u, ${el.wt}); v = ${value}; } ` +
        `else r.skip(u); } ` +
        `r.done(e); ${setOwn}(${v}, k, v ?? ${el.zero}); }`
      );
    }
    case "message":
      // A message field seen twice merges into the first, per the spec.
      return `${want} ${v} = ${readExpr(el, v)};`;
    default:
      return `${want} ${v} = r.${el.read}();`;
  }
}
