// The CRC32 convention of ESP-IDF's NVS, proven against independent references.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import zlib from "node:zlib";
import { crc32Le, nvsCrc32 } from "../../tools/image/crc32.js";

const check = new TextEncoder().encode("123456789");

test("crc32Le(0, …) is the standard CRC-32: check value 0xCBF43926", () => {
  // esp_rom_crc32_le(0, buf, len) complements 0 on entry: the usual init 0xFFFFFFFF, xorout 0xFFFFFFFF.
  assert.equal(crc32Le(0, check), 0xcbf43926);
  assert.equal(crc32Le(0, new Uint8Array()), 0);
});

test("NVS's crc32_le(0xFFFFFFFF, …): register starts at 0, \"123456789\" → 0xD202D277", () => {
  assert.equal(nvsCrc32(check), 0xd202d277);
  assert.equal(nvsCrc32(new Uint8Array()), 0xffffffff);
  assert.equal(nvsCrc32(new Uint8Array(4)), 0xffffffff); // zeros leave a zero register unchanged
});

test("nvsCrc32 equals zlib.crc32(data, 0xFFFFFFFF), what nvs_partition_gen.py calls", () => {
  for (const size of [1, 7, 24, 28, 100, 4000]) {
    const data = new Uint8Array(randomBytes(size));
    assert.equal(nvsCrc32(data), zlib.crc32(data, 0xffffffff), `size ${size}`);
    assert.equal(crc32Le(0, data), zlib.crc32(data), `size ${size}`);
  }
});

test("chained calls continue one CRC, as Item::calculateCrc32() chains three", () => {
  const a = new Uint8Array(randomBytes(4));
  const b = new Uint8Array(randomBytes(16));
  const c = new Uint8Array(randomBytes(8));
  const whole = new Uint8Array([...a, ...b, ...c]);
  assert.equal(crc32Le(crc32Le(crc32Le(0xffffffff, a), b), c), nvsCrc32(whole));
});

test("golden: the header CRC of page 0 written by nvs_partition_gen.py", () => {
  // Bytes 4..27 of an ACTIVE v2 page with sequence number 0: seq, version 0xFE, 19 × 0xFF.
  // nvs_partition_gen.py stores 84 2D BA B9 at bytes 28..31 (see nvs.test.ts's golden image).
  const header = new Uint8Array(24).fill(0xff);
  header.set([0, 0, 0, 0, 0xfe]);
  assert.equal(nvsCrc32(header), 0xb9ba2d84);
});
