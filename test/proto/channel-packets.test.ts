// Packet splitting and reassembly (spec 3.3).

import assert from "node:assert/strict";
import { test } from "node:test";

import fc from "fast-check";

import {
  MAX_MESSAGE_BYTES,
  MAX_REQUEST_PACKET_BYTES_GO,
  MAX_REQUEST_PACKET_BYTES_TS,
  MAX_RESPONSE_PACKET_BYTES,
  MessageAssembler,
  splitMessage,
} from "../../proto/channel/packets.js";

function pattern(size: number, salt: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + salt * 7 + (i >> 8)) & 0xff;
  return out;
}

function reassemble(packets: Uint8Array[], max?: number): Uint8Array[] {
  const asm = new MessageAssembler(max);
  const out: Uint8Array[] = [];
  packets.forEach((p, i) => {
    const r = asm.push(p, i === packets.length - 1);
    if (r.kind === "message") out.push(r.data);
    else assert.equal(r.kind, "partial");
  });
  return out;
}

test("constants match the spec", () => {
  assert.equal(MAX_RESPONSE_PACKET_BYTES, 65_513);
  assert.equal(MAX_REQUEST_PACKET_BYTES_GO, 65_509);
  assert.equal(MAX_REQUEST_PACKET_BYTES_TS, 16_373);
  assert.equal(MAX_MESSAGE_BYTES, 1 << 25);
  assert.equal(new MessageAssembler().maxMessageBytes, 1 << 25);
});

test("a zero-length message is one empty packet", () => {
  const packets = splitMessage(new Uint8Array(0), 10);
  assert.equal(packets.length, 1);
  assert.equal(packets[0].length, 0);
  assert.deepEqual(reassemble(packets), [new Uint8Array(0)]);
});

test("split returns views into the message, not copies", () => {
  const msg = pattern(25, 1);
  const packets = splitMessage(msg, 10);
  assert.deepEqual(
    packets.map((p) => p.length),
    [10, 10, 5],
  );
  for (const p of packets) assert.equal(p.buffer, msg.buffer);
  assert.equal(packets[1].byteOffset, msg.byteOffset + 10);
});

test("exactly the limit is one packet, limit+1 is two", () => {
  assert.equal(splitMessage(pattern(100, 0), 100).length, 1);
  assert.deepEqual(
    splitMessage(pattern(101, 0), 100).map((p) => p.length),
    [100, 1],
  );
});

test("split rejects a non-positive packet size", () => {
  assert.throws(() => splitMessage(new Uint8Array(3), 0), RangeError);
  assert.throws(() => splitMessage(new Uint8Array(3), 1.5), RangeError);
});

test("property: split then assemble is the identity", () => {
  const limit = fc.integer({ min: 1, max: 2000 });
  const sizeFor = (lim: number) =>
    fc.oneof(
      fc.constant(0),
      fc.constant(lim),
      fc.constant(lim + 1),
      fc.constant(lim - 1),
      fc.constant(3 * lim),
      fc.integer({ min: 0, max: 6000 }),
    );
  fc.assert(
    fc.property(
      limit.chain((lim) => fc.tuple(fc.constant(lim), sizeFor(lim), fc.nat(255))),
      ([lim, size, salt]) => {
        const msg = pattern(Math.max(0, size), salt);
        const packets = splitMessage(msg, lim);
        assert.equal(packets.length, Math.max(1, Math.ceil(msg.length / lim)));
        for (const p of packets) assert.ok(p.length <= lim);
        const out = reassemble(packets);
        assert.equal(out.length, 1);
        assert.deepEqual(out[0], msg);
      },
    ),
    { numRuns: 500 },
  );
});

test("property: several messages in a row through one assembler", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 64 }), (sizes, lim) => {
      const asm = new MessageAssembler();
      sizes.forEach((size, n) => {
        const msg = pattern(size, n);
        const packets = splitMessage(msg, lim);
        let got: Uint8Array | undefined;
        packets.forEach((p, i) => {
          const r = asm.push(p, i === packets.length - 1);
          if (r.kind === "message") got = r.data;
        });
        assert.deepEqual(got, msg);
        assert.equal(asm.pending, false);
      });
    }),
  );
});

test("the limit is inclusive; one byte over overflows once and discards to eom", () => {
  const asm = new MessageAssembler(10);
  assert.equal(asm.push(pattern(6, 0), false).kind, "partial");
  const exact = asm.push(pattern(4, 0), true);
  assert.equal(exact.kind, "message");

  assert.equal(asm.push(pattern(6, 0), false).kind, "partial");
  assert.equal(asm.bufferedBytes, 6);
  assert.deepEqual(asm.push(pattern(5, 0), false), { kind: "overflow", limit: 10 });
  assert.equal(asm.pending, true);
  // The rest of the oversize message is swallowed, then assembly resumes.
  assert.equal(asm.push(pattern(3, 0), false).kind, "partial");
  assert.equal(asm.push(pattern(3, 0), true).kind, "partial");
  assert.equal(asm.pending, false);
  const next = asm.push(pattern(2, 9), true);
  assert.deepEqual(next, { kind: "message", data: pattern(2, 9) });
});

test("an oversize single packet with eom overflows without discarding the next message", () => {
  const asm = new MessageAssembler(4);
  assert.equal(asm.push(pattern(5, 0), true).kind, "overflow");
  assert.equal(asm.pending, false);
  assert.equal(asm.push(pattern(4, 0), true).kind, "message");
});

test("empty packets before the last one are fine", () => {
  const asm = new MessageAssembler();
  assert.equal(asm.push(new Uint8Array(0), false).kind, "partial");
  assert.equal(asm.pending, true);
  assert.equal(asm.push(pattern(3, 1), false).kind, "partial");
  assert.deepEqual(asm.push(new Uint8Array(0), true), { kind: "message", data: pattern(3, 1) });
});
