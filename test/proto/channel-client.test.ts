// ChannelClient against a scripted server: what it puts on the wire and how
// it reads what comes back.

import assert from "node:assert/strict";
import { test } from "node:test";

import { ChannelClient, type ChannelClientOptions } from "../../proto/channel/client.js";
import { ChannelError, Code, type RequestFrame, type ResponseFrame } from "../../proto/channel/frames.js";
import { protobufFrameCodec as codec } from "../../proto/channel/protobuf-codec.js";

const EMPTY = new Uint8Array(0);
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const bytesOf = (...xs: number[]) => new Uint8Array(xs);

function setup(extra: Partial<ChannelClientOptions> = {}) {
  const out: RequestFrame[] = [];
  const errors: unknown[] = [];
  const timers = new Set<{ ms: number; fn: () => void }>();
  const client = new ChannelClient({
    codec,
    send: (b) => {
      out.push(codec.decodeRequest(b));
    },
    setTimer: (ms, fn) => {
      const t = { ms, fn };
      timers.add(t);
      return () => {
        timers.delete(t);
      };
    },
    onProtocolError: (err) => errors.push(err),
    ...extra,
  });
  const res = (f: ResponseFrame) => client.receive(codec.encodeResponse(f));
  return {
    client,
    out,
    errors,
    timers,
    res,
    headers: (id: bigint, metadata = {}) => res({ streamId: id, headers: { metadata } }),
    msg: (id: bigint, data: Uint8Array, eom = true) => res({ streamId: id, message: { data, eom } }),
    trailers: (id: bigint, code: number = Code.OK, message = "", metadata = {}) =>
      res({ streamId: id, trailers: { status: { code, message }, metadata } }),
  };
}

function kinds(frames: RequestFrame[]): string {
  return frames
    .map((f) => (f.headers ? "H" : f.message ? (f.message.eos ? (f.message.hasMessage ? "E" : "C") : f.message.eom ? "M" : "m") : f.rstStream ? "R" : "?"))
    .join("");
}

test("unary on the wire: headers, packets with has_message, eos on the last only; ids start at 1", async () => {
  const h = setup({ maxPacketBytes: 4 });
  const p = h.client.unary("/t.T/M", { k: ["v"] }, bytesOf(1, 2, 3, 4, 5, 6, 7, 8, 9));
  assert.equal(kinds(h.out), "HmmE");
  assert.deepEqual(h.out[0], { streamId: 1n, headers: { method: "/t.T/M", metadata: { k: ["v"] } } });
  assert.ok(h.out.slice(1).every((f) => f.streamId === 1n && f.message?.hasMessage));
  assert.deepEqual(
    h.out.slice(1).map((f) => [f.message!.data.length, f.message!.eom, f.message!.eos]),
    [
      [4, false, false],
      [4, false, false],
      [1, true, true],
    ],
  );
  h.headers(1n, { h: ["1"] });
  h.msg(1n, bytesOf(42));
  h.trailers(1n, Code.OK, "", { t: ["2"] });
  assert.deepEqual(await p, { message: bytesOf(42), headers: { h: ["1"] }, trailers: { t: ["2"] } });
  assert.equal(h.client.activeCalls, 0);
});

test("an empty unary request is one packet without data; firstStreamId 0n gives TS-style ids", () => {
  const h = setup({ firstStreamId: 0n });
  void h.client.unary("/t.T/M", {}, EMPTY).catch(() => {});
  void h.client.unary("/t.T/M", {}, EMPTY).catch(() => {});
  assert.deepEqual(h.out[1], { streamId: 0n, message: { hasMessage: true, data: EMPTY, eom: true, eos: true } });
  assert.equal(h.out[2].streamId, 1n);
  h.client.close();
});

test("the default packet size is Go's 65 509", () => {
  const h = setup();
  void h.client.unary("/t.T/M", {}, new Uint8Array(65_510)).catch(() => {});
  assert.deepEqual(
    h.out.slice(1).map((f) => f.message!.data.length),
    [65_509, 1],
  );
  h.client.close();
});

test("unary rejects with a ChannelError carrying code, message and trailer metadata", async () => {
  const h = setup();
  const p = h.client.unary("/t.T/M", {}, bytesOf(1));
  h.headers(1n);
  h.trailers(1n, Code.NOT_FOUND, "missing thing", { why: ["x"] });
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ChannelError);
    assert.equal(err.code, Code.NOT_FOUND);
    assert.equal(err.message, "missing thing");
    assert.deepEqual(err.metadata, { why: ["x"] });
    return true;
  });
});

test("unary with no message or two messages is INTERNAL", async () => {
  const h = setup();
  const none = h.client.unary("/t.T/M", {}, bytesOf(1));
  const two = h.client.unary("/t.T/M", {}, bytesOf(1));
  h.headers(1n);
  h.trailers(1n);
  h.headers(2n);
  h.msg(2n, bytesOf(1));
  h.msg(2n, bytesOf(2));
  h.trailers(2n);
  await assert.rejects(none, { code: Code.INTERNAL, message: "missing message" });
  await assert.rejects(two, { code: Code.INTERNAL, message: "received more than one message" });
});

test("a request stream sends messages then a separate half-close frame", async () => {
  const h = setup();
  async function* reqs() {
    yield bytesOf(1);
    await tick();
    yield EMPTY;
  }
  const call = h.client.call("/t.T/Bidi", {}, reqs());
  await tick();
  await tick();
  assert.equal(kinds(h.out), "HMMC");
  assert.deepEqual(h.out[3].message, { hasMessage: false, data: EMPTY, eom: true, eos: true });
  h.headers(1n);
  h.msg(1n, bytesOf(7, 7), false);
  h.msg(1n, bytesOf(8));
  h.msg(1n, EMPTY);
  h.trailers(1n);
  const got: Uint8Array[] = [];
  for await (const m of call.responses) got.push(m);
  assert.deepEqual(got, [bytesOf(7, 7, 8), EMPTY]);
  assert.deepEqual((await call.trailers).status, { code: Code.OK, message: "" });
});

test("request streams get backpressure: the source is not pulled while a send is pending", async () => {
  const gates: (() => void)[] = [];
  let pulled = 0;
  const client = new ChannelClient({
    codec,
    send: () => new Promise<void>((resolve) => gates.push(resolve)),
    setTimer: () => () => {},
  });
  async function* reqs() {
    for (let i = 0; i < 3; i++) {
      pulled++;
      yield bytesOf(i);
    }
  }
  client.call("/t.T/S", {}, reqs());
  await tick();
  assert.equal(pulled, 1);
  assert.equal(gates.length, 1, "headers in flight; the first message waits behind them");
  gates.shift()!();
  await tick();
  assert.equal(pulled, 1);
  gates.shift()!();
  await tick();
  assert.equal(pulled, 2);
  client.close();
});

test("cancel() sends rst_stream and ends the call with CANCELLED", async () => {
  const h = setup();
  let cancel: (() => void) | undefined;
  const call = h.client.call("/t.T/S", {}, bytesOf(1), { onCancelRegister: (c) => (cancel = c) });
  h.headers(1n);
  h.msg(1n, bytesOf(5));
  cancel!();
  assert.equal(kinds(h.out), "HER");
  assert.deepEqual(h.out[2], { streamId: 1n, rstStream: true });
  assert.deepEqual(await call.headers, {});
  const got: Uint8Array[] = [];
  await assert.rejects(
    (async () => {
      for await (const m of call.responses) got.push(m);
    })(),
    { code: Code.CANCELLED },
  );
  assert.deepEqual(got, [bytesOf(5)], "what arrived before the cancel is still delivered");
  assert.equal((await call.trailers).status.code, Code.CANCELLED);
  // The server's late CANCELLED trailers are dropped; cancel twice is a no-op.
  h.trailers(1n, Code.CANCELLED, "request cancelled");
  call.cancel();
  assert.equal(kinds(h.out), "HER");
});

test("timeoutMs goes into the headers and ends the call with DEADLINE_EXCEEDED plus rst_stream", async () => {
  const h = setup();
  const call = h.client.call("/t.T/M", {}, bytesOf(1), { timeoutMs: 250 });
  assert.equal(h.out[0].headers?.timeoutMs, 250);
  assert.deepEqual(
    [...h.timers].map((t) => t.ms),
    [250],
  );
  for (const t of [...h.timers]) t.fn();
  await assert.rejects(call.headers, { code: Code.DEADLINE_EXCEEDED });
  assert.equal((await call.trailers).status.code, Code.DEADLINE_EXCEEDED);
  assert.equal(kinds(h.out), "HER");
});

test("completing in time clears the timer", async () => {
  const h = setup();
  const p = h.client.unary("/t.T/M", {}, bytesOf(1), { timeoutMs: 250 });
  h.headers(1n);
  h.msg(1n, bytesOf(2));
  h.trailers(1n);
  await p;
  assert.equal(h.timers.size, 0);
});

test("close() fails pending calls with UNAVAILABLE; later calls fail at once", async () => {
  const h = setup();
  const a = h.client.unary("/t.T/M", {}, bytesOf(1));
  const b = h.client.call("/t.T/S", {}, bytesOf(1));
  h.headers(2n);
  h.client.close("peer went away");
  await assert.rejects(a, { code: Code.UNAVAILABLE, message: "peer went away" });
  assert.deepEqual((await b.trailers).status, { code: Code.UNAVAILABLE, message: "peer went away" });
  const sentBefore = h.out.length;
  await assert.rejects(h.client.unary("/t.T/M", {}, bytesOf(1)), { code: Code.UNAVAILABLE });
  assert.equal(h.out.length, sentBefore, "nothing is sent after close");
  assert.equal(h.client.closed, true);
});

test("a trailers-only response resolves headers as empty", async () => {
  const h = setup();
  const call = h.client.call("/t.T/S", {}, bytesOf(1));
  h.trailers(1n);
  assert.deepEqual(await call.headers, {});
  const err = h.client.call("/t.T/S", {}, bytesOf(1));
  h.trailers(2n, Code.UNIMPLEMENTED, "Unimplemented");
  await assert.rejects(err.headers, { code: Code.UNIMPLEMENTED });
});

test("ordering violations from the server fail the call with INTERNAL and reset it", async () => {
  const h = setup();
  const a = h.client.call("/t.T/S", {}, bytesOf(1));
  h.msg(1n, bytesOf(1));
  assert.deepEqual((await a.trailers).status, { code: Code.INTERNAL, message: "headers not yet received" });
  const b = h.client.call("/t.T/S", {}, bytesOf(1));
  h.headers(2n);
  h.headers(2n);
  assert.deepEqual((await b.trailers).status, { code: Code.INTERNAL, message: "headers already received" });
  assert.equal(h.out.filter((f) => f.rstStream).length, 2);
});

test("an oversize response message fails the call with RESOURCE_EXHAUSTED", async () => {
  const h = setup({ maxMessageBytes: 3 });
  const call = h.client.call("/t.T/S", {}, bytesOf(1));
  h.headers(1n);
  h.msg(1n, bytesOf(1, 2), false);
  h.msg(1n, bytesOf(3, 4));
  assert.equal((await call.trailers).status.code, Code.RESOURCE_EXHAUSTED);
});

test("undecodable responses are reported; responses for unknown streams are dropped", async () => {
  const h = setup();
  h.client.receive(bytesOf(0xff, 0xff));
  h.client.receive(bytesOf(0x12, 0x00)); // no stream
  h.msg(9n, bytesOf(1));
  assert.equal(h.errors.length, 2);
  const p = h.client.unary("/t.T/M", {}, bytesOf(1));
  h.headers(1n);
  h.msg(1n, bytesOf(3));
  h.trailers(1n);
  assert.deepEqual((await p).message, bytesOf(3));
});

test("a failing request stream resets the call", async () => {
  const h = setup();
  async function* reqs(): AsyncGenerator<Uint8Array> {
    yield bytesOf(1);
    throw new Error("source broke");
  }
  const call = h.client.call("/t.T/S", {}, reqs());
  const { status } = await call.trailers;
  assert.deepEqual(status, { code: Code.CANCELLED, message: "request stream failed: source broke" });
  assert.equal(kinds(h.out), "HMR");
});

test("the request source is closed when the call ends first", async () => {
  const h = setup();
  let finalized = false;
  async function* reqs() {
    try {
      for (let i = 0; ; i++) {
        yield bytesOf(i);
        await tick();
      }
    } finally {
      finalized = true;
    }
  }
  const call = h.client.call("/t.T/S", {}, reqs());
  await tick();
  h.headers(1n);
  h.trailers(1n);
  await call.trailers;
  for (let i = 0; i < 5 && !finalized; i++) await tick();
  assert.equal(finalized, true);
  assert.equal(h.out.some((f) => f.message?.eos), false, "no half-close for a finished call");
});
