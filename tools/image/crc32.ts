// CRC-32 as ESP-IDF computes it. Portable (no Node APIs).
//
// `crc32Le(crc, bytes)` has the semantics of ESP-IDF's `esp_rom_crc32_le(crc, buf, len)`: the
// reflected CRC-32 (polynomial 0xEDB88320) with the register set to `~crc` on entry and
// complemented on exit, so a call can continue from the result of another. With `crc = 0` it is
// the usual CRC-32 (zlib, PNG): "123456789" → 0xCBF43926.
//
// NVS seeds it with 0xFFFFFFFF (`Item::calculateCrc32()`, `Page` header CRC), which makes the
// register start at 0: "123456789" → 0xD202D277. `nvs_partition_gen.py` gets the same numbers from
// Python's `zlib.crc32(data, 0xFFFFFFFF)`.

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32Le(crc: number, bytes: Uint8Array): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** The CRC32 of NVS page headers, entries and data: `esp_rom_crc32_le(0xFFFFFFFF, …)`. */
export function nvsCrc32(bytes: Uint8Array): number {
  return crc32Le(0xffffffff, bytes);
}
