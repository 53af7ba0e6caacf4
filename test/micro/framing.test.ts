// Byte-channel framings of proto/channel: the 4-byte length prefix (TCP) and COBS + CRC-32 (UART).
// Property tests feed the decoders the encoded stream split at random points; for COBS, garbage is
// mixed in between frames and corrupted frames are dropped without losing the ones around them.
import assert from "node:assert/strict";
import { test } from "node:test";
import zlib from "node:zlib";
import fc from "fast-check";
import {
  COBS_CRC_BYTES,
  CobsDecoder,
  cobsDecodeInPlace,
  cobsEncodeInto,
  cobsMaxEncodedLength,
  crc32,
  encodeCobsFrame,
} from "../../proto/channel/cobs.js";
import {
  DEFAULT_MAX_FRAME_BYTES,
  FramingError,
  LengthPrefixDecoder,
  encodeLengthPrefixed,
} from "../../proto/channel/length-prefix.js";

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits bytes at the given cut points (any values; taken modulo the length, sorted). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}

const frameArb = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 0 }) },
  { weight: 6, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 300 }) },
  // Runs of zeros and long zero-free runs exercise COBS's code-byte boundaries (254).
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 800 }).map((n) => new Uint8Array(n)) },
  { weight: 2, arbitrary: fc.integer({ min: 250, max: 1100 }).map((n) => new Uint8Array(n).map((_, i) => (i % 255) + 1)) },
);

// Length prefix ----------------------------------------------------------------------------------

function lengthDecoder(max?: number) {
  const frames: Uint8Array[] = [];
  const errors: FramingError[] = [];
  const decoder = new LengthPrefixDecoder({
    onFrame: (f) => frames.push(f),
    onError: (e) => errors.push(e),
    ...(max === undefined ? {} : { maxFrameBytes: max }),
  });
  return { decoder, frames, errors };
}

test("length prefix: 4-byte big-endian length, then the frame", () => {
  assert.deepEqual([...encodeLengthPrefixed(Uint8Array.of(9, 8, 7))], [0, 0, 0, 3, 9, 8, 7]);
  assert.deepEqual([...encodeLengthPrefixed(new Uint8Array(0))], [0, 0, 0, 0]);
  assert.deepEqual([...encodeLengthPrefixed(new Uint8Array(0x010203)).subarray(0, 4)], [0, 1, 2, 3]);
  assert.throws(() => encodeLengthPrefixed(new Uint8Array(11), 10), FramingError);
});

test("length prefix: any split of any sequence of frames decodes to the same frames", () => {
  fc.assert(
    fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
      const { decoder, frames: got, errors } = lengthDecoder();
      for (const chunk of split(concat(frames.map((f) => encodeLengthPrefixed(f))), cuts)) decoder.push(chunk);
      decoder.end();
      assert.deepEqual(errors, []);
      assert.deepEqual(got, frames);
      assert.equal(decoder.frames, frames.length);
      assert.equal(decoder.partial, false);
    }),
    { numRuns: 300 },
  );
});

test("length prefix: byte-by-byte delivery works", () => {
  const frames = [Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3, 4)];
  const { decoder, frames: got } = lengthDecoder();
  for (const b of concat(frames.map((f) => encodeLengthPrefixed(f)))) decoder.push(Uint8Array.of(b));
  assert.deepEqual(got, frames);
});

test("length prefix: a declared length over the limit fails the stream before allocating", () => {
  const { decoder, frames, errors } = lengthDecoder(1000);
  decoder.push(encodeLengthPrefixed(Uint8Array.of(1, 2)));
  decoder.push(Uint8Array.of(0, 0, 3)); // 1001 = 0x3E9, split inside the prefix
  decoder.push(Uint8Array.of(0xe9, 5, 5, 5));
  assert.equal(frames.length, 1);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /declared frame length 1001 exceeds the limit of 1000 bytes/);
  assert.ok(decoder.failed);
  decoder.push(encodeLengthPrefixed(Uint8Array.of(1))); // ignored from now on
  assert.equal(frames.length, 1);
  assert.equal(errors.length, 1);
});

test("length prefix: 0xFFFFFFFF is refused at once (no 4 GiB allocation)", () => {
  const { decoder, errors } = lengthDecoder();
  decoder.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff));
  assert.match(errors[0].message, /declared frame length 4294967295 exceeds the limit of 66560 bytes/);
  assert.equal(DEFAULT_MAX_FRAME_BYTES, 66560);
});

test("length prefix: the limit itself is accepted", () => {
  const { decoder, frames, errors } = lengthDecoder(5);
  decoder.push(encodeLengthPrefixed(new Uint8Array(5).fill(7)));
  assert.equal(errors.length, 0);
  assert.equal(frames[0].length, 5);
});

test("length prefix: end() inside a frame reports truncation", () => {
  for (const [bytes, text] of [
    [Uint8Array.of(0, 0), /2 of 4 length bytes/],
    [Uint8Array.of(0, 0, 0, 9, 1, 2), /2 of 9 bytes/],
  ] as const) {
    const { decoder, errors } = lengthDecoder();
    decoder.push(bytes);
    assert.ok(decoder.partial);
    decoder.end();
    assert.match(errors[0].message, text);
  }
  const { decoder, errors } = lengthDecoder();
  decoder.push(encodeLengthPrefixed(Uint8Array.of(1)));
  decoder.end();
  assert.deepEqual(errors, []);
});

// COBS + CRC-32 ----------------------------------------------------------------------------------

test("CRC-32/ISO-HDLC: check value 0xCBF43926 and zlib agree", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => crc32(bytes) === zlib.crc32(bytes)),
    { numRuns: 100 },
  );
});

test("COBS: the published examples (Wikipedia's table)", () => {
  const cases: [number[], number[]][] = [
    [[0x00], [0x01, 0x01]],
    [[0x00, 0x00], [0x01, 0x01, 0x01]],
    [[0x00, 0x11, 0x00], [0x01, 0x02, 0x11, 0x01]],
    [[0x11, 0x22, 0x00, 0x33], [0x03, 0x11, 0x22, 0x02, 0x33]],
    [[0x11, 0x22, 0x33, 0x44], [0x05, 0x11, 0x22, 0x33, 0x44]],
    [[0x11, 0x00, 0x00, 0x00], [0x02, 0x11, 0x01, 0x01, 0x01]],
  ];
  for (const [raw, encoded] of cases) {
    const src = Uint8Array.from(raw);
    const dst = new Uint8Array(cobsMaxEncodedLength(src.length));
    const end = cobsEncodeInto(src, src.length, dst, 0);
    assert.deepEqual([...dst.subarray(0, end)], encoded, `encode ${raw}`);
    const buf = Uint8Array.from(encoded);
    assert.deepEqual([...buf.subarray(0, cobsDecodeInPlace(buf, buf.length))], raw, `decode ${encoded}`);
  }
  // 254 non-zero bytes fill one block exactly.
  const run = new Uint8Array(254).map((_, i) => i + 1);
  const dst = new Uint8Array(cobsMaxEncodedLength(run.length));
  const end = cobsEncodeInto(run, run.length, dst, 0);
  assert.equal(dst[0], 0xff);
  assert.ok(end <= cobsMaxEncodedLength(254));
  assert.deepEqual(dst.subarray(0, end).indexOf(0), -1);
});

test("COBS: encode then decode is the identity, and the encoding has no zero", () => {
  fc.assert(
    fc.property(frameArb, (raw) => {
      const dst = new Uint8Array(cobsMaxEncodedLength(raw.length));
      const end = cobsEncodeInto(raw, raw.length, dst, 0);
      assert.ok(!dst.subarray(0, end).includes(0));
      assert.deepEqual(dst.subarray(0, cobsDecodeInPlace(dst, end)), raw);
    }),
    { numRuns: 300 },
  );
});

test("COBS frame: 0x00, COBS(frame ‖ CRC-32 LE), 0x00", () => {
  const wire = encodeCobsFrame(Uint8Array.of(1, 0, 2));
  assert.equal(wire[0], 0);
  assert.equal(wire[wire.length - 1], 0);
  const body = wire.slice(1, -1);
  const n = cobsDecodeInPlace(body, body.length);
  assert.equal(n, 3 + COBS_CRC_BYTES);
  assert.deepEqual([...body.subarray(0, 3)], [1, 0, 2]);
  const crc = crc32(Uint8Array.of(1, 0, 2));
  assert.deepEqual([...body.subarray(3, 7)], [crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24]);
});

function cobsDecoder(max?: number) {
  const frames: Uint8Array[] = [];
  const drops: string[] = [];
  const decoder = new CobsDecoder({
    onFrame: (f) => frames.push(f),
    onDrop: (r) => drops.push(r),
    ...(max === undefined ? {} : { maxFrameBytes: max }),
  });
  return { decoder, frames, drops };
}

test("COBS: any split of any sequence of frames decodes to the same frames", () => {
  fc.assert(
    fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
      const { decoder, frames: got, drops } = cobsDecoder();
      for (const chunk of split(concat(frames.map(encodeCobsFrame)), cuts)) decoder.push(chunk);
      assert.deepEqual(drops, []);
      assert.deepEqual(got, frames);
      assert.equal(decoder.frames, frames.length);
    }),
    { numRuns: 300 },
  );
});

test("COBS: garbage between frames is dropped and every frame still arrives", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.uint8Array({ maxLength: 200 }), frameArb), { maxLength: 10 }),
      fc.uint8Array({ maxLength: 200 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (pairs, tail, cuts) => {
        const { decoder, frames: got } = cobsDecoder();
        const wire = concat([...pairs.flatMap(([garbage, frame]) => [garbage, encodeCobsFrame(frame)]), tail]);
        for (const chunk of split(wire, cuts)) decoder.push(chunk);
        // Random garbage could, with odds of 2^-32, carry its own valid CRC; the frames must be there in order.
        assert.deepEqual(got, pairs.map(([, frame]) => frame));
      },
    ),
    { numRuns: 300 },
  );
});

test("COBS: a corrupted frame is dropped and counted; its neighbours arrive", () => {
  fc.assert(
    fc.property(
      frameArb,
      frameArb.filter((f) => f.length > 0),
      frameArb,
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (before, victim, after, where, flip) => {
        const bad = encodeCobsFrame(victim);
        // Corrupt one byte strictly inside the frame, never into a delimiter.
        const i = 1 + (where % (bad.length - 2));
        bad[i] = bad[i] ^ flip || 1;
        const { decoder, frames } = cobsDecoder();
        decoder.push(concat([encodeCobsFrame(before), bad, encodeCobsFrame(after)]));
        assert.deepEqual(frames[0], before);
        assert.deepEqual(frames[frames.length - 1], after);
        if (frames.length === 2) assert.equal(decoder.dropped, 1);
        else assert.equal(frames.length, 3); // the flip happened to give another valid frame (2^-32)
      },
    ),
    { numRuns: 300 },
  );
});

test("COBS: CRC errors, malformed blocks, short and oversized frames are each counted", () => {
  const { decoder, frames, drops } = cobsDecoder(8);
  const good = encodeCobsFrame(Uint8Array.of(1, 2, 3));
  const badCrc = good.slice();
  badCrc[2] ^= 0x40;
  decoder.push(badCrc);
  decoder.push(Uint8Array.of(0, 9, 1, 2, 0)); // block of 9 with 2 bytes: malformed
  decoder.push(Uint8Array.of(0, 3, 1, 2, 0)); // 2 bytes: shorter than a CRC
  decoder.push(encodeCobsFrame(new Uint8Array(9))); // over the limit of 8
  decoder.push(encodeCobsFrame(new Uint8Array(200).fill(5))); // far over: skipped to the next 0x00
  decoder.push(good);
  assert.deepEqual(frames, [Uint8Array.of(1, 2, 3)]);
  assert.deepEqual(drops, ["crc", "cobs", "short", "oversized", "oversized"]);
  assert.equal(decoder.crcErrors, 1);
  assert.equal(decoder.framingErrors, 2);
  assert.equal(decoder.oversized, 2);
  assert.equal(decoder.dropped, 5);
});

test("COBS: an empty frame is legal; runs of delimiters are ignored", () => {
  const { decoder, frames, drops } = cobsDecoder();
  decoder.push(concat([Uint8Array.of(0, 0, 0), encodeCobsFrame(new Uint8Array(0)), Uint8Array.of(0, 0)]));
  assert.deepEqual(frames, [new Uint8Array(0)]);
  assert.deepEqual(drops, []);
});
