// The host as answerer to an external signaling server (spec §4.6, goutils `webrtcSignalingAnswerer`):
// over one gRPC connection it keeps two Answer streams open under the machine's names; each stream
// takes one call, answers it with the werift peer of peer.ts, trickles candidates, and hands the peer
// to the same data-channel transport as internal signaling. Then the loop opens the next stream.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import type { ClientHttp2Stream, ClientSessionRequestOptions, OutgoingHttpHeaders } from "node:http2";
import type { Logger } from "pino";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import {
  AnswerResponseSchema,
  SignalingService,
  type AnswerRequest,
  type AnswerRequestInitStage,
  type AnswerResponse,
} from "../../proto/gen/proto/rpc/webrtc/v1/signaling_pb.js";
import { goQuote, type MachineConfig } from "../config/schema.js";
import { AnsweringPeer, decodeSdp, encodeSdp, type IceServerConfig } from "./peer.js";
import {
  AsyncQueue,
  candidateFromProto,
  candidateToProto,
  DEFAULT_OFFER_DEADLINE_MS,
  RPC_HOST_METADATA,
} from "./signaling-service.js";

/** goutils `defaultMaxAnswerers`. */
export const DEFAULT_ANSWER_LOOPS = 2;
/** goutils `answererReconnectWait`. */
export const ANSWERER_RECONNECT_WAIT_MS = 1000;
/** goutils `answererConnectTimeout`: bounds Authenticate. */
export const ANSWERER_CONNECT_TIMEOUT_MS = 10_000;
/** The least time an answer gets, whatever deadline the signaler sent (clock skew). */
const MIN_ANSWER_TIME_MS = 5000;
const HEARTBEATS_ALLOWED_METADATA = "heartbeats-allowed";

export interface AnswererCredentials {
  type: string;
  entity: string;
  payload: string;
}

export interface ExternalAnswererOptions {
  /** The signaling server's base URL (`http://` is h2c, `https://` TLS). */
  url: string;
  /** The `rpc-host` names answered for, 1 to 5. */
  hosts: readonly string[];
  /** For `AuthService.Authenticate` at the signaling server; none sends no token. */
  credentials?: AnswererCredentials;
  /**
   * Each new answering peer, before its answer is sent: attach the data-channel transport here.
   * `entity` is what the channel's calls are authenticated as (spec §3.13: the hosts joined by `:`).
   */
  onPeer: (peer: AnsweringPeer, info: { uuid: string; entity: string }) => void;
  logger: Logger;
  /** Concurrent Answer streams; default 2. */
  loops?: number;
  /** Wait after a failed stream before the next; default 1 s. */
  reconnectWaitMs?: number;
  /** ICE servers besides those the signaler sends with each call; none by default (LAN). */
  iceServers?: readonly IceServerConfig[];
  /** HTTP/2 PING interval while a stream is idle, to notice a dead connection; default 20 s. */
  pingIntervalMs?: number;
}

/** Counters for status and tests. */
export interface AnswererStats {
  /** Answer streams opened. */
  streams: number;
  /** Heartbeats received (and ignored). */
  heartbeats: number;
  /** Calls (init stages) taken. */
  calls: number;
  /** Calls whose data channel opened. */
  connected: number;
  /** Calls that ended in an error sent to the signaler. */
  failed: number;
  /** Answer streams currently waiting for a call. */
  waiting: number;
  /** The last stream or authentication error, if any. */
  lastError?: string;
}

/**
 * Node's fetch `Headers` join repeated values with ", ", and connect-node writes them as one field; a
 * goutils signaler reads each `rpc-host` field as one host. Splitting the joined value again here
 * makes Node's http2 send one header field per host, as grpc-go's metadata does.
 */
class RepeatedHostSessionManager extends Http2SessionManager {
  override request(method: string, path: string, headers: OutgoingHttpHeaders, options: Omit<ClientSessionRequestOptions, "signal">): Promise<ClientHttp2Stream> {
    const value = headers[RPC_HOST_METADATA];
    if (typeof value === "string" && value.includes(",")) {
      headers = { ...headers, [RPC_HOST_METADATA]: value.split(",").map((h) => h.trim()) };
    }
    return super.request(method, path, headers, options);
  }
}

/** Answers calls from an external signaling server until closed. */
export class ExternalAnswerer {
  readonly stats: AnswererStats = { streams: 0, heartbeats: 0, calls: 0, connected: 0, failed: 0, waiting: 0 };
  readonly hosts: readonly string[];
  private readonly opts: ExternalAnswererOptions;
  private readonly logger: Logger;
  private readonly closed = new AbortController();
  private readonly sessions: RepeatedHostSessionManager;
  private readonly signaling: Client<typeof SignalingService>;
  private readonly auth: Client<typeof AuthService>;
  private token: Promise<string | undefined> | undefined;
  private readonly loops: Promise<void>[] = [];
  private readonly peers = new Set<AnsweringPeer>();

  constructor(opts: ExternalAnswererOptions) {
    if (opts.hosts.length < 1 || opts.hosts.length > 5) throw new Error(`an answerer serves 1 to 5 hosts, got ${opts.hosts.length}`);
    this.opts = opts;
    this.hosts = [...opts.hosts];
    this.logger = opts.logger;
    // One connection for every loop (and Authenticate); connect-node reconnects it on the next call.
    this.sessions = new RepeatedHostSessionManager(opts.url, { pingIntervalMs: opts.pingIntervalMs ?? 20_000, pingTimeoutMs: 10_000 });
    const transport = createGrpcTransport({ baseUrl: opts.url, sessionManager: this.sessions });
    this.signaling = createClient(SignalingService, transport);
    this.auth = createClient(AuthService, transport);
  }

  /** Live peer connections this answerer made. */
  get peerCount(): number {
    return this.peers.size;
  }

  /** Starts the answer loops (once). */
  start(): void {
    if (this.loops.length > 0 || this.closed.signal.aborted) return;
    const n = this.opts.loops ?? DEFAULT_ANSWER_LOOPS;
    for (let i = 0; i < n; i++) this.loops.push(this.loop(this.logger.child({ answerer: i })));
    this.logger.info({ url: this.opts.url, hosts: this.hosts }, "answering calls from the signaling server");
  }

  /** Stops answering, closes the connection and every peer this answerer made. */
  async close(): Promise<void> {
    if (!this.closed.signal.aborted) this.closed.abort(new ConnectError("answerer closed", Code.Canceled));
    this.sessions.abort(new ConnectError("answerer closed", Code.Canceled));
    await Promise.all(this.loops);
    await Promise.all([...this.peers].map((p) => p.close("host closing")));
  }

  private async loop(logger: Logger): Promise<void> {
    const { signal } = this.closed;
    while (!signal.aborted) {
      let wait: boolean;
      try {
        // A stream that ended without a call (the server went away cleanly) waits too: no busy loop.
        wait = !(await this.answerOnce(logger));
      } catch (err) {
        if (signal.aborted) return;
        const ce = ConnectError.from(err);
        this.stats.lastError = ce.message;
        // A new signaling server (or a restarted one) does not know the old token.
        this.token = undefined;
        if (isExceptional(ce)) logger.warn({ err: ce.message }, "error communicating with signaling server");
        wait = true;
      }
      if (wait) await sleep(this.opts.reconnectWaitMs ?? ANSWERER_RECONNECT_WAIT_MS, signal);
    }
  }

  private accessToken(): Promise<string | undefined> {
    const creds = this.opts.credentials;
    if (!creds) return Promise.resolve(undefined);
    if (!this.token) {
      const pending = this.authenticate(creds);
      this.token = pending;
      pending.catch(() => {
        if (this.token === pending) this.token = undefined;
      });
    }
    return this.token;
  }

  private async authenticate(creds: AnswererCredentials): Promise<string | undefined> {
    try {
      const res = await this.auth.authenticate(
        { entity: creds.entity, credentials: { type: creds.type, payload: creds.payload } },
        { signal: AbortSignal.any([this.closed.signal, AbortSignal.timeout(ANSWERER_CONNECT_TIMEOUT_MS)]) },
      );
      return res.accessToken;
    } catch (err) {
      const ce = ConnectError.from(err);
      if (ce.code === Code.Unimplemented) {
        // A signaling server without auth (no AuthService): answer unauthenticated.
        this.logger.warn("the signaling server has no AuthService; answering without credentials");
        return undefined;
      }
      throw new ConnectError(`authenticating to the signaling server: ${ce.rawMessage}`, ce.code);
    }
  }

  /** One Answer stream: waits for a call and answers it. False when the stream ended without one. */
  private async answerOnce(logger: Logger): Promise<boolean> {
    const token = await this.accessToken();
    const headers = new Headers();
    headers.set(RPC_HOST_METADATA, this.hosts.join(", "));
    headers.set(HEARTBEATS_ALLOWED_METADATA, "true");
    if (token !== undefined) headers.set("authorization", `Bearer ${token}`);
    const requests = new AsyncQueue<AnswerResponse>();
    const streamAbort = new AbortController();
    const signal = AbortSignal.any([this.closed.signal, streamAbort.signal]);
    const responses = this.signaling.answer(requests, { headers, signal })[Symbol.asyncIterator]();
    this.stats.streams++;
    let attempt: AnswerAttempt | undefined;
    try {
      let first: AnswerRequest | undefined;
      this.stats.waiting++;
      try {
        // The signaler's heartbeats only tell it this answerer is alive: nothing to reply.
        for (;;) {
          const r = await responses.next();
          if (r.done) return false;
          if (r.value.stage.case !== "heartbeat") {
            first = r.value;
            break;
          }
          this.stats.heartbeats++;
        }
      } finally {
        this.stats.waiting--;
      }
      attempt = new AnswerAttempt(this, requests, responses, logger);
      await attempt.run(first);
      // The exchange is over: half-close, and let the signaler end the stream (bounded).
      requests.end();
      const drain = setTimeout(() => streamAbort.abort(new ConnectError("answer stream did not end", Code.Canceled)), 2000);
      try {
        for (;;) {
          const r = await responses.next();
          if (r.done) break;
          if (r.value.stage.case === "heartbeat") this.stats.heartbeats++;
        }
      } catch (err) {
        if (!streamAbort.signal.aborted) throw err;
      } finally {
        clearTimeout(drain);
      }
      if (attempt.streamError !== undefined) throw attempt.streamError;
      return true;
    } finally {
      requests.end();
      if (!streamAbort.signal.aborted) streamAbort.abort(new ConnectError("answer stream finished", Code.Canceled));
    }
  }

  /** @internal for AnswerAttempt */
  addPeer(peer: AnsweringPeer, uuid: string): void {
    this.peers.add(peer);
    peer.onClose(() => this.peers.delete(peer));
    this.opts.onPeer(peer, { uuid, entity: this.hosts.join(":") });
  }

  /** @internal */
  iceServers(init: AnswerRequestInitStage): IceServerConfig[] {
    const extra = (init.optionalConfig?.additionalIceServers ?? []).map((s) => {
      const server: IceServerConfig = { urls: [...s.urls] };
      if (s.username !== "") server.username = s.username;
      if (s.credential !== "") server.credential = s.credential;
      return server;
    });
    return [...(this.opts.iceServers ?? []), ...extra];
  }
}

/** One call on one Answer stream (goutils `answerAttempt`). */
class AnswerAttempt {
  /** A failure of the stream itself (not of the call), rethrown once the call settled. */
  streamError: unknown;
  private uuid = "";
  private sentDoneOrError = false;

  constructor(
    private readonly answerer: ExternalAnswerer,
    private readonly requests: AsyncQueue<AnswerResponse>,
    private readonly responses: AsyncIterator<AnswerRequest>,
    private readonly logger: Logger,
  ) {}

  async run(first: AnswerRequest): Promise<void> {
    const { stats } = this.answerer;
    this.uuid = first.uuid;
    if (first.stage.case !== "init") {
      const err = `expected first stage to be init or heartbeat; got ${first.stage.case ?? "nothing"}`;
      this.logger.warn(err);
      this.sendError(Code.Unknown, err);
      return;
    }
    stats.calls++;
    const init = first.stage.value;
    const logger = this.logger.child({ call: this.uuid });
    const now = Date.now();
    const deadline = init.deadline ? Math.max(timestampMs(init.deadline), now + MIN_ANSWER_TIME_MS) : now + DEFAULT_OFFER_DEADLINE_MS;
    const trickle = !(init.optionalConfig?.disableTrickle ?? false);

    let peer: AnsweringPeer;
    try {
      peer = await AnsweringPeer.answer(decodeSdp(init.sdp), { logger, iceServers: this.answerer.iceServers(init) });
    } catch (err) {
      stats.failed++;
      logger.warn({ err: (err as Error).message }, "error connecting to peer");
      this.sendError(Code.Unknown, (err as Error).message);
      return;
    }
    this.answerer.addPeer(peer, this.uuid);
    let opened = false;
    const settled = new Promise<void>((resolve) => {
      peer.onOpen(() => {
        opened = true;
        stats.connected++;
        this.sendDone();
        resolve();
      });
      peer.onClose((reason) => {
        if (!opened) {
          stats.failed++;
          this.sendError(Code.Unknown, `peer connection closed before connecting: ${reason}`);
        }
        resolve();
      });
    });
    const timer = setTimeout(() => {
      if (!peer.isOpen) {
        logger.warn("error connecting to peer: deadline exceeded");
        this.sendError(Code.DeadlineExceeded, "context deadline exceeded");
        void peer.close("offer deadline exceeded");
      }
    }, deadline - now);

    try {
      if (trickle) {
        // werift gathered during setLocalDescription: the answer carries those candidates already, and
        // each is trickled too; gathering complete (after every update) is "done" unless open came first.
        this.send({ case: "init", value: { sdp: encodeSdp(peer.answer) } });
        peer.trickle((c) => {
          if (c === null) this.sendDone();
          else if (!this.sentDoneOrError) this.send({ case: "update", value: { candidate: candidateToProto(c) } });
        });
      } else {
        await new Promise<void>((resolve) => {
          peer.trickle((c) => c === null && resolve());
          peer.onClose(() => resolve());
        });
        if (peer.isClosed) return;
        const local = peer.pc.localDescription;
        this.send({ case: "init", value: { sdp: encodeSdp({ type: "answer", sdp: local?.sdp ?? peer.answer.sdp }) } });
      }
      await this.readCallerUpdates(peer, logger);
      await settled;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The caller's candidates until the signaler says the caller is done (or failed, or the stream ends). */
  private async readCallerUpdates(peer: AnsweringPeer, logger: Logger): Promise<void> {
    for (;;) {
      let r: IteratorResult<AnswerRequest>;
      try {
        r = await this.responses.next();
      } catch (err) {
        // The connection may still come up with the candidates exchanged so far.
        this.streamError = err;
        return;
      }
      if (r.done) return;
      const msg = r.value;
      const { stage } = msg;
      switch (stage.case) {
        case "heartbeat":
          this.answerer.stats.heartbeats++;
          break;
        case "init":
          break;
        case "update":
          if (msg.uuid !== this.uuid) {
            this.sendError(Code.Unknown, `uuid mismatch; have=${goQuote(msg.uuid)} want=${goQuote(this.uuid)}`);
            return;
          }
          if (!stage.value.candidate) break;
          try {
            await peer.addIceCandidate(candidateFromProto(stage.value.candidate));
          } catch (err) {
            // One unusable candidate need not fail the call: others may connect.
            logger.debug({ err: (err as Error).message }, "ignoring caller candidate");
          }
          break;
        case "done":
          return;
        case "error": {
          const message = `error from requester: ${stage.value.status?.message ?? "unknown error"}`;
          logger.debug(message);
          this.sendError(Code.Unknown, message);
          if (!peer.isOpen) void peer.close("caller error");
          return;
        }
        default:
          this.sendError(Code.Unknown, "unexpected stage");
          return;
      }
    }
  }

  private send(stage: MessageInitShape<typeof AnswerResponseSchema>["stage"]): void {
    this.requests.push(create(AnswerResponseSchema, { uuid: this.uuid, stage }));
  }

  /** Done and error share one "send once" guard (goutils `sendDoneErrOnce`). */
  private sendDone(): void {
    if (this.sentDoneOrError) return;
    this.sentDoneOrError = true;
    this.send({ case: "done", value: {} });
  }

  private sendError(code: Code, message: string): void {
    if (this.sentDoneOrError) return;
    this.sentDoneOrError = true;
    this.send({ case: "error", value: { status: { code, message } } });
  }
}

/** goutils `checkExceptionalError`: ends of streams that are routine, not worth a warning. */
function isExceptional(err: ConnectError): boolean {
  if (err.code === Code.DeadlineExceeded || err.code === Code.Canceled) return false;
  const m = err.rawMessage;
  return !(m.includes("too_many_pings") || m.includes("upstream max stream duration reached") || m.includes("server closed the stream without sending trailers"));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * The answerer's settings from a machine config: the signaling server of `cloud.signaling_address`,
 * the names `cloud.fqdn` (or `network.fqdn`) and `cloud.local_fqdn`, and the cloud credentials (an
 * api key when set, else the part's robot secret, as rdk's `GetCloudCredsDialOpt`). Undefined when
 * the config names no signaling server.
 */
export function externalAnswererSettings(config: MachineConfig): Pick<ExternalAnswererOptions, "url" | "hosts" | "credentials"> | undefined {
  const cloud = config.cloud;
  if (!cloud?.signalingUrl) return undefined;
  const hosts = [...new Set([cloud.fqdn || config.network.fqdn, cloud.localFqdn].filter((h) => h !== ""))].slice(0, 5);
  let credentials: AnswererCredentials | undefined;
  if (cloud.apiKey) credentials = { type: "api-key", entity: cloud.apiKey.id, payload: cloud.apiKey.key };
  else if (cloud.secret !== "") credentials = { type: "robot-secret", entity: cloud.id, payload: cloud.secret };
  return { url: cloud.signalingUrl, hosts, credentials };
}
