// ESP32 partition tables: binary with and without the MD5 row, CSV, validation.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { ImageError } from "../../tools/image/bytes.js";
import {
  MODDABLE_DEFAULT_PARTITIONS,
  MODDABLE_PARTITIONS_CSV,
  PARTITION_TABLE_LENGTH,
  buildPartitionTable,
  parsePartitionCsv,
  parsePartitionTable,
  partitionTableToCsv,
  validatePartitions,
  type Partition,
} from "../../tools/image/partition-table.js";

const fromHex = (h: string) => new Uint8Array(h.match(/../g)!.map((b) => parseInt(b, 16)));

// The three rows of Moddable's default table, packed with gen_esp32part.py's struct format
// ("<2sBBLL16sL") in Python.
const MODDABLE_ROWS = fromHex(
  "aa50010200900000006000006e76730000000000000000000000000000000000" +
    "aa50010100f00000001000007068795f696e6974000000000000000000000000" +
    "aa5000000000010000003f00666163746f727900000000000000000000000000",
);

function refused(fn: () => unknown, message: string) {
  assert.throws(fn, (err: Error) => {
    assert.ok(err instanceof ImageError, String(err));
    assert.equal(err.message, message);
    return true;
  });
}

test("Moddable's default table: CSV, constant and binary agree", () => {
  assert.deepEqual(parsePartitionCsv(MODDABLE_PARTITIONS_CSV), MODDABLE_DEFAULT_PARTITIONS);
  const table = buildPartitionTable(MODDABLE_DEFAULT_PARTITIONS);
  assert.equal(table.length, PARTITION_TABLE_LENGTH);
  assert.deepEqual(table.subarray(0, 96), MODDABLE_ROWS);
  assert.ok(table.subarray(96).every((b) => b === 0xff), "end marker and 0xFF fill, no MD5 row");
  assert.deepEqual(parsePartitionTable(table), { partitions: MODDABLE_DEFAULT_PARTITIONS, md5: false, length: 128 });
});

test("with the MD5 row (ESP-IDF's default)", () => {
  const table = buildPartitionTable(MODDABLE_DEFAULT_PARTITIONS, { md5: true });
  const md5Row = table.subarray(96, 128);
  assert.deepEqual([...md5Row.subarray(0, 16)], [0xeb, 0xeb, ...new Array(14).fill(0xff)]);
  assert.deepEqual(md5Row.subarray(16), new Uint8Array(createHash("md5").update(MODDABLE_ROWS).digest()));
  assert.deepEqual(md5Row.subarray(16), fromHex("56fdfae32072518175d59553fc851e49"));
  assert.ok(table.subarray(128).every((b) => b === 0xff));
  assert.deepEqual(parsePartitionTable(table), { partitions: MODDABLE_DEFAULT_PARTITIONS, md5: true, length: 160 });

  // The table read back from a whole flash sector parses the same.
  const sector = new Uint8Array(0x1000).fill(0xff);
  sector.set(table);
  assert.deepEqual(parsePartitionTable(sector).partitions, MODDABLE_DEFAULT_PARTITIONS);

  const bad = table.slice();
  bad[12] = "m".charCodeAt(0); // "nvs" → "mvs"
  const computed = createHash("md5").update(bad.subarray(0, 96)).digest("hex");
  refused(() => parsePartitionTable(bad), `partition table MD5 mismatch: stored 56fdfae32072518175d59553fc851e49, computed ${computed}`);
});

test("CSV: names, K/M sizes, automatic offsets, flags; round trip through binary and CSV", () => {
  const csv = `# OTA layout
nvs,      data, nvs,      ,        24K
otadata,  data, ota,      ,        0x2000
phy_init, data, phy,      ,        4k
ota_0,    app,  ota_0,    ,        1M
ota_1,    app,  ota_1,    ,        1M,
storage,  data, littlefs, 0x300000, 0x10000, readonly
secrets,  data, nvs_keys, ,        0x1000, encrypted:readonly
custom,   0x40, 1,        ,        256K
`;
  const parts = parsePartitionCsv(csv);
  assert.deepEqual(
    parts.map((p) => [p.name, p.type, p.subtype, p.offset, p.size, p.flags]),
    [
      ["nvs", 1, 0x02, 0x9000, 0x6000, 0],
      ["otadata", 1, 0x00, 0xf000, 0x2000, 0],
      ["phy_init", 1, 0x01, 0x11000, 0x1000, 0],
      ["ota_0", 0, 0x10, 0x20000, 0x100000, 0], // next 64 KiB boundary
      ["ota_1", 0, 0x11, 0x120000, 0x100000, 0],
      ["storage", 1, 0x83, 0x300000, 0x10000, 2],
      ["secrets", 1, 0x04, 0x310000, 0x1000, 3],
      ["custom", 0x40, 1, 0x311000, 0x40000, 0],
    ],
  );
  for (const md5 of [false, true]) {
    const back = parsePartitionTable(buildPartitionTable(parts, { md5 }));
    assert.deepEqual(back.partitions, parts);
    assert.equal(back.md5, md5);
  }
  const text = partitionTableToCsv(parts);
  assert.match(text, /^ota_0, app, ota_0, 0x20000, 0x100000, $/m);
  assert.match(text, /^secrets, data, nvs_keys, 0x310000, 0x1000, encrypted:readonly$/m);
  assert.match(text, /^custom, 0x40, 0x01, 0x311000, 0x40000, $/m);
  assert.deepEqual(parsePartitionCsv(text), parts);
});

test("bad tables are refused with the exact problem", () => {
  const p = (name: string, type: number, offset: number, size: number): Partition => ({ name, type, subtype: type === 0 ? 0 : 2, offset, size, flags: 0 });
  refused(
    () => validatePartitions([p("nvs", 1, 0x9000, 0x6000), p("phy_init", 1, 0xe000, 0x1000)]),
    `partitions "nvs" (0x9000-0xEFFF) and "phy_init" (0xE000-0xEFFF) overlap`,
  );
  refused(() => validatePartitions([p("factory", 0, 0x18000, 0x100000)]), `partition "factory" (app): offset 0x18000 is not aligned to 0x10000`);
  refused(() => validatePartitions([p("nvs", 1, 0x9800, 0x1000)]), `partition "nvs" (data): offset 0x9800 is not aligned to 0x1000`);
  refused(() => validatePartitions([p("nvs", 1, 0x8000, 0x1000)]), `partition "nvs" at 0x8000 overlaps the partition table, which ends at 0x9000`);
  refused(() => validatePartitions([p("a", 1, 0x9000, 0x1000), p("a", 1, 0xa000, 0x1000)]), `partition name "a" is used twice`);
  refused(() => validatePartitions([p("a_name_of_17_char", 1, 0x9000, 0x1000)]), `partition "a_name_of_17_char": name is longer than 16 bytes`);
  refused(() => validatePartitions([p("big", 0, 0x10000, 0x400000)], { flashSize: 0x400000 }), `partition "big" (0x10000-0x40FFFF) ends past the 0x400000-byte flash`);
  refused(
    () => validatePartitions([{ ...p("otadata", 1, 0xd000, 0x1000), subtype: 0 }]),
    `partition "otadata": an otadata partition must be 0x2000 bytes, not 0x1000`,
  );
  refused(() => parsePartitionCsv("nvs, data, nvx, 0x9000, 0x6000\n"), `partition CSV line 1: unknown subtype "nvx" for type data (known: ota, phy, nvs, coredump, nvs_keys, efuse, undefined, esphttpd, fat, spiffs, littlefs, or a number)`);
  refused(() => parsePartitionCsv("# t\nfactory, app, factory, 0x10000,\n"), `partition CSV line 2: partition "factory" has no size`);
  refused(() => parsePartitionCsv("factory, app, factory, 0x10000, lots\n"), `partition CSV line 1: size "lots" is not a number`);
  refused(() => parsePartitionCsv("nvs, data, nvs, 0x9000, 0x6000, secret\n"), `partition CSV line 1: unknown flag "secret" (known: encrypted, readonly)`);
  refused(() => parsePartitionCsv("nvs, data, nvs, 0x9000, 0x6000\nphy, data, phy, 0xE000, 0x1000\n"), `partitions "nvs" (0x9000-0xEFFF) and "phy" (0xE000-0xEFFF) overlap`);

  const table = buildPartitionTable(MODDABLE_DEFAULT_PARTITIONS);
  const badMagic = table.slice();
  badMagic[32] = 0x55;
  refused(() => parsePartitionTable(badMagic), `partition table row 1 (byte 0x20) starts with 0x55 0x50, not the magic AA 50`);
  refused(() => parsePartitionTable(table.subarray(0, 80)), `partition table is truncated: 80 bytes end inside row 2`);
  refused(() => parsePartitionTable(table.subarray(0, 96)), `partition table is truncated: 96 bytes and no end marker`);
});
