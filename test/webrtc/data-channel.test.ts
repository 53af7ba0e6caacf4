// gRPC on the data channel with the project's ChannelClient as the caller (Go-style unary frames,
// status codes kept): unknown methods, error codes, large messages under backpressure, cancellation.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create, fromBinary, toBinary, type JsonObject } from "@bufbuild/protobuf";
import { Code, type ChannelError } from "../../proto/channel/index.js";
import { DoCommandRequestSchema, DoCommandResponseSchema, GetReadingsRequestSchema, GetReadingsResponseSchema } from "../../proto/gen/common/v1/common_pb.js";
import { StreamTicksRequestSchema, StreamTicksResponseSchema } from "../../proto/gen/component/board/v1/board_pb.js";
import { boardApi } from "../../host/components/board/board.js";
import type { FakeBoard } from "../../host/components/board/fake.js";
import type { Host } from "../../host/host.js";
import { allFakesConfig, startTestHost, withApiKey } from "../support/host.js";
import { accessToken, dialRaw, type RawPeer } from "./raw-peer.js";
import { waitFor } from "./wrtc-env.js";

const getReadings = "/viam.component.sensor.v1.SensorService/GetReadings";
const doCommand = "/viam.component.generic.v1.GenericService/DoCommand";

describe("gRPC over the data channel (ChannelClient caller)", () => {
  let host: Host;
  let peer: RawPeer;

  before(async () => {
    host = await startTestHost(withApiKey(allFakesConfig()));
    peer = await dialRaw(host, { token: await accessToken(host) });
  });

  after(async () => {
    peer?.close();
    await host?.close();
  });

  test("a unary call with eos on its packet (Go client style), no authorization metadata", async () => {
    const { message, result } = await peer.unary(getReadings, GetReadingsRequestSchema, { name: "sensor1" }, GetReadingsResponseSchema);
    assert.ok("sine" in message.readings);
    assert.deepEqual(result.headers["content-type"], undefined, "gRPC framing headers are not metadata");
  });

  test("an unknown method ends UNIMPLEMENTED with a clear message", async () => {
    await assert.rejects(peer.channel.unary("/nope.v1.NopeService/Nope", {}, new Uint8Array()), (err: ChannelError) => {
      assert.equal(err.code, Code.UNIMPLEMENTED);
      assert.equal(err.message, "unknown method /nope.v1.NopeService/Nope");
      return true;
    });
  });

  test("handler errors keep their gRPC code on the channel", async () => {
    const req = toBinary(GetReadingsRequestSchema, create(GetReadingsRequestSchema, { name: "missing" }));
    await assert.rejects(peer.channel.unary(getReadings, {}, req), (err: ChannelError) => {
      assert.equal(err.code, Code.NOT_FOUND);
      assert.match(err.message, /missing/);
      return true;
    });
  });

  test("8 MiB each way: chunked request, backpressured response", async () => {
    const big = "y".repeat(8 * 1024 * 1024);
    const { message } = await peer.unary(
      doCommand,
      DoCommandRequestSchema,
      { name: "generic1", command: { big } as JsonObject },
      DoCommandResponseSchema,
    );
    assert.equal((message.result as JsonObject | undefined)?.big, big);
  });

  test("a request over 32 MiB ends RESOURCE_EXHAUSTED instead of hanging", { timeout: 60_000 }, async () => {
    const req = new Uint8Array(32 * 1024 * 1024 + 1);
    await assert.rejects(peer.channel.unary(doCommand, {}, req), (err: ChannelError) => {
      assert.equal(err.code, Code.RESOURCE_EXHAUSTED);
      return true;
    });
  });

  test("rst_stream cancels a server stream on the host", async () => {
    const board = host.machine.get<FakeBoard>(boardApi, "board1");
    const call = peer.channel.call(
      "/viam.component.board.v1.BoardService/StreamTicks",
      {},
      toBinary(StreamTicksRequestSchema, create(StreamTicksRequestSchema, { name: "board1", pinNames: ["di1"] })),
    );
    await waitFor("the stream to open", () => board.openStreams() === 1);
    board.tick("di1", true);
    const it = call.responses[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.done, false);
    assert.equal(fromBinary(StreamTicksResponseSchema, first.value as Uint8Array).pinName, "di1");
    call.cancel();
    await waitFor("the host to end the stream", () => board.openStreams() === 0);
    assert.equal((await call.trailers).status.code, Code.CANCELLED);
  });

  test("the host answers on the same channel after all that", async () => {
    const { message } = await peer.unary(getReadings, GetReadingsRequestSchema, { name: "sensor1" }, GetReadingsResponseSchema);
    assert.ok("sine" in message.readings);
    assert.equal(host.signaling.peerCount, 1);
  });
});
