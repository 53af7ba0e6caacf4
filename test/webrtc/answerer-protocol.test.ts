// `sprocket signaling` (another process) spoken to by hand over native gRPC: auth, goutils' rpc-host
// errors, heartbeats, and the relay between a Call and an Answer stream stage by stage, without any
// WebRTC underneath (spec §4.1, §4.5, §4.6).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import {
  AnswerResponseSchema,
  SignalingService,
  type AnswerRequest,
  type AnswerResponse,
  type CallResponse,
} from "../../proto/gen/proto/rpc/webrtc/v1/signaling_pb.js";
import { CallQueue } from "../../host/signaling/call-queue.js";
import { AsyncQueue } from "../../host/webrtc/signaling-service.js";
import { startSignalingProcess, type SignalingProcess } from "./answerer-env.js";

function isConnectError(code: Code, message: string | RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ConnectError, `expected a ConnectError, got ${String(err)}`);
    if (typeof message === "string") assert.equal(err.rawMessage, message);
    else assert.match(err.rawMessage, message);
    assert.equal(err.code, code, `code ${Code[err.code]} for "${err.rawMessage}"`);
    return true;
  };
}

async function drain<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** An Answer stream driven by hand: push responses, pull requests one by one. */
class RawAnswerer {
  readonly sent = new AsyncQueue<AnswerResponse>();
  private readonly it: AsyncIterator<AnswerRequest>;
  private readonly abort = new AbortController();

  constructor(signaling: Client<typeof SignalingService>, headers: Headers) {
    this.it = signaling.answer(this.sent, { headers, signal: this.abort.signal })[Symbol.asyncIterator]();
  }

  /** The next request that is not a heartbeat; undefined when the stream ended. */
  async next(): Promise<AnswerRequest | undefined> {
    for (;;) {
      const r = await this.it.next();
      if (r.done) return undefined;
      if (r.value.stage.case !== "heartbeat") return r.value;
    }
  }

  /** The next request whatever it is. */
  async nextRaw(): Promise<AnswerRequest | undefined> {
    const r = await this.it.next();
    return r.done ? undefined : r.value;
  }

  send(uuid: string, stage: MessageInitShape<typeof AnswerResponseSchema>["stage"]): void {
    this.sent.push(create(AnswerResponseSchema, { uuid, stage }));
  }

  close(): void {
    this.sent.end();
    // Someone must await the aborted call, or its rejection goes unhandled.
    this.it.next().catch(() => {});
    this.abort.abort();
  }
}

const candidate = (n: number) => ({ candidate: `candidate:${n} 1 udp 2122260223 192.0.2.${n} 5000${n} typ host`, sdpMid: "0", sdpmLineIndex: 0 });

describe("CallQueue", () => {
  test("hands out offers oldest first, to answerers of their host, and finds them by host and uuid", async () => {
    const queue = new CallQueue();
    const a = queue.enqueue("c", "a", false, 60_000);
    const b = queue.enqueue("d", "b", false, 60_000);
    const c = queue.enqueue("c", "c", true, 60_000);
    const never = new AbortController().signal;
    assert.equal(await queue.receive(["x", "d", "c"], never), a);
    assert.equal(await queue.receive(["c"], never), c);
    assert.equal(c.disableTrickle, true);
    const waiting = queue.receive(["c"], never);
    assert.equal(queue.waiting, 1);
    const late = queue.enqueue("c", "late", false, 60_000);
    assert.equal(await waiting, late);
    assert.equal(queue.lookup("d", b.uuid), b);
    assert.equal(queue.lookup("c", b.uuid), undefined, "another host's uuid");
    queue.forget(b);
    assert.equal(queue.lookup("d", b.uuid), undefined);
    const gone = new AbortController();
    const aborted = queue.receive(["e"], gone.signal);
    gone.abort(new Error("answerer went away"));
    await assert.rejects(aborted, /answerer went away/);
    assert.equal(queue.waiting, 0);
    for (const o of [a, b, c, late]) o.cancel("test over");
  });

  test("a caller's updates after done or error are dropped", async () => {
    const offer = new CallQueue().enqueue("h", "sdp", false, 60_000);
    offer.fromCaller({ kind: "candidate", candidate: { candidate: "c1" } });
    offer.fromCaller({ kind: "done" });
    offer.fromCaller({ kind: "candidate", candidate: { candidate: "c2" } });
    offer.fromCaller({ kind: "error", code: 2, message: "late" });
    assert.equal(offer.callerFinished, true);
    assert.deepEqual(await drain(offer.toAnswerer), [{ kind: "candidate", candidate: { candidate: "c1" } }, { kind: "done" }]);
    offer.cancel("test over");
  });
});

describe("sprocket signaling, by hand", () => {
  let sig: SignalingProcess;
  let short: SignalingProcess;
  let signaling: Client<typeof SignalingService>;
  let token: string;
  const answerers: RawAnswerer[] = [];

  const headers = (hosts: string | undefined, extra: Record<string, string> = {}) => {
    const h = new Headers(extra);
    if (hosts !== undefined) h.set("rpc-host", hosts);
    h.set("authorization", `Bearer ${token}`);
    return h;
  };
  const answerer = (hosts: string, heartbeats = false) => {
    const a = new RawAnswerer(signaling, headers(hosts, heartbeats ? { "heartbeats-allowed": "true" } : {}));
    answerers.push(a);
    return a;
  };

  before(async () => {
    [sig, short] = await Promise.all([
      startSignalingProcess("127.0.0.1:0", ["--api-key", "k:s", "--heartbeat-interval", "50ms"]),
      startSignalingProcess("127.0.0.1:0", ["--api-key", "k:s", "--offer-deadline", "300ms"]),
    ]);
    const transport = createGrpcTransport({ baseUrl: sig.url });
    signaling = createClient(SignalingService, transport);
    token = (await createClient(AuthService, transport).authenticate({ entity: "k", credentials: { type: "api-key", payload: "s" } })).accessToken;
  });

  after(async () => {
    for (const a of answerers) a.close();
    await Promise.all([sig?.stop(), short?.stop()]);
  });

  test("a wrong key is refused, and nothing works without a token", async () => {
    const auth = createClient(AuthService, createGrpcTransport({ baseUrl: sig.url }));
    await assert.rejects(
      auth.authenticate({ entity: "k", credentials: { type: "api-key", payload: "nope" } }),
      isConnectError(Code.Unauthenticated, "invalid credentials"),
    );
    const noToken = new Headers({ "rpc-host": "robot" });
    await assert.rejects(drain(signaling.call({ sdp: "x" }, { headers: noToken })), isConnectError(Code.Unauthenticated, "authentication required"));
    await assert.rejects(drain(signaling.answer(new AsyncQueue<AnswerResponse>(), { headers: noToken })), isConnectError(Code.Unauthenticated, "authentication required"));
  });

  test("rpc-host: goutils' errors for missing, empty, too many, and more than one on Call", async () => {
    const none = () => new AsyncQueue<AnswerResponse>();
    await assert.rejects(drain(signaling.answer(none(), { headers: headers(undefined) })), isConnectError(Code.Unknown, "expected rpc-host to be set in metadata"));
    await assert.rejects(drain(signaling.answer(none(), { headers: headers("") })), isConnectError(Code.Unknown, "expected non-empty rpc-host"));
    await assert.rejects(drain(signaling.answer(none(), { headers: headers("a, b, c, d, e, f") })), isConnectError(Code.Unknown, "too many rpc-host"));
    await assert.rejects(drain(signaling.call({ sdp: "x" }, { headers: headers("a, b") })), isConnectError(Code.Unknown, "expected 1 rpc-host"));
    await assert.rejects(
      signaling.callUpdate({ uuid: "nope", update: { case: "done", value: true } }, { headers: headers("robot") }),
      isConnectError(Code.Unknown, 'no active offer for "nope"'),
    );
  });

  test("heartbeats reach an answerer that allows them, with no uuid", async () => {
    const a = answerer("heartbeat-robot", true);
    for (let i = 0; i < 3; i++) {
      const req = await a.nextRaw();
      assert.equal(req?.stage.case, "heartbeat");
      assert.equal(req.uuid, "");
    }
    a.close();
  });

  test("a call is relayed stage by stage: init, candidates both ways, done from each side", async () => {
    const a = answerer("robot-a, robot-b", true);
    const callHeaders = headers("robot-b");
    const call = signaling.call({ sdp: "offer-sdp" }, { headers: callHeaders })[Symbol.asyncIterator]();
    const firstCall = call.next();

    const init = await a.next();
    assert.ok(init && init.stage.case === "init");
    const { uuid } = init;
    assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(init.stage.value.sdp, "offer-sdp");
    assert.equal(init.stage.value.optionalConfig?.disableTrickle, false);
    assert.ok(init.stage.value.deadline && timestampMs(init.stage.value.deadline) > Date.now() - 1000);

    a.send(uuid, { case: "init", value: { sdp: "answer-sdp" } });
    a.send(uuid, { case: "update", value: { candidate: candidate(1) } });
    const got: CallResponse[] = [(await firstCall).value as CallResponse, (await call.next()).value as CallResponse];
    assert.deepEqual(
      got.map((r) => [r.uuid, r.stage.case]),
      [
        [uuid, "init"],
        [uuid, "update"],
      ],
    );
    assert.equal(got[0]!.stage.case === "init" && got[0]!.stage.value.sdp, "answer-sdp");
    assert.equal(got[1]!.stage.case === "update" && got[1]!.stage.value.candidate?.candidate, candidate(1).candidate);

    await signaling.callUpdate({ uuid, update: { case: "candidate", value: candidate(2) } }, { headers: callHeaders });
    const update = await a.next();
    assert.equal(update?.uuid, uuid);
    assert.equal(update?.stage.case === "update" && update.stage.value.candidate?.candidate, candidate(2).candidate);

    // The answerer's done ends the Call stream OK; the caller can still trickle until its own done.
    a.send(uuid, { case: "done", value: {} });
    assert.equal((await call.next()).done, true);
    await signaling.callUpdate({ uuid, update: { case: "candidate", value: candidate(3) } }, { headers: callHeaders });
    assert.equal((await a.next())?.stage.case, "update");
    await signaling.callUpdate({ uuid, update: { case: "done", value: true } }, { headers: callHeaders });
    const done = await a.next();
    assert.equal(done?.uuid, uuid);
    assert.equal(done?.stage.case, "done");
    a.sent.end();
    assert.equal(await a.next(), undefined, "the Answer stream ends after the call");
  });

  test("offers wait for an answerer of their host; others do not get them", async () => {
    const first = signaling.call({ sdp: "for-c-1" }, { headers: headers("robot-c") })[Symbol.asyncIterator]();
    const second = signaling.call({ sdp: "for-c-2" }, { headers: headers("robot-c") })[Symbol.asyncIterator]();
    const pending = [first.next(), second.next()];
    const other = answerer("robot-d");
    const a1 = answerer("robot-c");
    const init1 = await a1.next();
    const a2 = answerer("robot-x, robot-c");
    const init2 = await a2.next();
    const sdps = [init1, init2].map((r) => (r?.stage.case === "init" ? r.stage.value.sdp : ""));
    assert.deepEqual(sdps.sort(), ["for-c-1", "for-c-2"]);
    for (const [a, init] of [
      [a1, init1!],
      [a2, init2!],
    ] as const) {
      a.send(init.uuid, { case: "init", value: { sdp: "ok" } });
      a.send(init.uuid, { case: "done", value: {} });
    }
    for (const p of pending) assert.equal(((await p).value as CallResponse).stage.case, "init");
    assert.equal((await first.next()).done, true);
    assert.equal((await second.next()).done, true);
    other.close();
  });

  test("an answerer's error fails the Call: error from answerer", async () => {
    const a = answerer("robot-e");
    const call = drain(signaling.call({ sdp: "x" }, { headers: headers("robot-e") }));
    const init = await a.next();
    a.send(init!.uuid, { case: "error", value: { status: { code: Code.Internal, message: "cannot answer" } } });
    await assert.rejects(call, isConnectError(Code.Internal, "error from answerer: cannot answer"));
  });

  test("a caller's error reaches the answerer as an error stage", async () => {
    const a = answerer("robot-f");
    const callHeaders = headers("robot-f");
    const call = signaling.call({ sdp: "x" }, { headers: callHeaders })[Symbol.asyncIterator]();
    const firstCall = call.next();
    const init = await a.next();
    a.send(init!.uuid, { case: "init", value: { sdp: "y" } });
    await firstCall;
    await signaling.callUpdate({ uuid: init!.uuid, update: { case: "error", value: { code: Code.Unknown, message: "caller gave up" } } }, { headers: callHeaders });
    const err = await a.next();
    assert.equal(err?.stage.case, "error");
    assert.equal(err.stage.case === "error" && err.stage.value.status?.message, "caller gave up");
    // The offer is gone for CallUpdate.
    await assert.rejects(
      signaling.callUpdate({ uuid: init!.uuid, update: { case: "done", value: true } }, { headers: callHeaders }),
      isConnectError(Code.Unknown, `no active offer for "${init!.uuid}"`),
    );
  });

  test("an answerer answering with another uuid fails both streams", async () => {
    const a = answerer("robot-g");
    const call = drain(signaling.call({ sdp: "x" }, { headers: headers("robot-g") }));
    const init = await a.next();
    a.send("not-the-uuid", { case: "init", value: { sdp: "y" } });
    await assert.rejects(a.next(), isConnectError(Code.Unknown, `uuid mismatch; have="not-the-uuid" want="${init!.uuid}"`));
    await assert.rejects(call, isConnectError(Code.Unknown, /^error from answerer: uuid mismatch/));
  });

  test("a call for a host nobody answers ends at the offer deadline", async () => {
    const transport = createGrpcTransport({ baseUrl: short.url });
    const shortToken = (await createClient(AuthService, transport).authenticate({ entity: "k", credentials: { type: "api-key", payload: "s" } })).accessToken;
    const h = new Headers({ "rpc-host": "nobody.example", authorization: `Bearer ${shortToken}` });
    await assert.rejects(drain(createClient(SignalingService, transport).call({ sdp: "x" }, { headers: h })), isConnectError(Code.DeadlineExceeded, "context deadline exceeded"));
  });
});
