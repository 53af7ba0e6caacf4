// NVS v2 images: golden bytes from Espressif's generator, page layout, every type round-tripping,
// limits, and the parser's CRC checks.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ImageError } from "../../tools/image/bytes.js";
import { nvsCrc32 } from "../../tools/image/crc32.js";
import { NVS_PAGE_SIZE, buildNvs, parseNvs, type NvsEntry } from "../../tools/image/nvs.js";

const hex8 = (n: number) => `0x${n.toString(16).toUpperCase().padStart(8, "0")}`;
const fromHex = (h: string) => new Uint8Array(h.match(/../g)!.map((b) => parseInt(b, 16)));
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);

/** An independent walk of the raw entries (written slots only), for layout assertions. */
function rawEntries(image: Uint8Array) {
  const out: { page: number; slot: number; ns: number; type: number; span: number; chunk: number; key: string; size: number }[] = [];
  for (let p = 0; p < image.length / NVS_PAGE_SIZE; p++) {
    const page = image.subarray(p * NVS_PAGE_SIZE, (p + 1) * NVS_PAGE_SIZE);
    for (let i = 0; i < 126; ) {
      const state = (page[32 + (i >> 2)]! >> ((i & 3) * 2)) & 3;
      if (state !== 0b10) {
        i++;
        continue;
      }
      const e = page.subarray(64 + i * 32, 96 + i * 32);
      const key = new TextDecoder().decode(e.subarray(8, 24)).replace(/\0.*$/s, "");
      out.push({ page: p, slot: i, ns: e[0]!, type: e[1]!, span: e[2]!, chunk: e[3]!, key, size: e[24]! | (e[25]! << 8) });
      i += e[2]!;
    }
  }
  return out;
}

const pageStates = (image: Uint8Array) =>
  Array.from({ length: image.length / NVS_PAGE_SIZE }, (_, p) => u32(image, p * NVS_PAGE_SIZE).toString(16));

test("golden: byte for byte what nvs_partition_gen.py writes", () => {
  // Output of Espressif's esp-idf-nvs-partition-gen for the CSV
  //   M5NSconfig,namespace,,  /  SSID0,data,string,TestNet  /  PASS0,data,string,pass12345
  // with size 0x5000: page 0 header + bitmap + 5 entries (namespace, 2 × string header + data).
  // Every CRC in it was also recomputed with Python's zlib.crc32(data, 0xFFFFFFFF).
  const golden = fromHex(
    "feffffff00000000feffffffffffffffffffffffffffffffffffffff842dbab9" +
      "aafeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" +
      "000101ffc0d4ad3a4d354e53636f6e66696700000000000001ffffffffffffff" +
      "012102ff14ade8d6535349443000000000000000000000000800ffffd6c27d08" +
      "546573744e657400ffffffffffffffffffffffffffffffffffffffffffffffff" +
      "012102ff6bf9046e504153533000000000000000000000000a00ffff1e54fbca" +
      "70617373313233343500ffffffffffffffffffffffffffffffffffffffffffff",
  );
  const image = buildNvs(
    [
      { namespace: "M5NSconfig", key: "SSID0", type: "str", value: "TestNet" },
      { namespace: "M5NSconfig", key: "PASS0", type: "str", value: "pass12345" },
    ],
    { size: 0x5000 },
  );
  assert.equal(image.length, 0x5000);
  assert.deepEqual(image.subarray(0, golden.length), golden);
  assert.ok(image.subarray(golden.length).every((b) => b === 0xff), "the rest is erased");
});

test("one u8 entry: header, bitmap and entry bytes", () => {
  const image = buildNvs([{ namespace: "ns", key: "k", type: "u8", value: 7 }], { size: 0x3000 });
  const page = image.subarray(0, NVS_PAGE_SIZE);
  assert.equal(u32(page, 0), 0xfffffffe, "ACTIVE");
  assert.equal(u32(page, 4), 0, "sequence number");
  assert.equal(page[8], 0xfe, "version 2");
  assert.equal(u32(page, 28), nvsCrc32(page.subarray(4, 28)));
  assert.deepEqual([...page.subarray(32, 36)], [0xfa, 0xff, 0xff, 0xff], "two entries written: 10 10 11 11");
  const entry = page.subarray(96, 128);
  assert.deepEqual([...entry.subarray(0, 4)], [1, 0x01, 1, 0xff], "ns 1, u8, span 1, chunk any");
  assert.deepEqual([...entry.subarray(8, 24)], [0x6b, ...new Array(15).fill(0)], "key NUL-padded");
  assert.deepEqual([...entry.subarray(24, 32)], [7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "value, rest 0xFF");
  assert.equal(u32(entry, 4), nvsCrc32(new Uint8Array([...entry.subarray(0, 4), ...entry.subarray(8, 32)])));
  assert.deepEqual(pageStates(image), ["fffffffe", "ffffffff", "ffffffff"]);
});

test("every type round-trips", () => {
  const entries: NvsEntry[] = [
    { namespace: "types", key: "u8", type: "u8", value: 255 },
    { namespace: "types", key: "u8zero", type: "u8", value: 0 },
    { namespace: "types", key: "i8", type: "i8", value: -128 },
    { namespace: "types", key: "u16", type: "u16", value: 65535 },
    { namespace: "types", key: "i16", type: "i16", value: -32768 },
    { namespace: "types", key: "u32", type: "u32", value: 0xffffffff },
    { namespace: "types", key: "i32min", type: "i32", value: -2147483648 },
    { namespace: "types", key: "i32max", type: "i32", value: 2147483647 },
    { namespace: "types", key: "u64", type: "u64", value: 0xffffffffffffffffn },
    { namespace: "types", key: "i64", type: "i64", value: -0x8000000000000000n },
    { namespace: "other", key: "empty", type: "str", value: "" },
    { namespace: "other", key: "utf8", type: "str", value: "Grüße, 🤖" },
    { namespace: "other", key: "blob0", type: "blob", value: new Uint8Array() },
    { namespace: "other", key: "blob", type: "blob", value: new Uint8Array([0, 1, 2, 0xff]) },
    { namespace: "types", key: "longest_key_15c", type: "str", value: "x".repeat(3999) },
  ];
  const contents = parseNvs(buildNvs(entries, { size: 0x4000 }));
  assert.deepEqual(contents.entries, entries);
  assert.deepEqual([...contents.namespaces], [["types", 1], ["other", 2]]);
});

test("a blob spanning several pages: one chunk per page, then the index", () => {
  const blob = Uint8Array.from({ length: 10000 }, (_, i) => (i * 31) & 0xff);
  const image = buildNvs([{ namespace: "sprocket", key: "config", type: "blob", value: blob }]);
  const raw = rawEntries(image);
  assert.deepEqual(
    raw.map(({ page, slot, type, span, chunk, size }) => ({ page, slot, type, span, chunk, size })),
    [
      { page: 0, slot: 0, type: 0x01, span: 1, chunk: 0xff, size: 0xff01 }, // namespace "sprocket" → 1
      { page: 0, slot: 1, type: 0x42, span: 125, chunk: 0, size: 3968 }, // the rest of page 0
      { page: 1, slot: 0, type: 0x42, span: 126, chunk: 1, size: 4000 }, // a whole page
      { page: 2, slot: 0, type: 0x42, span: 65, chunk: 2, size: 2032 },
      { page: 2, slot: 65, type: 0x48, span: 1, chunk: 0xff, size: 10000 & 0xffff },
    ],
  );
  const index = image.subarray(2 * NVS_PAGE_SIZE + 64 + 65 * 32, 2 * NVS_PAGE_SIZE + 64 + 66 * 32);
  assert.equal(u32(index, 24), 10000, "total size");
  assert.deepEqual([index[28], index[29], index[30], index[31]], [3, 0, 0xff, 0xff], "3 chunks from chunk 0");
  assert.deepEqual(pageStates(image), ["fffffffc", "fffffffc", "fffffffe", "ffffffff", "ffffffff", "ffffffff"]);
  const contents = parseNvs(image);
  assert.deepEqual(contents.entries, [{ namespace: "sprocket", key: "config", type: "blob", value: blob }]);
  assert.deepEqual(
    contents.pages.map((p) => [p.state, p.seq, p.usedSlots]),
    [["full", 0, 126], ["full", 1, 126], ["active", 2, 66], ["empty", undefined, 0], ["empty", undefined, 0], ["empty", undefined, 0]],
  );
});

test("a blob does not start with a sliver at the end of a page", () => {
  // 120 slots used: 6 left, a data tailroom of 5 × 32 = 160 < 400 bytes → the blob starts on page 1.
  const entries: NvsEntry[] = [
    { namespace: "n", key: "s", type: "str", value: "x".repeat(32 * 118 - 1) }, // 1 + 118 slots after the namespace
    { namespace: "n", key: "b", type: "blob", value: new Uint8Array(1000) },
  ];
  const raw = rawEntries(buildNvs(entries));
  assert.deepEqual(raw.filter((r) => r.type === 0x42).map((r) => [r.page, r.slot, r.size]), [[1, 0, 1000]]);
  assert.deepEqual(parseNvs(buildNvs(entries)).entries, entries);
});

test("strings never span pages: the one that does not fit starts the next page", () => {
  const entries: NvsEntry[] = Array.from({ length: 5 }, (_, i) => ({ namespace: "n", key: `s${i}`, type: "str" as const, value: "y".repeat(900) }));
  const raw = rawEntries(buildNvs(entries));
  // namespace + 4 × 30 slots = 121 on page 0; the fifth needs 30 more.
  assert.deepEqual(raw.map((r) => [r.page, r.slot]), [[0, 0], [0, 1], [0, 31], [0, 61], [0, 91], [1, 0]]);
});

test("limits are refused with a message naming the key", () => {
  const refuse = (entries: NvsEntry[], message: string, size?: number) =>
    assert.throws(() => buildNvs(entries, size === undefined ? {} : { size }), (err: Error) => {
      assert.ok(err instanceof ImageError);
      assert.equal(err.message, message);
      return true;
    });
  refuse([{ namespace: "sprocket", key: "abcdefghijklmnop", type: "u8", value: 1 }], `NVS key "abcdefghijklmnop" is too long: 16 characters, the limit is 15`);
  refuse([{ namespace: "a_namespace_16ch", key: "k", type: "u8", value: 1 }], `NVS namespace "a_namespace_16ch" is too long: 16 characters, the limit is 15`);
  refuse(
    [{ namespace: "sprocket", key: "config", type: "str", value: "z".repeat(4001) }],
    `NVS string "config" is 4002 bytes with its terminating NUL; the limit is 4000 (store larger values as a blob)`,
  );
  refuse(
    [{ namespace: "sprocket", key: "config", type: "str", value: "z".repeat(4000) }],
    `NVS string "config" is 4001 bytes with its terminating NUL; the limit is 4000 (store larger values as a blob)`,
  );
  refuse([{ namespace: "n", key: "k", type: "u8", value: 256 }], `NVS value for key "k" (u8) must be an integer from 0 to 255, got 256`);
  refuse([{ namespace: "n", key: "k", type: "i32", value: 1.5 }], `NVS value for key "k" (i32) must be an integer from -2147483648 to 2147483647, got 1.5`);
  refuse([{ namespace: "n", key: "", type: "u8", value: 1 }], `NVS key in namespace "n" is empty`);
  refuse(
    [
      { namespace: "n", key: "k", type: "u8", value: 1 },
      { namespace: "n", key: "k", type: "i32", value: 1 },
    ],
    `NVS key "k" appears twice in namespace "n"`,
  );
  refuse([], `NVS partition size 0x3001 is not a multiple of 4096 (one page)`, 0x3001);
  refuse([], `NVS partition size 0x2000 is too small: a read/write NVS partition needs at least 3 pages (0x3000)`, 0x2000);
  refuse(
    [{ namespace: "n", key: "b", type: "blob", value: new Uint8Array(9000) }],
    `NVS data needs 3 pages but a 0x3000-byte partition leaves 2 for data (one page stays empty)`,
    0x3000,
  );
  // 3999 bytes + NUL = 4000: exactly one page of data slots.
  assert.doesNotThrow(() => buildNvs([{ namespace: "n", key: "k", type: "str", value: "z".repeat(3999) }], { size: 0x3000 }));
});

function mustFail(image: Uint8Array, message: string) {
  assert.throws(() => parseNvs(image), (err: Error) => {
    assert.ok(err instanceof ImageError);
    assert.equal(err.message, message);
    return true;
  });
}

test("the parser checks every CRC and names the page and entry", () => {
  const base = buildNvs([
    { namespace: "sprocket", key: "wifi_ssid", type: "str", value: "MyNet" },
    { namespace: "sprocket", key: "count", type: "i32", value: 3 },
  ]);

  const header = base.slice();
  header[9] = 0x00; // a reserved header byte
  mustFail(header, `NVS page 0: header CRC is ${hex8(u32(base, 28))}, computed ${hex8(nvsCrc32(header.subarray(4, 28)))}`);

  const entry = base.slice();
  const e1 = 64 + 32; // entry 1: the string header
  entry[e1 + 8 + 5] = "z".charCodeAt(0); // wifi_ssid → wifi_zsid
  const e = entry.subarray(e1, e1 + 32);
  mustFail(
    entry,
    `NVS page 0 entry 1 (key "wifi_zsid"): entry CRC is ${hex8(u32(e, 4))}, computed ${hex8(nvsCrc32(new Uint8Array([...e.subarray(0, 4), ...e.subarray(8, 32)])))}`,
  );

  const data = base.slice();
  data[64 + 2 * 32] = "m".charCodeAt(0); // "MyNet" → "myNet"
  mustFail(data, `NVS page 0 entry 1 (key "wifi_ssid"): data CRC is ${hex8(nvsCrc32(new TextEncoder().encode("MyNet\0")))}, computed ${hex8(nvsCrc32(new TextEncoder().encode("myNet\0")))}`);

  mustFail(base.subarray(0, 5000), `NVS image is 5000 bytes, not a whole number of 4096-byte pages`);

  const corrupt = base.slice();
  new DataView(corrupt.buffer).setUint32(0, 0xfffffff0, true);
  mustFail(corrupt, `NVS page 0 is marked corrupt`);
});

test("a missing blob chunk is reported", () => {
  const image = buildNvs([{ namespace: "sprocket", key: "config", type: "blob", value: new Uint8Array(10000) }]);
  image.fill(0xff, NVS_PAGE_SIZE, 2 * NVS_PAGE_SIZE); // page 1 (chunk 1) erased
  mustFail(image, `NVS page 2 entry 65 (key "config"): blob chunk 1 (2 of 3) is missing`);
});

test("erased entries are skipped and the latest write wins, in sequence order", () => {
  const old = buildNvs([{ namespace: "n", key: "k", type: "i32", value: 1 }], { size: 0x3000 });
  const newer = buildNvs([{ namespace: "n", key: "k", type: "i32", value: 2 }], { size: 0x3000 });
  // Physical page 0 is the newer (sequence 1), page 1 the older (sequence 0).
  const image = new Uint8Array(0x3000).fill(0xff);
  image.set(newer.subarray(0, NVS_PAGE_SIZE), 0);
  image.set(old.subarray(0, NVS_PAGE_SIZE), NVS_PAGE_SIZE);
  const dv = new DataView(image.buffer);
  dv.setUint32(4, 1, true);
  dv.setUint32(28, nvsCrc32(image.subarray(4, 28)), true);
  assert.deepEqual(parseNvs(image).entries, [{ namespace: "n", key: "k", type: "i32", value: 2 }]);

  image[32] &= ~0b1100; // erase the newer entry (slot 1): 10 → 00
  assert.deepEqual(parseNvs(image).entries, [{ namespace: "n", key: "k", type: "i32", value: 1 }]);
});

test("property: any set of entries that fits round-trips", () => {
  const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,14}$/);
  const entry = fc.oneof(
    fc.record({ type: fc.constant("u8" as const), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ type: fc.constant("i32" as const), value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
    fc.record({ type: fc.constant("u64" as const), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
    fc.record({ type: fc.constant("str" as const), value: fc.string({ maxLength: 600 }).filter((s) => !s.includes("\0")) }),
    fc.record({ type: fc.constant("blob" as const), value: fc.uint8Array({ maxLength: 6000 }) }),
  );
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.record({ namespace: fc.constantFrom("sprocket", "other"), key: name, v: entry }), {
        maxLength: 12,
        selector: (e) => `${e.namespace}/${e.key}`,
      }),
      (rows) => {
        const entries = rows.map(({ namespace, key, v }) => ({ namespace, key, ...v }) as NvsEntry);
        const image = buildNvs(entries, { size: 0x20000 });
        assert.deepEqual(parseNvs(image).entries, entries);
      },
    ),
    { numRuns: 60 },
  );
});
