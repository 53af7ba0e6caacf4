// ESP32-family app images: build → parse for each chip, and every way a bad image is refused.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { buildAppDescription, buildAppImage, parseAppImage } from "../../tools/image/app-image.js";
import { ImageError } from "../../tools/image/bytes.js";
import type { ChipFamily } from "../../tools/image/chips.js";

const segments = [
  { loadAddress: 0x3f400020, data: Uint8Array.from({ length: 300 }, (_, i) => i & 0xff) }, // padded to 300 (already ×4)
  { loadAddress: 0x3ffb0000, data: new Uint8Array([1, 2, 3, 4, 5]) }, // padded to 8
  { loadAddress: 0x400d0018, data: new Uint8Array(1024).fill(0x5a) },
];

function refused(fn: () => unknown, message: string) {
  assert.throws(fn, (err: Error) => {
    assert.ok(err instanceof ImageError, String(err));
    assert.equal(err.message, message);
    return true;
  });
}

for (const [chip, id] of [["ESP32", 0], ["ESP32-S3", 9], ["ESP32-C3", 5]] as [ChipFamily, number][]) {
  test(`${chip}: a built image parses back (chip id ${id})`, () => {
    const image = buildAppImage({ chip, segments, entry: 0x400d1234, flashMode: "QIO", flashSize: "8MB", flashFrequency: "80m" });
    const info = parseAppImage(image, chip);
    assert.equal(info.chip, chip);
    assert.equal(info.chipId, id);
    assert.equal(new DataView(image.buffer).getUint16(12, true), id);
    assert.equal(info.entry, 0x400d1234);
    assert.equal(info.flashMode, "QIO");
    assert.equal(info.flashSize, "8MB");
    assert.equal(info.flashFrequency, "80m");
    assert.equal(image[3], 0x3f);
    assert.deepEqual(
      info.segments.map((s) => [s.loadAddress, s.length, s.dataOffset]),
      [
        [0x3f400020, 300, 32],
        [0x3ffb0000, 8, 340],
        [0x400d0018, 1024, 356],
      ],
    );
    // Independent checks: checksum byte, 16-byte alignment, SHA-256 of everything before it.
    let xor = 0xef;
    for (const s of segments) for (const b of s.data) xor ^= b;
    assert.equal(info.checksum, xor);
    const body = image.length - 32;
    assert.equal(body % 16, 0);
    assert.equal(image[body - 1], xor);
    assert.equal(info.hashAppended, true);
    assert.equal(info.sha256, createHash("sha256").update(image.subarray(0, body)).digest("hex"));
    assert.deepEqual(image.subarray(body), new Uint8Array(createHash("sha256").update(image.subarray(0, body)).digest()));
    assert.equal(info.length, image.length);
  });
}

test("without an appended hash; flash padding after the image is not part of it", () => {
  const image = buildAppImage({ chip: "ESP32", segments, hashAppended: false });
  const padded = new Uint8Array(image.length + 4096).fill(0xff);
  padded.set(image);
  const info = parseAppImage(padded);
  assert.equal(info.hashAppended, false);
  assert.equal(info.sha256, undefined);
  assert.equal(info.length, image.length);
  assert.equal(info.flashMode, "DIO");
  assert.equal(info.flashSize, "4MB");
  assert.equal(info.flashFrequency, "40m");
});

test("the app description at the start of the first segment", () => {
  const desc = buildAppDescription({ version: "1.2.3", projectName: "sprocket-micro", idfVersion: "v5.4.1", date: "Apr  4 2025", time: "12:00:00" });
  const image = buildAppImage({ chip: "ESP32-S3", segments: [{ loadAddress: 0x3c000020, data: desc }, ...segments.slice(1)] });
  assert.deepEqual(parseAppImage(image).appDescription, {
    secureVersion: 0,
    version: "1.2.3",
    projectName: "sprocket-micro",
    time: "12:00:00",
    date: "Apr  4 2025",
    idfVersion: "v5.4.1",
  });
  assert.equal(parseAppImage(buildAppImage({ chip: "ESP32", segments })).appDescription, undefined);
});

test("bad images are refused with the exact problem", () => {
  const image = buildAppImage({ chip: "ESP32-C3", segments });

  refused(() => parseAppImage(image, "ESP32"), "image is for ESP32-C3 but the board is ESP32");
  refused(() => parseAppImage(image.subarray(0, 600)), "app image is truncated: segment 2 needs 1380 bytes but the image has 600");
  refused(() => parseAppImage(image.subarray(0, 20)), "app image is truncated: the header needs 24 bytes but the image has 20");
  refused(() => parseAppImage(image.subarray(0, image.length - 10)), `app image is truncated: the SHA-256 needs ${image.length} bytes but the image has ${image.length - 10}`);

  const magic = image.slice();
  magic[0] = 0xff;
  refused(() => parseAppImage(magic), "not an ESP app image: first byte is 0xFF, expected 0xE9");

  const data = image.slice();
  data[40] ^= 0x01; // a byte of segment 0: the checksum no longer matches
  const stored = image[image.length - 33]!;
  const byte = (n: number) => `0x${n.toString(16).toUpperCase().padStart(2, "0")}`;
  refused(() => parseAppImage(data), `app image checksum mismatch: stored ${byte(stored)}, computed ${byte(stored ^ 1)}`);

  const hash = image.slice();
  hash[hash.length - 1] ^= 0xff;
  const good = createHash("sha256").update(image.subarray(0, image.length - 32)).digest("hex");
  refused(() => parseAppImage(hash), `app image SHA-256 mismatch: stored ${Buffer.from(hash.subarray(-32)).toString("hex")}, computed ${good}`);

  const chipId = image.slice();
  chipId[12] = 99;
  refused(() => parseAppImage(chipId), "app image has an unknown chip id 99");

  const count = image.slice();
  count[1] = 0;
  refused(() => parseAppImage(count), "app image has 0 segments; a valid image has 1 to 16");
});
