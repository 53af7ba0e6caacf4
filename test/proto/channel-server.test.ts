// ChannelServer driven frame by frame, the way the TS SDK and the Go client
// talk to it (spec 1.4, 3.4-3.10).

import assert from "node:assert/strict";
import { test } from "node:test";

import { ChannelError, Code, type Metadata, type RequestFrame, type ResponseFrame, type Status } from "../../proto/channel/frames.js";
import { protobufFrameCodec as codec } from "../../proto/channel/protobuf-codec.js";
import { ChannelServer, type ChannelServerOptions, type ServerCall } from "../../proto/channel/server.js";

const EMPTY = new Uint8Array(0);
const OK: Status = { code: Code.OK, message: "" };
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const bytesOf = (...xs: number[]) => new Uint8Array(xs);

class FakeTimers {
  readonly timers = new Set<{ ms: number; fn: () => void }>();
  setTimer = (ms: number, fn: () => void) => {
    const t = { ms, fn };
    this.timers.add(t);
    return () => {
      this.timers.delete(t);
    };
  };
  fireAll(): void {
    const all = [...this.timers];
    this.timers.clear();
    for (const t of all) t.fn();
  }
}

type Handler = (call: ServerCall) => void;

function setup(handler: Handler = echoUnary, extra: Partial<ChannelServerOptions> = {}) {
  const out: ResponseFrame[] = [];
  const errors: unknown[] = [];
  const calls: ServerCall[] = [];
  const timers = new FakeTimers();
  const server = new ChannelServer({
    codec,
    send: (b) => {
      out.push(codec.decodeResponse(b));
    },
    dispatch: (call) => {
      calls.push(call);
      handler(call);
    },
    setTimer: timers.setTimer,
    onProtocolError: (err) => errors.push(err),
    ...extra,
  });
  const req = (f: RequestFrame) => server.receive(codec.encodeRequest(f));
  return {
    server,
    out,
    errors,
    calls,
    timers,
    req,
    headers: (id: bigint, method = "/t.T/M", metadata: Metadata = {}, timeoutMs?: number) =>
      req({ streamId: id, headers: timeoutMs === undefined ? { method, metadata } : { method, metadata, timeoutMs } }),
    msg: (id: bigint, data: Uint8Array, o: { eom?: boolean; eos?: boolean; hasMessage?: boolean } = {}) =>
      req({ streamId: id, message: { hasMessage: o.hasMessage ?? true, data, eom: o.eom ?? true, eos: o.eos ?? false } }),
    halfClose: (id: bigint) => req({ streamId: id, message: { hasMessage: false, data: EMPTY, eom: true, eos: true } }),
    rst: (id: bigint) => req({ streamId: id, rstStream: true }),
    of: (id: bigint) => out.filter((f) => f.streamId === id),
  };
}

/** Unary echo: first request back, then OK. Never waits for EOS. */
function echoUnary(call: ServerCall): void {
  void (async () => {
    const first = await call.requests[Symbol.asyncIterator]().next();
    if (first.done) return call.finish({ code: Code.INVALID_ARGUMENT, message: "no request" });
    await call.sendMessage(first.value);
    call.finish(OK);
  })().catch(() => {});
}

function kinds(frames: ResponseFrame[]): string {
  return frames.map((f) => (f.headers ? "H" : f.message ? (f.message.eom ? "M" : "m") : f.trailers ? "T" : "?")).join("");
}

/** The server's wire guarantee for every stream. */
function assertWellFormed(frames: ResponseFrame[]): void {
  const ids = new Set(frames.map((f) => f.streamId));
  for (const id of ids) {
    const k = kinds(frames.filter((f) => f.streamId === id));
    assert.match(k, /^H[mM]*T$/, `stream ${id}: ${k}`);
  }
}

test("TS SDK unary on stream 0 without EOS: dispatched on the first eom, replied H M T", async () => {
  const h = setup();
  h.headers(0n, "/viam.robot.v1.RobotService/ResourceNames", { viam_client: ["typescript;v0.61.1;v0.1.512"] });
  assert.equal(h.calls.length, 1);
  assert.equal(h.calls[0].method, "/viam.robot.v1.RobotService/ResourceNames");
  assert.deepEqual(h.calls[0].metadata, { viam_client: ["typescript;v0.61.1;v0.1.512"] });
  assert.equal(h.calls[0].timeoutMs, undefined);
  // The TS SDK's empty message: has_message, eom, no data, no eos.
  h.server.receive(bytesOf(0x0a, 0x00, 0x1a, 0x06, 0x08, 0x01, 0x12, 0x02, 0x10, 0x01));
  await tick();
  assert.equal(kinds(h.out), "HMT");
  assert.deepEqual(h.out[1].message?.data, EMPTY);
  assert.deepEqual(h.out[2].trailers?.status, OK);
  assert.equal(h.server.activeCalls, 0);
});

test("a message split in TS-SDK packets is reassembled", async () => {
  const h = setup();
  const big = new Uint8Array(40_000).map((_, i) => i & 0xff);
  h.headers(0n);
  h.msg(0n, big.subarray(0, 16_373), { eom: false });
  h.msg(0n, big.subarray(16_373, 32_746), { eom: false });
  h.msg(0n, big.subarray(32_746), { eom: true });
  await tick();
  const data = h.out.filter((f) => f.message).map((f) => f.message!.data);
  assert.deepEqual(Buffer.concat(data), Buffer.from(big));
});

test("responses are chunked at maxPacketBytes, eom on the last packet only", async () => {
  const h = setup(echoUnary, { maxPacketBytes: 10 });
  h.headers(1n);
  h.msg(1n, new Uint8Array(25).fill(7));
  await tick();
  assert.equal(kinds(h.out), "HmmMT");
  assert.deepEqual(
    h.out.filter((f) => f.message).map((f) => f.message!.data.length),
    [10, 10, 5],
  );
});

test("Go unary: eos on every packet; the handler sees one message and the end", async () => {
  const got: Uint8Array[] = [];
  const h = setup((call) => {
    void (async () => {
      for await (const m of call.requests) got.push(m);
      call.finish(OK);
    })();
  });
  h.headers(1n, "/t.T/M", {}, 0);
  h.msg(1n, bytesOf(1, 2), { eom: false, eos: true });
  h.msg(1n, bytesOf(3), { eom: true, eos: true });
  await tick();
  assert.deepEqual(got, [bytesOf(1, 2, 3)]);
  assert.equal(kinds(h.out), "HT");
  assert.equal(h.timers.timers.size, 0, "timeout 0 arms no timer");
});

test("server streaming: N messages then OK, after the TS half-close frame", async () => {
  const h = setup((call) => {
    void (async () => {
      const it = call.requests[Symbol.asyncIterator]();
      const first = await it.next();
      const n = (first.value as Uint8Array)[0];
      call.sendHeaders({ "x-h": ["1"] });
      for (let i = 0; i < n; i++) await call.sendMessage(bytesOf(i));
      assert.equal((await it.next()).done, true);
      call.finish(OK, { "x-t": ["2"] });
    })();
  });
  h.headers(4n);
  h.msg(4n, bytesOf(5));
  h.halfClose(4n);
  await tick();
  assert.equal(kinds(h.out), "HMMMMMT");
  assert.deepEqual(h.out[0].headers?.metadata, { "x-h": ["1"] });
  assert.deepEqual(
    h.out.filter((f) => f.message).map((f) => f.message!.data[0]),
    [0, 1, 2, 3, 4],
  );
  assert.deepEqual(h.out[6].trailers, { status: OK, metadata: { "x-t": ["2"] } });
});

test("rst_stream cancels the handler (onCancel fires) and yields CANCELLED, headers first", async () => {
  let reason: Status | undefined;
  let recvError: unknown;
  let sendError: unknown;
  const h = setup((call) => {
    call.onCancel((r) => (reason = r));
    call.requests[Symbol.asyncIterator]()
      .next()
      .catch((err: unknown) => (recvError = err));
  });
  h.headers(2n);
  h.rst(2n);
  await tick();
  assert.deepEqual(reason, { code: Code.CANCELLED, message: "request cancelled" });
  assert.ok(recvError instanceof ChannelError && recvError.code === Code.CANCELLED);
  const call = h.calls[0];
  assert.equal(call.cancelled, true);
  assert.equal(call.finished, true);
  assert.deepEqual(call.cancelReason, reason);
  assert.equal(kinds(h.out), "HT");
  assert.deepEqual(h.out[1].trailers?.status, { code: Code.CANCELLED, message: "request cancelled" });
  // The handler's later moves change nothing on the wire.
  await call.sendMessage(bytesOf(1)).catch((err: unknown) => (sendError = err));
  call.finish(OK);
  assert.ok(sendError instanceof ChannelError && sendError.code === Code.CANCELLED);
  assert.equal(kinds(h.out), "HT");
  // onCancel registered afterwards runs at once.
  let late: Status | undefined;
  call.onCancel((r) => (late = r));
  assert.equal(late?.code, Code.CANCELLED);
  // rst for a finished (forgotten) stream is dropped.
  h.rst(2n);
  assert.equal(h.out.length, 2);
});

test("rst_stream after the handler sent headers sends only trailers", async () => {
  const h = setup((call) => {
    call.sendHeaders({ a: ["b"] });
  });
  h.headers(1n);
  h.rst(1n);
  assert.equal(kinds(h.out), "HT");
  assert.deepEqual(h.out[0].headers?.metadata, { a: ["b"] });
});

test("a second headers frame ends the stream with INVALID_ARGUMENT and cancels the handler", () => {
  let reason: Status | undefined;
  const h = setup((call) => {
    call.onCancel((r) => (reason = r));
  });
  h.headers(3n);
  h.headers(3n);
  assert.equal(h.calls.length, 1);
  assert.deepEqual(reason, { code: Code.INVALID_ARGUMENT, message: "headers already received" });
  assert.equal(kinds(h.out), "HT");
  assert.deepEqual(h.out[1].trailers?.status, reason);
});

test("an empty oneof on a live stream is INVALID_ARGUMENT", () => {
  const h = setup(() => {});
  h.headers(3n);
  h.req({ streamId: 3n });
  assert.equal(kinds(h.out), "HT");
  assert.equal(h.out[1].trailers?.status.code, Code.INVALID_ARGUMENT);
});

test("a message over the reassembly limit ends the call with RESOURCE_EXHAUSTED naming the limit", () => {
  let reason: Status | undefined;
  const h = setup((call) => call.onCancel((r) => (reason = r)), { maxMessageBytes: 100 });
  h.headers(1n);
  h.msg(1n, new Uint8Array(60), { eom: false });
  h.msg(1n, new Uint8Array(41), { eom: false });
  assert.equal(kinds(h.out), "HT");
  const status = h.out[1].trailers!.status;
  assert.equal(status.code, Code.RESOURCE_EXHAUSTED);
  assert.match(status.message, /\b100\b/);
  assert.deepEqual(reason, status);
  // The rest of that message goes nowhere.
  h.msg(1n, new Uint8Array(10));
  assert.equal(h.out.length, 2);
});

test("a message of exactly the limit is accepted", async () => {
  const h = setup(echoUnary, { maxMessageBytes: 100 });
  h.headers(1n);
  h.msg(1n, new Uint8Array(50), { eom: false });
  h.msg(1n, new Uint8Array(50));
  await tick();
  assert.equal(kinds(h.out), "HMT");
  assert.equal(h.out[1].message?.data.length, 100);
});

test("the request timeout cancels with DEADLINE_EXCEEDED", () => {
  let reason: Status | undefined;
  const h = setup((call) => call.onCancel((r) => (reason = r)));
  h.headers(1n, "/t.T/M", {}, 1500);
  assert.deepEqual(
    [...h.timers.timers].map((t) => t.ms),
    [1500],
  );
  assert.equal(h.calls[0].timeoutMs, 1500);
  h.timers.fireAll();
  assert.equal(reason?.code, Code.DEADLINE_EXCEEDED);
  assert.equal(kinds(h.out), "HT");
  assert.equal(h.out[1].trailers?.status.code, Code.DEADLINE_EXCEEDED);
});

test("finishing in time clears the deadline timer", async () => {
  const h = setup();
  h.headers(1n, "/t.T/M", {}, 1500);
  h.msg(1n, bytesOf(9));
  await tick();
  assert.equal(kinds(h.out), "HMT");
  assert.equal(h.timers.timers.size, 0);
});

test("an undecodable frame is reported and the channel keeps working", async () => {
  const h = setup();
  h.server.receive(bytesOf(0xff, 0xff, 0xff));
  h.req({ streamId: undefined, headers: { method: "/t.T/M", metadata: {} } });
  assert.equal(h.errors.length, 2);
  assert.equal(h.calls.length, 0);
  h.headers(1n);
  h.msg(1n, bytesOf(1));
  await tick();
  assert.equal(kinds(h.out), "HMT");
});

test("frames for unknown streams are dropped silently", () => {
  const h = setup();
  h.msg(8n, bytesOf(1));
  h.rst(8n);
  h.halfClose(8n);
  assert.equal(h.out.length, 0);
  assert.equal(h.calls.length, 0);
  assert.equal(h.errors.length, 0);
});

test("messages after EOS are ignored", async () => {
  const got: Uint8Array[] = [];
  let ended = false;
  const h = setup((call) => {
    void (async () => {
      for await (const m of call.requests) got.push(m);
      ended = true;
    })();
  });
  h.headers(1n);
  h.msg(1n, bytesOf(1));
  h.halfClose(1n);
  h.msg(1n, bytesOf(2));
  await tick();
  assert.deepEqual(got, [bytesOf(1)]);
  assert.equal(ended, true);
});

test("backpressure: sendMessage waits for the pending send, frames go out one at a time", async () => {
  const sent: ResponseFrame[] = [];
  const gates: (() => void)[] = [];
  let call!: ServerCall;
  const server = new ChannelServer({
    codec,
    send: (b) => {
      sent.push(codec.decodeResponse(b));
      return new Promise<void>((resolve) => gates.push(resolve));
    },
    dispatch: (c) => (call = c),
    setTimer: new FakeTimers().setTimer,
    maxPacketBytes: 4,
  });
  server.receive(codec.encodeRequest({ streamId: 1n, headers: { method: "/m", metadata: {} } }));
  let resolved = false;
  const p = call.sendMessage(new Uint8Array(8)).then(() => (resolved = true));
  await tick();
  assert.equal(kinds(sent), "H", "only the headers went out; they are not acknowledged yet");
  assert.equal(resolved, false);
  gates.shift()!();
  await tick();
  assert.equal(kinds(sent), "Hm");
  assert.equal(resolved, false);
  gates.shift()!();
  await tick();
  assert.equal(kinds(sent), "HmM");
  assert.equal(resolved, false, "the last packet's send has not settled");
  gates.shift()!();
  await p;
  assert.equal(resolved, true);
});

test("a rejected send fails the sendMessage that waits on it; the channel goes on", async () => {
  let fail = true;
  let call!: ServerCall;
  const sent: ResponseFrame[] = [];
  const server = new ChannelServer({
    codec,
    send: (b) => {
      if (fail && codec.decodeResponse(b).message) return Promise.reject(new Error("link down"));
      sent.push(codec.decodeResponse(b));
    },
    dispatch: (c) => (call = c),
    setTimer: new FakeTimers().setTimer,
  });
  server.receive(codec.encodeRequest({ streamId: 1n, headers: { method: "/m", metadata: {} } }));
  await assert.rejects(call.sendMessage(bytesOf(1)), /link down/);
  fail = false;
  await call.sendMessage(bytesOf(2));
  call.finish(OK);
  assert.equal(kinds(sent), "HMT");
});

test("headers exactly once; finish exactly once; nothing after trailers", async () => {
  const h = setup((call) => {
    assert.equal(call.sendHeaders({ a: ["1"] }), true);
    assert.equal(call.sendHeaders({ b: ["2"] }), false);
    call.finish({ code: Code.NOT_FOUND, message: "gone" });
    call.finish(OK);
    assert.equal(call.sendHeaders(), false);
  });
  h.headers(1n);
  await tick();
  assert.equal(kinds(h.out), "HT");
  assert.deepEqual(h.out[0].headers?.metadata, { a: ["1"] });
  assert.deepEqual(h.out[1].trailers?.status, { code: Code.NOT_FOUND, message: "gone" });
  await assert.rejects(h.calls[0].sendMessage(bytesOf(1)), (err: unknown) => err instanceof ChannelError && err.code === Code.FAILED_PRECONDITION);
  assert.equal(h.calls[0].cancelled, false);
});

test("an error-only finish still sends headers first", () => {
  const h = setup((call) => call.finish({ code: Code.UNIMPLEMENTED, message: "Unimplemented" }));
  h.headers(1n);
  assert.equal(kinds(h.out), "HT");
  assert.deepEqual(h.out[0].headers?.metadata, {});
});

test("a dispatcher that throws ends the call: ChannelError keeps its code, others are UNKNOWN", () => {
  const h = setup((call) => {
    if (call.streamId === 1n) throw new ChannelError(Code.PERMISSION_DENIED, "no");
    throw new Error("boom");
  });
  h.headers(1n);
  h.headers(2n);
  assert.deepEqual(h.of(1n)[1].trailers?.status, { code: Code.PERMISSION_DENIED, message: "no" });
  assert.deepEqual(h.of(2n)[1].trailers?.status, { code: Code.UNKNOWN, message: "boom" });
});

test("Status details reach the wire", () => {
  const detail = bytesOf(0x0a, 0x01, 0x78);
  const h = setup((call) => call.finish({ code: Code.ABORTED, message: "x", details: [detail] }));
  h.headers(1n);
  assert.deepEqual(h.out[1].trailers?.status.details, [detail]);
});

test("a finished stream id can be reused by a new call", async () => {
  const h = setup();
  h.headers(1n);
  h.msg(1n, bytesOf(1));
  await tick();
  h.headers(1n);
  h.msg(1n, bytesOf(2));
  await tick();
  assert.equal(h.calls.length, 2);
  assert.equal(kinds(h.out), "HMTHMT");
});

test("close(reason, writable) ends every call on the wire; close() without writable sends nothing", () => {
  const reasons: Status[] = [];
  const h = setup((call) => call.onCancel((r) => reasons.push(r)));
  h.headers(1n);
  h.headers(2n);
  h.server.close({ code: Code.UNAVAILABLE, message: "shutting down" }, true);
  assert.equal(h.server.closed, true);
  assert.equal(kinds(h.of(1n)), "HT");
  assert.equal(kinds(h.of(2n)), "HT");
  assert.deepEqual(h.of(2n)[1].trailers?.status, { code: Code.UNAVAILABLE, message: "shutting down" });
  assert.equal(reasons.length, 2);
  h.headers(3n);
  assert.equal(h.calls.length, 2, "a closed server accepts nothing");

  const g = setup((call) => call.onCancel((r) => reasons.push(r)));
  g.headers(1n);
  g.server.close();
  assert.equal(g.out.length, 0);
  assert.deepEqual(reasons[2], { code: Code.UNAVAILABLE, message: "channel closed" });
  assert.equal(g.calls[0].cancelled, true);
});

test("queued packets of a cancelled call are dropped, its trailers still come last", async () => {
  const sent: ResponseFrame[] = [];
  const gates: (() => void)[] = [];
  let call!: ServerCall;
  const server = new ChannelServer({
    codec,
    send: (b) => {
      sent.push(codec.decodeResponse(b));
      return new Promise<void>((resolve) => gates.push(resolve));
    },
    dispatch: (c) => (call = c),
    setTimer: new FakeTimers().setTimer,
    maxPacketBytes: 1,
  });
  server.receive(codec.encodeRequest({ streamId: 1n, headers: { method: "/m", metadata: {} } }));
  const p = call.sendMessage(new Uint8Array(100));
  server.receive(codec.encodeRequest({ streamId: 1n, rstStream: true }));
  await assert.rejects(p, (err: unknown) => err instanceof ChannelError && err.code === Code.CANCELLED);
  while (gates.length > 0) {
    gates.shift()!();
    await tick();
  }
  assert.equal(kinds(sent), "HT");
});

test("several concurrent streams are independent", async () => {
  const h = setup();
  for (const id of [5n, 6n, 7n]) h.headers(id);
  h.msg(7n, bytesOf(7));
  h.msg(5n, bytesOf(5));
  h.rst(6n);
  await tick();
  assertWellFormed(h.out);
  assert.deepEqual(h.of(5n)[1].message?.data, bytesOf(5));
  assert.deepEqual(h.of(7n)[1].message?.data, bytesOf(7));
  assert.equal(h.of(6n)[1].trailers?.status.code, Code.CANCELLED);
});
