// The firmware's compact FrameCodec (firmware/rpc/frame-codec.ts) against the host's protobuf-es
// codec: the same bytes for every frame, and each decodes what the other encodes to the same frame.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import type { Metadata, RequestFrame, ResponseFrame } from "../../proto/channel/frames.js";
import { protobufFrameCodec as host } from "../../proto/channel/protobuf-codec.js";
import { microFrameCodec as micro } from "../../firmware/rpc/frame-codec.js";

const streamId = fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 1000n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
const metadata: fc.Arbitrary<Metadata> = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== "__proto__"),
  fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
  { maxKeys: 3, noNullPrototype: true },
);
const data = fc.uint8Array({ maxLength: 200 });

const requestFrame: fc.Arbitrary<RequestFrame> = fc.oneof(
  fc.record(
    {
      streamId: fc.option(streamId, { nil: undefined }),
      headers: fc.record(
        {
          method: fc.string({ maxLength: 60 }),
          metadata,
          timeoutMs: fc.option(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 600_000 }), fc.double({ min: 0.001, max: 1e6, noNaN: true })), { nil: undefined }),
        },
        { requiredKeys: ["method", "metadata"], noNullPrototype: true },
      ),
    },
    { noNullPrototype: true },
  ),
  fc.record(
    {
      streamId: fc.option(streamId, { nil: undefined }),
      message: fc.record({ hasMessage: fc.boolean(), data, eom: fc.boolean(), eos: fc.boolean() }, { noNullPrototype: true }),
    },
    { noNullPrototype: true },
  ),
  fc.record({ streamId: fc.option(streamId, { nil: undefined }), rstStream: fc.boolean() }, { noNullPrototype: true }),
  fc.record({ streamId: fc.option(streamId, { nil: undefined }) }, { noNullPrototype: true }),
);

const anyBytes = fc
  .record({ typeUrl: fc.string({ maxLength: 30 }), value: fc.uint8Array({ maxLength: 20 }) })
  .map((a) => toBinary(AnySchema, create(AnySchema, a)));

const responseFrame: fc.Arbitrary<ResponseFrame> = fc.oneof(
  fc.record({ streamId, headers: fc.record({ metadata }, { noNullPrototype: true }) }, { noNullPrototype: true }),
  fc.record({ streamId, message: fc.record({ data, eom: fc.boolean() }, { noNullPrototype: true }) }, { noNullPrototype: true }),
  fc.record(
    {
      streamId,
      trailers: fc.record(
        {
          status: fc.record(
            { code: fc.integer({ min: 0, max: 16 }), message: fc.string({ maxLength: 40 }), details: fc.array(anyBytes, { minLength: 1, maxLength: 2 }) },
            { requiredKeys: ["code", "message"], noNullPrototype: true },
          ),
          metadata,
        },
        { noNullPrototype: true },
      ),
    },
    { noNullPrototype: true },
  ),
);

test("requests: the compact codec writes protobuf-es's bytes, and both read each other's", () => {
  fc.assert(
    fc.property(requestFrame, (frame) => {
      const a = host.encodeRequest(frame);
      const b = micro.encodeRequest(frame);
      assert.deepEqual(b, a);
      assert.deepEqual(micro.decodeRequest(a), host.decodeRequest(a));
    }),
    { numRuns: 500 },
  );
});

test("responses: the compact codec writes protobuf-es's bytes, and both read each other's", () => {
  fc.assert(
    fc.property(responseFrame, (frame) => {
      const a = host.encodeResponse(frame);
      const b = micro.encodeResponse(frame);
      assert.deepEqual(b, a);
      assert.deepEqual(micro.decodeResponse(a), host.decodeResponse(a));
    }),
    { numRuns: 500 },
  );
});

test("a Response without a stream is an error for both; malformed bytes throw", () => {
  const noStream = Uint8Array.of(0x12, 0x00); // headers{} only
  assert.throws(() => host.decodeResponse(noStream), /without stream/);
  assert.throws(() => micro.decodeResponse(noStream), /without stream/);
  assert.throws(() => micro.decodeRequest(Uint8Array.of(0xff, 0xff, 0xff, 0xff)));
  assert.throws(() => micro.decodeRequest(Uint8Array.of(0x0a, 0x05, 0x08)));
});
