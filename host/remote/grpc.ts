// Another Sprocket host, or a viam-server, as a remote: gRPC over HTTP/2 with connect-node, h2c for
// `http://host:port` (and a bare `host:port` with `insecure: true`), TLS for `https://` and a bare
// `host:port` otherwise. As rdk's remote client: AuthService/Authenticate with the remote's `auth`
// for a Bearer token (again, once, when a call answers UNAUTHENTICATED), then ResourceNames and
// ResourceRPCSubtypes (UNIMPLEMENTED tolerated); ResourceNames is also the connection check.
//
// Also as rdk's remote client, the connection holds a session with the remote (remote-session.ts):
// every call through it carries the session's `viam-sid`, so the remote puts what those calls drive
// under the session and stops it when the session lapses: when this host dies or is cut off, the
// remote's actuators it drove stop on their own. A remote without sessions (UNIMPLEMENTED) is used
// without.
//
// One HTTP/2 connection (connect-node's Http2SessionManager, which pings it) carries both the typed
// calls (createGrpcTransport) and forwarded calls, which stay bytes: the gRPC framing (5-byte
// envelopes, grpc-status trailers) is done here over connect-node's HTTP/2 client.
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code as ConnectCode, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, createNodeHttpClient, Http2SessionManager } from "@connectrpc/connect-node";
import type { UniversalClientFn } from "@connectrpc/connect/protocol";
import { codeFromHttpStatus } from "@connectrpc/connect/protocol-grpc";
import type { Logger } from "pino";
import { ChannelError, Code, type Metadata, type Status } from "../../proto/channel/index.js";
import { AsyncQueue } from "../../proto/channel/queue.js";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import { RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import type { RemoteConfig } from "../config/schema.js";
import type { ResourceName } from "../resource/name.js";
import { SESSION_ID_METADATA_KEY } from "../session/context.js";
import { envelope, EnvelopeReader, metadataFromHeaders, statusFromHeaders } from "../server/grpc-wire.js";
import {
  codeName,
  Listeners,
  type RemoteCall,
  type RemoteCallOptions,
  type RemoteConnection,
  type RemoteConnectionEvents,
  type RemoteRpcSubtype,
} from "./connection.js";
import { isSessionExpired, RemoteSession } from "./remote-session.js";
import { failedCall, resourceNamesFrom, rpcSubtypesFrom } from "./typed.js";

export interface GrpcConnectionOptions {
  /** `http://host:port` or `https://host:port`. */
  baseUrl: string;
  auth: RemoteConfig["auth"];
  callTimeoutMs: number;
  logger: Logger;
  /** HTTP/2 keepalive ping period; default 10 s (it also finds dead connections between checks). */
  pingIntervalMs?: number;
}

/** The base URL for a remote address: `http(s)://…` as written, a bare `host:port` by `insecure`. */
export function grpcBaseUrl(address: string, insecure: boolean): string {
  if (/^https?:\/\//i.test(address)) return address.replace(/\/+$/, "");
  return `${insecure ? "http" : "https"}://${address}`;
}

export class GrpcConnection implements RemoteConnection {
  readonly kind = "grpc";
  readonly #opts: GrpcConnectionOptions;
  readonly #events = new Listeners<RemoteConnectionEvents>();
  #session: Http2SessionManager | undefined;
  #http: UniversalClientFn | undefined;
  #transport: Transport | undefined;
  #token: string | undefined;
  #authenticating: Promise<void> | undefined;
  #remoteSession: RemoteSession | undefined;
  #connected = false;
  #closed = false;

  constructor(opts: GrpcConnectionOptions) {
    this.#opts = opts;
  }

  get connected(): boolean {
    return this.#connected;
  }

  on<E extends keyof RemoteConnectionEvents>(event: E, listener: RemoteConnectionEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#session) throw new Error("connect() was already called");
    const { baseUrl } = this.#opts;
    const session = new Http2SessionManager(baseUrl, { pingIntervalMs: this.#opts.pingIntervalMs ?? 10_000, pingTimeoutMs: this.#opts.callTimeoutMs });
    this.#session = session;
    this.#http = createNodeHttpClient({ httpVersion: "2", sessionProvider: () => session });
    const bearer: Interceptor = (next) => (req) => {
      if (this.#token !== undefined) req.header.set("authorization", `Bearer ${this.#token}`);
      return next(req);
    };
    this.#transport = createGrpcTransport({ baseUrl, sessionManager: session, interceptors: [bearer] });
    try {
      if (this.#opts.auth.credentials) await this.#step("authenticate", () => this.#authenticate(signal));
      await this.#step("list resources", () => this.resourceNames(signal));
      await this.#step("start a session", () => this.#startSession(signal));
      if (this.#closed) throw new Error("closed");
      this.#connected = true;
    } catch (err) {
      this.#remoteSession?.stop();
      session.abort();
      this.#closed = true;
      throw err;
    }
  }

  async #step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const ce = ConnectError.from(err);
      if (ce.code === ConnectCode.DeadlineExceeded) throw new Error(`${what}: no answer within ${this.#opts.callTimeoutMs} ms`);
      throw new Error(`${what}: ${codeName(ce.code)}: ${ce.rawMessage}`);
    }
  }

  /** Authenticate for a Bearer token; concurrent callers share one attempt. */
  #authenticate(signal?: AbortSignal): Promise<void> {
    this.#authenticating ??= (async () => {
      try {
        const { entity, credentials } = this.#opts.auth;
        this.#token = undefined;
        const auth = createClient(AuthService, this.#transport!);
        const res = await auth.authenticate(
          { entity: entity ?? "", credentials: { type: credentials?.type ?? "", payload: credentials?.payload ?? "" } },
          { signal, timeoutMs: this.#opts.callTimeoutMs },
        );
        this.#token = res.accessToken;
      } finally {
        this.#authenticating = undefined;
      }
    })();
    return this.#authenticating;
  }

  /** A typed call, authenticated again once if the token is refused. */
  async #typed<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!this.#opts.auth.credentials || ConnectError.from(err).code !== ConnectCode.Unauthenticated) throw err;
      await this.#authenticate();
      return fn();
    }
  }

  /** Starts the session with the remote and its heartbeats; a remote without sessions is left without. */
  async #startSession(signal: AbortSignal): Promise<void> {
    const robot = createClient(RobotService, this.#transport!);
    const { callTimeoutMs, logger } = this.#opts;
    const remoteSession = new RemoteSession({
      start: async (resume, startSignal) => {
        const res = await this.#typed(() => robot.startSession({ resume }, { signal: startSignal, timeoutMs: callTimeoutMs }));
        return { id: res.id, heartbeatWindowMs: res.heartbeatWindow ? durationMs(res.heartbeatWindow) : 0 };
      },
      heartbeat: async (id) => {
        await this.#typed(() => robot.sendSessionHeartbeat({ id }, { timeoutMs: callTimeoutMs }));
      },
      statusOf: (err) => statusOf(err).status,
      logger: logger.child({ remote_url: this.#opts.baseUrl }),
    });
    this.#remoteSession = remoteSession;
    await remoteSession.start(signal);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#connected = false;
    this.#remoteSession?.stop();
    this.#session?.abort();
    await Promise.resolve();
  }

  async resourceNames(signal?: AbortSignal): Promise<ResourceName[]> {
    const robot = createClient(RobotService, this.#transport!);
    const res = await this.#typed(() => robot.resourceNames({}, { signal, timeoutMs: this.#opts.callTimeoutMs }));
    return resourceNamesFrom(res);
  }

  async resourceRpcSubtypes(signal?: AbortSignal): Promise<RemoteRpcSubtype[]> {
    const robot = createClient(RobotService, this.#transport!);
    try {
      const res = await this.#typed(() => robot.resourceRPCSubtypes({}, { signal, timeoutMs: this.#opts.callTimeoutMs }));
      return rpcSubtypesFrom(res);
    } catch (err) {
      if (ConnectError.from(err).code === ConnectCode.Unimplemented) return [];
      throw err;
    }
  }

  call(method: string, request: Uint8Array | AsyncIterable<Uint8Array>, options: RemoteCallOptions = {}): RemoteCall {
    if (!this.#connected || !this.#http) return failedCall(Code.UNAVAILABLE, "not connected to the remote");
    const queue = new AsyncQueue<Uint8Array>();
    let resolveHeaders!: (md: Metadata) => void;
    let rejectHeaders!: (err: unknown) => void;
    const headers = new Promise<Metadata>((resolve, reject) => {
      resolveHeaders = resolve;
      rejectHeaders = reject;
    });
    headers.catch(() => undefined);
    let sessionId: string | undefined;
    const exchange = () => {
      sessionId = this.#sessionIdFor(method);
      return this.#exchange(method, request, options, sessionId, (md) => resolveHeaders(md), (m) => queue.push(m));
    };
    const trailers = (async (): Promise<{ status: Status; metadata: Metadata }> => {
      let result = await exchange();
      // A refused token on a single request: authenticate again and repeat it once, as rdk's client does.
      if (result.status.code === Code.UNAUTHENTICATED && request instanceof Uint8Array && this.#opts.auth.credentials && !result.sentMessages) {
        try {
          await this.#authenticate(options.signal);
          result = await exchange();
        } catch (err) {
          result = { ...statusOf(err), sentMessages: false };
        }
      }
      // Our session lapsed on the remote (we could not reach it for a window): a new one, and the
      // request once more, as rdk's client does. A request stream is gone by now and cannot be repeated.
      if (isSessionExpired(result.status) && request instanceof Uint8Array && !result.sentMessages && sessionId !== undefined) {
        try {
          await this.#remoteSession?.renew(sessionId);
          result = await exchange();
        } catch {
          // No new session: the caller gets the SESSION_EXPIRED it had.
        }
      }
      const { status, metadata } = result;
      if (status.code === Code.OK) {
        resolveHeaders({});
        queue.end();
      } else {
        const err = ChannelError.fromStatus(status, metadata);
        rejectHeaders(err);
        queue.fail(err);
      }
      return { status, metadata };
    })();
    return { headers, responses: queue, trailers };
  }

  /** The `viam-sid` a call of `method` carries, if any. */
  #sessionIdFor(method: string): string | undefined {
    return this.#remoteSession?.idFor(method);
  }

  /**
   * One HTTP/2 exchange, under session `sessionId` when given; `sentMessages` tells whether any
   * response message was passed on.
   */
  async #exchange(
    method: string,
    request: Uint8Array | AsyncIterable<Uint8Array>,
    options: RemoteCallOptions,
    sessionId: string | undefined,
    onHeaders: (md: Metadata) => void,
    onMessage: (m: Uint8Array) => void,
  ): Promise<{ status: Status; metadata: Metadata; sentMessages: boolean }> {
    const abort = new AbortController();
    const onAbort = () => abort.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    let deadline: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
      deadline = setTimeout(() => {
        timedOut = true;
        abort.abort(new Error("deadline exceeded"));
      }, options.timeoutMs);
    }
    const header = new Headers({ "content-type": "application/grpc+proto", te: "trailers", "user-agent": "sprocket-remote" });
    if (this.#token !== undefined) header.set("authorization", `Bearer ${this.#token}`);
    if (options.timeoutMs !== undefined && options.timeoutMs > 0) header.set("grpc-timeout", `${Math.ceil(options.timeoutMs)}m`);
    for (const [k, values] of Object.entries(options.metadata ?? {})) for (const v of values) header.append(k, v);
    // Ours, never a caller's: the remote knows this host's session, not the sessions of its clients.
    if (sessionId !== undefined) header.set(SESSION_ID_METADATA_KEY, sessionId);
    let sentMessages = false;
    try {
      const res = await this.#http!({ url: `${this.#opts.baseUrl}${method}`, method: "POST", header, body: envelopes(request), signal: abort.signal });
      if (res.status !== 200) {
        // Drain what there is; the HTTP status is the error.
        for await (const _ of res.body) void _;
        return { status: { code: codeFromHttpStatus(res.status), message: `HTTP ${res.status}` }, metadata: {}, sentMessages };
      }
      const trailersOnly = res.header.get("grpc-status");
      if (trailersOnly === null) onHeaders(metadataFromHeaders(res.header));
      const parser = new EnvelopeReader();
      for await (const chunk of res.body) {
        for (const env of parser.push(chunk)) {
          if ((env.flags & 1) !== 0) return { status: { code: Code.INTERNAL, message: "compressed response message (no compression was offered)" }, metadata: {}, sentMessages };
          sentMessages = true;
          onMessage(env.data);
        }
      }
      if (parser.pending) return { status: { code: Code.INTERNAL, message: "truncated response message" }, metadata: {}, sentMessages };
      const source = trailersOnly !== null ? res.header : res.trailer;
      return { status: statusFromHeaders(source, "the remote sent no grpc-status"), metadata: metadataFromHeaders(source), sentMessages };
    } catch (err) {
      if (timedOut) return { status: { code: Code.DEADLINE_EXCEEDED, message: "context deadline exceeded" }, metadata: {}, sentMessages };
      if (options.signal?.aborted) return { status: { code: Code.CANCELLED, message: "request cancelled" }, metadata: {}, sentMessages };
      return { ...statusOf(err), sentMessages };
    } finally {
      clearTimeout(deadline);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }
}

function statusOf(err: unknown): { status: Status; metadata: Metadata } {
  const ce = ConnectError.from(err);
  return { status: { code: ce.code, message: ce.rawMessage }, metadata: {} };
}

async function* envelopes(request: Uint8Array | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (request instanceof Uint8Array) {
    yield envelope(request);
    return;
  }
  for await (const m of request) yield envelope(m);
}

