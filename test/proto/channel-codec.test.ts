// The protobuf-es frame codec: exact bytes where the SDKs' bytes are known
// (spec 1.4, 3.6), and round trips for everything else.

import assert from "node:assert/strict";
import { test } from "node:test";

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AnySchema, DurationSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";

import { Code, type RequestFrame, type ResponseFrame } from "../../proto/channel/frames.js";
import { protobufFrameCodec as codec } from "../../proto/channel/protobuf-codec.js";
import { RequestSchema, ResponseSchema } from "../../proto/gen/proto/rpc/webrtc/v1/grpc_pb.js";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
const bytes = (h: string) => new Uint8Array(h.split(" ").filter(Boolean).map((x) => parseInt(x, 16)));
const EMPTY = new Uint8Array(0);

test("TS SDK empty request message on its first stream encodes as 0a 00 1a 06 08 01 12 02 10 01", () => {
  const frame: RequestFrame = { streamId: 0n, message: { hasMessage: true, data: EMPTY, eom: true, eos: false } };
  assert.equal(hex(codec.encodeRequest(frame)), "0a 00 1a 06 08 01 12 02 10 01");
  assert.deepEqual(codec.decodeRequest(bytes("0a 00 1a 06 08 01 12 02 10 01")), frame);
});

test("present-but-empty Stream is id 0; absent stream is undefined", () => {
  assert.equal(hex(codec.encodeRequest({ streamId: 0n, rstStream: true })), "0a 00 20 01");
  assert.equal(codec.decodeRequest(bytes("0a 00 20 01")).streamId, 0n);
  assert.equal(codec.decodeRequest(bytes("20 01")).streamId, undefined);
  assert.equal(hex(codec.encodeRequest({ streamId: undefined, rstStream: true })), "20 01");
  assert.deepEqual(codec.decodeRequest(bytes("0a 02 08 07 20 01")), { streamId: 7n, rstStream: true });
});

test("TS SDK headers: method and one metadata value, no timeout", () => {
  const frame: RequestFrame = {
    streamId: 0n,
    headers: { method: "/a.B/C", metadata: { viam_client: ["typescript;v0.61.1;v0.1.512"] } },
  };
  const encoded = codec.encodeRequest(frame);
  // Cross-check the layout with the generated classes directly.
  const pb = fromBinary(RequestSchema, encoded);
  assert.equal(pb.stream?.id, 0n);
  assert.equal(pb.type.case, "headers");
  assert.equal(pb.type.value?.timeout, undefined);
  assert.deepEqual(codec.decodeRequest(encoded), frame);
  assert.equal(hex(encoded.subarray(0, 6)), "0a 00 12 38 0a 06");
});

test("TS SDK server-streaming half-close frame", () => {
  const frame: RequestFrame = { streamId: 3n, message: { hasMessage: false, data: EMPTY, eom: true, eos: true } };
  // message{packet_message{eom:true}, eos:true}
  assert.equal(hex(codec.encodeRequest(frame)), "0a 02 08 03 1a 06 12 02 10 01 18 01");
  assert.deepEqual(codec.decodeRequest(codec.encodeRequest(frame)), frame);
});

test("request packet with data", () => {
  const frame: RequestFrame = { streamId: 1n, message: { hasMessage: true, data: bytes("aa bb"), eom: true, eos: true } };
  assert.equal(hex(codec.encodeRequest(frame)), "0a 02 08 01 1a 0c 08 01 12 06 0a 02 aa bb 10 01 18 01");
});

test("server replies: headers{}, packet, OK trailers as an empty Status", () => {
  assert.equal(hex(codec.encodeResponse({ streamId: 0n, headers: { metadata: {} } })), "0a 00 12 00");
  assert.equal(hex(codec.encodeResponse({ streamId: 1n, message: { data: bytes("01"), eom: true } })), "0a 02 08 01 1a 07 0a 05 0a 01 01 10 01");
  assert.equal(
    hex(codec.encodeResponse({ streamId: 1n, trailers: { status: { code: Code.OK, message: "" }, metadata: {} } })),
    "0a 02 08 01 22 02 0a 00",
  );
});

test("timeout Duration <-> milliseconds", () => {
  const frame = (timeoutMs: number): RequestFrame => ({ streamId: 1n, headers: { method: "/m", metadata: {}, timeoutMs } });
  const pbTimeout = (ms: number) => {
    const pb = fromBinary(RequestSchema, codec.encodeRequest(frame(ms)));
    assert.equal(pb.type.case, "headers");
    return pb.type.value?.timeout;
  };
  assert.deepEqual([pbTimeout(1500)?.seconds, pbTimeout(1500)?.nanos], [1n, 500_000_000]);
  // Sub-millisecond must stay non-zero (0 means "no deadline").
  assert.deepEqual([pbTimeout(0.25)?.seconds, pbTimeout(0.25)?.nanos], [0n, 250_000]);
  // Go's client always sends timeout, 0 when it has no deadline.
  const zero = codec.decodeRequest(codec.encodeRequest(frame(0)));
  assert.equal(zero.headers?.timeoutMs, 0);
  const absent = codec.decodeRequest(codec.encodeRequest({ streamId: 1n, headers: { method: "/m", metadata: {} } }));
  assert.equal(absent.headers && "timeoutMs" in absent.headers, false);
  // From a Go-made Duration.
  const goReq = create(RequestSchema, {
    stream: { id: 1n },
    type: { case: "headers", value: { method: "/m", timeout: create(DurationSchema, { seconds: 600n, nanos: 0 }) } },
  });
  assert.equal(codec.decodeRequest(toBinary(RequestSchema, goReq)).headers?.timeoutMs, 600_000);
});

test("Status details are serialized Any messages", () => {
  const any = create(AnySchema, { typeUrl: "type.googleapis.com/google.rpc.ErrorInfo", value: bytes("0a 03 61 62 63") });
  const detail = toBinary(AnySchema, any);
  const frame: ResponseFrame = {
    streamId: 9n,
    trailers: { status: { code: Code.NOT_FOUND, message: "nope", details: [detail] }, metadata: { k: ["v1", "v2"] } },
  };
  const encoded = codec.encodeResponse(frame);
  const pb = fromBinary(ResponseSchema, encoded);
  assert.equal(pb.type.case, "trailers");
  assert.equal(pb.type.value?.status?.details[0].typeUrl, any.typeUrl);
  assert.deepEqual(codec.decodeResponse(encoded), frame);
});

test("invalid bytes throw; a Response without a stream throws", () => {
  assert.throws(() => codec.decodeRequest(bytes("ff ff ff")));
  assert.throws(() => codec.decodeResponse(bytes("0a 05 08")));
  assert.throws(() => codec.decodeResponse(bytes("12 00")), /without stream/);
});

test("an empty oneof decodes to a frame with none of the three", () => {
  assert.deepEqual(codec.decodeRequest(bytes("0a 02 08 02")), { streamId: 2n });
  assert.deepEqual(codec.decodeResponse(bytes("0a 02 08 02")), { streamId: 2n });
});

// Plain objects (fast-check makes null-prototype ones by default, which deepEqual tells apart).
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

const metadataArb = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/), fc.array(fc.string(), { minLength: 1, maxLength: 3 }), {
  maxKeys: 3,
  noNullPrototype: true,
});
const dataArb = fc.uint8Array({ maxLength: 64 });
const idArb = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

test("property: request frames round-trip", () => {
  const frameArb: fc.Arbitrary<RequestFrame> = fc.oneof(
    rec({
      streamId: idArb,
      headers: fc.record(
        { method: fc.string(), metadata: metadataArb, timeoutMs: fc.integer({ min: 0, max: 10_000_000 }) },
        { requiredKeys: ["method", "metadata"], noNullPrototype: true },
      ),
    }),
    rec({
      streamId: idArb,
      message: rec({ hasMessage: fc.boolean(), data: dataArb, eom: fc.boolean(), eos: fc.boolean() }),
    }),
    rec({ streamId: fc.option(idArb, { nil: undefined }), rstStream: fc.boolean() }),
  );
  fc.assert(
    fc.property(frameArb, (frame) => {
      assert.deepEqual(codec.decodeRequest(codec.encodeRequest(frame)), frame);
    }),
  );
});

test("property: response frames round-trip", () => {
  const frameArb: fc.Arbitrary<ResponseFrame> = fc.oneof(
    rec({ streamId: idArb, headers: rec({ metadata: metadataArb }) }),
    rec({ streamId: idArb, message: rec({ data: dataArb, eom: fc.boolean() }) }),
    rec({
      streamId: idArb,
      trailers: rec({
        status: rec({ code: fc.integer({ min: 0, max: 16 }), message: fc.string() }),
        metadata: metadataArb,
      }),
    }),
  );
  fc.assert(
    fc.property(frameArb, (frame) => {
      assert.deepEqual(codec.decodeResponse(codec.encodeResponse(frame)), frame);
    }),
  );
});
