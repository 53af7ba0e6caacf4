// ChannelClient and ChannelServer back to back through the protobuf codec.
// The property test shuffles delivery between concurrent streams (order
// within a stream and direction is kept) and checks that every message
// arrives intact and in order, with headers before messages before trailers.

import assert from "node:assert/strict";
import { test } from "node:test";

import fc from "fast-check";

import { ChannelClient } from "../../proto/channel/client.js";
import { ChannelError, Code, type Metadata, type RequestFrame, type ResponseFrame, type Status } from "../../proto/channel/frames.js";
import { protobufFrameCodec as codec } from "../../proto/channel/protobuf-codec.js";
import { ChannelServer, type ServerCall } from "../../proto/channel/server.js";

const OK: Status = { code: Code.OK, message: "" };
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic content that differs per (case, message, direction). */
function content(size: number, salt: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 131 + salt * 17 + (i >> 8) * 7) & 0xff;
  return out;
}
const reqBytes = (c: number, i: number, size: number) => content(size, c * 1000 + i);
const respBytes = (c: number, i: number, size: number) => content(size, c * 1000 + 500 + i);

type Kind = "unary" | "server" | "client" | "bidi";
interface Case {
  kind: Kind;
  requests: number[];
  /** For bidi: the extra messages after the echoes. */
  responses: number[];
  headerMd: boolean;
}

const METHODS: Record<Kind, string> = {
  unary: "/test.v1.T/Unary",
  server: "/test.v1.T/ServerStream",
  client: "/test.v1.T/ClientStream",
  bidi: "/test.v1.T/Bidi",
};

const sizeArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 600 }) },
  { weight: 1, arbitrary: fc.integer({ min: 600, max: 5000 }) },
);
const one = fc.tuple(sizeArb);
const many = fc.array(sizeArb, { maxLength: 4 });
const caseArb: fc.Arbitrary<Case> = fc.constantFrom<Kind>("unary", "server", "client", "bidi").chain((kind) =>
  fc.record(
    {
      kind: fc.constant(kind),
      requests: kind === "unary" || kind === "server" ? one : many,
      responses: kind === "unary" || kind === "client" ? one : many,
      headerMd: fc.boolean(),
    },
    { noNullPrototype: true },
  ),
);

function responseKinds(frames: ResponseFrame[]): string {
  return frames.map((f) => (f.headers ? "H" : f.message ? (f.message.eom ? "M" : "m") : f.trailers ? "T" : "?")).join("");
}
function requestKinds(frames: RequestFrame[]): string {
  return frames
    .map((f) => (f.headers ? "H" : f.message ? (f.message.eos ? (f.message.hasMessage ? "E" : "C") : f.message.eom ? "M" : "m") : f.rstStream ? "R" : "?"))
    .join("");
}

interface Pending {
  id: bigint;
  bytes: Uint8Array;
}

/** Index of the oldest pending frame of every stream. */
function heads(queue: Pending[]): number[] {
  const seen = new Set<bigint>();
  const out: number[] = [];
  queue.forEach((p, i) => {
    if (!seen.has(p.id)) {
      seen.add(p.id);
      out.push(i);
    }
  });
  return out;
}

async function handle(call: ServerCall, cases: Case[], received: Uint8Array[][]): Promise<void> {
  const idx = Number(call.metadata["x-case"][0]);
  const c = cases[idx];
  const got: Uint8Array[] = (received[idx] = []);
  const it = call.requests[Symbol.asyncIterator]();
  if (c.headerMd) call.sendHeaders({ "x-idx": [String(idx)] });
  switch (c.kind) {
    case "unary": {
      // Takes the first message and answers; never waits for the end.
      const r = await it.next();
      got.push(r.value as Uint8Array);
      await call.sendMessage(respBytes(idx, 0, c.responses[0]));
      break;
    }
    case "server": {
      const r = await it.next();
      got.push(r.value as Uint8Array);
      for (let i = 0; i < c.responses.length; i++) await call.sendMessage(respBytes(idx, i, c.responses[i]));
      break;
    }
    case "client":
      for await (const m of call.requests) got.push(m);
      await call.sendMessage(respBytes(idx, 0, c.responses[0]));
      break;
    case "bidi":
      for await (const m of call.requests) {
        got.push(m);
        await call.sendMessage(m);
      }
      for (let i = 0; i < c.responses.length; i++) await call.sendMessage(respBytes(idx, i, c.responses[i]));
      break;
  }
  call.finish(OK, { "x-done": [String(idx)] });
}

async function runClientCase(client: ChannelClient, cases: Case[], idx: number, rng: () => number): Promise<void> {
  const c = cases[idx];
  const md: Metadata = { "x-case": [String(idx)] };
  const expectHeaders = c.headerMd ? { "x-idx": [String(idx)] } : {};
  const expectTrailers = { "x-done": [String(idx)] };
  if (c.kind === "unary") {
    const r = await client.unary(METHODS.unary, md, reqBytes(idx, 0, c.requests[0]));
    assert.deepEqual(r.message, respBytes(idx, 0, c.responses[0]));
    assert.deepEqual(r.headers, expectHeaders);
    assert.deepEqual(r.trailers, expectTrailers);
    return;
  }
  let requests: Uint8Array | AsyncIterable<Uint8Array>;
  if (c.kind === "server") {
    requests = reqBytes(idx, 0, c.requests[0]);
  } else {
    const sizes = c.requests;
    requests = (async function* () {
      for (let i = 0; i < sizes.length; i++) {
        if (rng() < 0.5) await tick();
        yield reqBytes(idx, i, sizes[i]);
      }
    })();
  }
  const call = client.call(METHODS[c.kind], md, requests);
  const got: Uint8Array[] = [];
  for await (const m of call.responses) got.push(m);
  let expected: Uint8Array[];
  if (c.kind === "server") expected = c.responses.map((s, i) => respBytes(idx, i, s));
  else if (c.kind === "client") expected = [respBytes(idx, 0, c.responses[0])];
  else expected = [...c.requests.map((s, i) => reqBytes(idx, i, s)), ...c.responses.map((s, i) => respBytes(idx, i, s))];
  assert.deepEqual(got, expected);
  assert.deepEqual(await call.headers, expectHeaders);
  assert.deepEqual(await call.trailers, { status: OK, metadata: expectTrailers });
}

interface Scenario {
  cases: Case[];
  clientPacket: number;
  serverPacket: number;
  seed: number;
  firstStreamId: bigint;
  asyncSend: boolean;
}

async function runScenario(s: Scenario): Promise<void> {
  const rng = mulberry32(s.seed);
  const c2s: Pending[] = [];
  const s2c: Pending[] = [];
  const wireC2S = new Map<bigint, RequestFrame[]>();
  const wireS2C = new Map<bigint, ResponseFrame[]>();
  const received: Uint8Array[][] = [];
  const handlerErrors: unknown[] = [];
  const protocolErrors: unknown[] = [];
  const noTimer = () => {
    throw new Error("no timers in this test");
  };

  const client = new ChannelClient({
    codec,
    send: (bytes) => {
      c2s.push({ id: codec.decodeRequest(bytes).streamId!, bytes });
      return s.asyncSend ? Promise.resolve() : undefined;
    },
    setTimer: noTimer,
    firstStreamId: s.firstStreamId,
    maxPacketBytes: s.clientPacket,
    onProtocolError: (e) => protocolErrors.push(e),
  });
  const server = new ChannelServer({
    codec,
    send: (bytes) => {
      s2c.push({ id: codec.decodeResponse(bytes).streamId, bytes });
      return s.asyncSend ? Promise.resolve() : undefined;
    },
    dispatch: (call) => {
      handle(call, s.cases, received).catch((err: unknown) => {
        handlerErrors.push(err);
        call.finish({ code: Code.INTERNAL, message: String(err) });
      });
    },
    setTimer: noTimer,
    maxPacketBytes: s.serverPacket,
    onProtocolError: (e) => protocolErrors.push(e),
  });

  let settled = 0;
  const failures: unknown[] = [];
  s.cases.forEach((_, idx) => {
    runClientCase(client, s.cases, idx, rng).then(
      () => settled++,
      (err: unknown) => {
        failures.push(err);
        settled++;
      },
    );
  });

  let idle = 0;
  while (settled < s.cases.length || c2s.length > 0 || s2c.length > 0) {
    const candidates: [Pending[], number][] = [
      ...heads(c2s).map((i): [Pending[], number] => [c2s, i]),
      ...heads(s2c).map((i): [Pending[], number] => [s2c, i]),
    ];
    if (candidates.length === 0) {
      if (++idle > 100) throw new Error(`stuck: ${settled}/${s.cases.length} calls settled`);
      await tick();
      continue;
    }
    idle = 0;
    const [queue, i] = candidates[Math.floor(rng() * candidates.length)];
    const [item] = queue.splice(i, 1);
    if (queue === c2s) {
      const list = wireC2S.get(item.id) ?? [];
      list.push(codec.decodeRequest(item.bytes));
      wireC2S.set(item.id, list);
      server.receive(item.bytes);
    } else {
      const list = wireS2C.get(item.id) ?? [];
      list.push(codec.decodeResponse(item.bytes));
      wireS2C.set(item.id, list);
      client.receive(item.bytes);
    }
    if (rng() < 0.3) await tick();
  }

  if (failures.length > 0) throw failures[0];
  assert.deepEqual(handlerErrors, []);
  assert.deepEqual(protocolErrors, []);

  // Every request message reached its handler intact and in order (a
  // unary/server handler reads only the first one, which is all there is).
  s.cases.forEach((c, idx) => {
    assert.deepEqual(
      received[idx],
      c.requests.map((size, i) => reqBytes(idx, i, size)),
      `case ${idx} (${c.kind}) requests`,
    );
  });

  // Wire shape per stream, both directions.
  assert.equal(wireS2C.size, s.cases.length);
  for (const [id, frames] of wireS2C) assert.match(responseKinds(frames), /^H[mM]*T$/, `response stream ${id}`);
  for (const [id, frames] of wireC2S) {
    assert.match(requestKinds(frames), /^H((m*E)|([mM]*C))$/, `request stream ${id}`);
    for (const f of frames) if (f.message) assert.ok(f.message.data.length <= s.clientPacket);
  }
  for (const frames of wireS2C.values()) for (const f of frames) if (f.message) assert.ok(f.message.data.length <= s.serverPacket);
  const ids = [...wireC2S.keys()].sort((a, b) => (a < b ? -1 : 1));
  assert.deepEqual(
    ids,
    s.cases.map((_, i) => s.firstStreamId + BigInt(i)),
  );

  assert.equal(client.activeCalls, 0);
  assert.equal(server.activeCalls, 0);
}

test("property: concurrent calls over a shuffled link deliver everything intact and in order", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record(
        {
          cases: fc.array(caseArb, { minLength: 1, maxLength: 6 }),
          clientPacket: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 64, max: 2000 })),
          serverPacket: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 64, max: 2000 })),
          seed: fc.integer(),
          firstStreamId: fc.constantFrom(0n, 1n),
          asyncSend: fc.boolean(),
        },
        { noNullPrototype: true },
      ),
      runScenario,
    ),
    { numRuns: 150 },
  );
});

// ---------------------------------------------------------------------------
// Back to back over a direct, synchronous link.

function directPair(handler: (call: ServerCall) => void, opts: { maxMessageBytes?: number } = {}) {
  type Timer = { ms: number; fn: () => void };
  const timerSet = (timers: Set<Timer>) => (ms: number, fn: () => void) => {
    const t = { ms, fn };
    timers.add(t);
    return () => {
      timers.delete(t);
    };
  };
  const clientTimers = new Set<Timer>();
  const serverTimers = new Set<Timer>();
  const errors: unknown[] = [];
  // eslint-disable-next-line prefer-const
  let server: ChannelServer;
  const client = new ChannelClient({ codec, send: (b) => server.receive(b), setTimer: timerSet(clientTimers), onProtocolError: (e) => errors.push(e) });
  server = new ChannelServer({
    codec,
    send: (b) => client.receive(b),
    dispatch: handler,
    setTimer: timerSet(serverTimers),
    onProtocolError: (e) => errors.push(e),
    ...opts,
  });
  return { client, server, clientTimers, serverTimers, errors };
}

test("unary round trip", async () => {
  const { client } = directPair((call) => {
    void (async () => {
      const first = await call.requests[Symbol.asyncIterator]().next();
      await call.sendMessage(Uint8Array.from(first.value as Uint8Array).reverse());
      call.finish(OK);
    })();
  });
  const r = await client.unary("/t/U", {}, Uint8Array.of(1, 2, 3));
  assert.deepEqual(r.message, Uint8Array.of(3, 2, 1));
});

test("client cancel fires the handler's onCancel and both sides see CANCELLED", async () => {
  let reason: Status | undefined;
  const { client, server } = directPair((call) => {
    call.onCancel((r) => (reason = r));
    void call.sendMessage(Uint8Array.of(1));
  });
  const call = client.call("/t/S", {}, Uint8Array.of(0));
  const it = call.responses[Symbol.asyncIterator]();
  assert.deepEqual((await it.next()).value, Uint8Array.of(1));
  call.cancel();
  assert.deepEqual(reason, { code: Code.CANCELLED, message: "request cancelled" });
  assert.equal((await call.trailers).status.code, Code.CANCELLED);
  assert.equal(server.activeCalls, 0);
  assert.equal(client.activeCalls, 0);
});

test("server handler errors reach unary callers as ChannelError", async () => {
  const { client } = directPair((call) => call.finish({ code: Code.UNIMPLEMENTED, message: "Unimplemented" }));
  await assert.rejects(client.unary("/t/Nope", {}, new Uint8Array(0)), (err: unknown) => {
    return err instanceof ChannelError && err.code === Code.UNIMPLEMENTED && err.message === "Unimplemented";
  });
});

test("an over-limit request comes back as RESOURCE_EXHAUSTED", async () => {
  const { client } = directPair(() => {}, { maxMessageBytes: 1000 });
  await assert.rejects(client.unary("/t/U", {}, new Uint8Array(1001)), { code: Code.RESOURCE_EXHAUSTED });
});

test("a deadline set by the client ends the handler with DEADLINE_EXCEEDED", async () => {
  let reason: Status | undefined;
  const { client, server, clientTimers, serverTimers } = directPair((call) => call.onCancel((r) => (reason = r)));
  const p = client.unary("/t/Slow", {}, Uint8Array.of(1), { timeoutMs: 50 });
  assert.deepEqual(
    [...clientTimers, ...serverTimers].map((t) => t.ms),
    [50, 50],
  );
  // The server's deadline fires first: its DEADLINE_EXCEEDED trailers end the client's call.
  for (const t of serverTimers) t.fn();
  await assert.rejects(p, { code: Code.DEADLINE_EXCEEDED });
  assert.equal(reason?.code, Code.DEADLINE_EXCEEDED);
  assert.equal(server.activeCalls, 0);
  assert.equal(clientTimers.size, 0, "the client's timer was cleared by the trailers");
});

test("an undecodable frame in the middle of a session does not break the channel", async () => {
  const { client, server, errors } = directPair((call) => {
    void call.sendMessage(Uint8Array.of(9)).then(() => call.finish(OK));
  });
  server.receive(Uint8Array.of(0xff, 0x01, 0x02));
  const r = await client.unary("/t/U", {}, Uint8Array.of(1));
  assert.deepEqual(r.message, Uint8Array.of(9));
  assert.equal(errors.length, 1);
});
