// A standalone WebRTC signaling server for other machines, as app.viam.com is (goutils
// `WebRTCSignalingServer` over an in-memory call queue, spec §4.5–4.6): callers' offers (Call) wait
// for an answerer of their `rpc-host` (Answer), and the two exchange candidates through it
// (CallUpdate / the Answer stream). Served with the host's RPC server code and api-key auth.
import { randomUUID } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import {
  AnswerRequestSchema,
  CallResponseSchema,
  CallUpdateResponseSchema,
  OptionalWebRTCConfigResponseSchema,
  SignalingService,
  type AnswerRequest,
  type AnswerResponse,
  type CallRequest,
  type CallResponse,
  type ICEServerSchema,
} from "../../proto/gen/proto/rpc/webrtc/v1/signaling_pb.js";
import { ApiKeyStore } from "../auth/api-keys.js";
import { authInterceptor } from "../auth/interceptor.js";
import { AuthService, authService } from "../auth/service.js";
import { TokenAuthority } from "../auth/tokens.js";
import { goQuote } from "../config/schema.js";
import { startRpcServer, type HttpRoute, type RpcServer, type ServiceRegistration } from "../server/server.js";
import {
  AsyncQueue,
  candidateFromProto,
  candidateToProto,
  DEFAULT_OFFER_DEADLINE_MS,
  hostFromHeaders,
  hostsFromHeaders,
} from "../webrtc/signaling-service.js";
import { CallQueue, type AnswererEvent, type Offer } from "./call-queue.js";

/** goutils `HeartbeatsAllowedMetadataField`: the answerer asks for heartbeats with the value `true`. */
export const HEARTBEATS_ALLOWED_METADATA = "heartbeats-allowed";
/** goutils `defaultHeartbeatInterval`. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 15_000;

export interface SignalingServerOptions {
  logger: Logger;
  /** Heartbeats to answerers that allow them; default 15 s. */
  heartbeatIntervalMs?: number;
  /** Time from Call until the exchange must be over; default 10 s (goutils `getDefaultOfferDeadline`). */
  offerDeadlineMs?: number;
  /** Accepted `rpc-host` values; empty (the default) accepts any, as app.viam.com serves every machine. */
  allowedHosts?: readonly string[];
  /** ICE servers offered to callers (OptionalWebRTCConfig) and answerers (`init.optional_config`). */
  iceServers?: readonly MessageInitShape<typeof ICEServerSchema>[];
}

/** The SignalingService of a standalone signaling server, and its call queue. */
export class ExternalSignaling {
  readonly queue = new CallQueue();
  private readonly opts: SignalingServerOptions;
  private readonly logger: Logger;
  private readonly answerStreams = new Set<AsyncQueue<AnswerRequest>>();
  private closed = false;

  constructor(opts: SignalingServerOptions) {
    this.opts = opts;
    this.logger = opts.logger;
  }

  get impl(): ServiceImpl<typeof SignalingService> {
    return {
      call: (req, ctx) => this.call(req, ctx),
      callUpdate: (req, ctx) => {
        const host = hostFromHeaders(ctx.requestHeader);
        this.checkHosts([host]);
        const offer = this.queue.lookup(host, req.uuid);
        if (!offer) throw new ConnectError(`no active offer for ${goQuote(req.uuid)}`, Code.Unknown);
        const { update } = req;
        switch (update.case) {
          case "candidate":
            if (update.value) offer.fromCaller({ kind: "candidate", candidate: candidateFromProto(update.value) });
            break;
          case "done":
            offer.fromCaller({ kind: "done" });
            break;
          case "error":
            // goutils `SendOfferError`: ignored once the caller is done; otherwise the offer is gone.
            if (!offer.callerFinished) {
              offer.fromCaller({ kind: "error", code: update.value.code, message: update.value.message });
              this.queue.forget(offer);
            }
            break;
          default:
            throw new ConnectError("unknown update stage", Code.Unknown);
        }
        return create(CallUpdateResponseSchema);
      },
      answer: (requests, ctx) => this.answer(requests, ctx),
      optionalWebRTCConfig: (_req, ctx) => {
        this.checkHosts([hostFromHeaders(ctx.requestHeader)]);
        return create(OptionalWebRTCConfigResponseSchema, { config: { additionalIceServers: [...(this.opts.iceServers ?? [])] } });
      },
    };
  }

  /** Refuses new calls and answerers, and ends every open Answer stream. */
  close(): void {
    this.closed = true;
    for (const out of this.answerStreams) out.fail(new ConnectError("signaling server shutting down", Code.Unavailable));
    this.answerStreams.clear();
  }

  private get offerDeadlineMs(): number {
    return this.opts.offerDeadlineMs ?? DEFAULT_OFFER_DEADLINE_MS;
  }

  /** goutils `validateHosts`. */
  private checkHosts(hosts: readonly string[]): void {
    const allowed = this.opts.allowedHosts ?? [];
    if (allowed.length > 0 && hosts.some((h) => !allowed.includes(h))) {
      throw new ConnectError("host not preconfigured", Code.InvalidArgument);
    }
  }

  private async *call(req: CallRequest, ctx: HandlerContext): AsyncGenerator<CallResponse> {
    const host = hostFromHeaders(ctx.requestHeader);
    this.checkHosts([host]);
    if (this.closed) throw new ConnectError("signaling server shutting down", Code.Unavailable);
    const offer = this.queue.enqueue(host, req.sdp, req.disableTrickle, this.offerDeadlineMs);
    const { uuid } = offer;
    this.logger.debug({ host, uuid }, "call queued");
    // The deadline passed or the caller went away before the answerer finished: the answerer hears
    // of it as a caller error (goutils `asyncSendOfferError`), the caller gets DEADLINE_EXCEEDED.
    const stop = AbortSignal.any([ctx.signal, offer.signal]);
    const onStop = () => {
      const timedOut = !ctx.signal.aborted;
      const err = timedOut
        ? new ConnectError("context deadline exceeded", Code.DeadlineExceeded)
        : new ConnectError("context canceled", Code.Canceled);
      if (!offer.callerFinished) {
        offer.fromCaller({ kind: "error", code: err.code, message: err.rawMessage });
        this.queue.forget(offer);
      }
      offer.toCaller.fail(err);
    };
    if (stop.aborted) onStop();
    else stop.addEventListener("abort", onStop, { once: true });
    try {
      let haveInit = false;
      for await (const event of offer.toCaller) {
        switch (event.kind) {
          case "init":
            haveInit = true;
            yield create(CallResponseSchema, { uuid, stage: { case: "init", value: { sdp: event.sdp } } });
            break;
          case "candidate":
            yield create(CallResponseSchema, { uuid, stage: { case: "update", value: { candidate: candidateToProto(event.candidate) } } });
            break;
          case "error":
            throw new ConnectError(`error from answerer: ${event.message}`, validCode(event.code));
          case "done":
            if (!haveInit) throw new ConnectError("error from answerer: expected to have initial SDP if no error", Code.Unknown);
            return;
        }
      }
      if (!haveInit) throw new ConnectError("error from answerer: the answerer went away before answering", Code.Unavailable);
    } finally {
      stop.removeEventListener("abort", onStop);
    }
  }

  private async *answer(requests: AsyncIterable<AnswerResponse>, ctx: HandlerContext): AsyncGenerator<AnswerRequest> {
    const hosts = hostsFromHeaders(ctx.requestHeader);
    this.checkHosts(hosts);
    if (this.closed) throw new ConnectError("signaling server shutting down", Code.Unavailable);
    const out = new AsyncQueue<AnswerRequest>();
    this.answerStreams.add(out);
    // The answerer does not reply to heartbeats: they only let this side notice a dead answerer.
    let heartbeat: NodeJS.Timeout | undefined;
    if ((ctx.requestHeader.get(HEARTBEATS_ALLOWED_METADATA) ?? "").split(",")[0]!.trim() === "true") {
      heartbeat = setInterval(
        () => out.push(create(AnswerRequestSchema, { stage: { case: "heartbeat", value: {} } })),
        this.opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      );
    }
    // Ends with this stream however it ends: a waiting answerer must not take an offer any more.
    const ended = new AbortController();
    void this.exchange(hosts, requests, AbortSignal.any([ctx.signal, ended.signal]), out).then(
      () => out.end(),
      (err: unknown) => out.fail(ConnectError.from(err)),
    );
    try {
      yield* out;
    } finally {
      clearInterval(heartbeat);
      this.answerStreams.delete(out);
      ended.abort(new ConnectError("answer stream ended", Code.Canceled));
    }
  }

  /** One Answer stream's call: the next offer for its hosts, relayed both ways (goutils `Answer`). */
  private async exchange(hosts: string[], requests: AsyncIterable<AnswerResponse>, signal: AbortSignal, out: AsyncQueue<AnswerRequest>): Promise<void> {
    const offer = await this.queue.receive(hosts, signal);
    const { uuid } = offer;
    const logger = this.logger.child({ uuid, host: offer.host });
    logger.debug("offer handed to an answerer");
    out.push(
      create(AnswerRequestSchema, {
        uuid,
        stage: {
          case: "init",
          value: {
            sdp: offer.sdp,
            optionalConfig: { additionalIceServers: [...(this.opts.iceServers ?? [])], disableTrickle: offer.disableTrickle },
            deadline: timestampFromMs(offer.deadline),
          },
        },
      }),
    );
    // The answerer or this stream ended the exchange: the caller loop stops too.
    const stopCaller = () => offer.toAnswerer.end();
    offer.signal.addEventListener("abort", stopCaller, { once: true });
    signal.addEventListener("abort", stopCaller, { once: true });
    let answererStopped = false;

    const callerLoop = (async () => {
      for await (const event of offer.toAnswerer) {
        if (event.kind === "candidate") {
          out.push(create(AnswerRequestSchema, { uuid, stage: { case: "update", value: { candidate: candidateToProto(event.candidate) } } }));
        } else if (event.kind === "error") {
          out.push(create(AnswerRequestSchema, { uuid, stage: { case: "error", value: { status: { code: event.code, message: event.message } } } }));
          return;
        } else {
          break;
        }
      }
      if (!answererStopped && !signal.aborted) out.push(create(AnswerRequestSchema, { uuid, stage: { case: "done", value: {} } }));
    })();

    let haveInit = false;
    try {
      for await (const msg of requests) {
        if (msg.uuid !== uuid) throw new ConnectError(`uuid mismatch; have=${goQuote(msg.uuid)} want=${goQuote(uuid)}`, Code.Unknown);
        const { stage } = msg;
        if (stage.case === "init") {
          if (haveInit) throw new ConnectError("got init stage more than once", Code.Unknown);
          haveInit = true;
          offer.toCaller.push({ kind: "init", sdp: stage.value.sdp });
        } else if (stage.case === "update") {
          if (!haveInit) throw new ConnectError("got update stage before init stage", Code.Unknown);
          if (stage.value.candidate) offer.toCaller.push({ kind: "candidate", candidate: candidateFromProto(stage.value.candidate) });
        } else if (stage.case === "done") {
          if (!haveInit) throw new ConnectError("got done stage before init stage", Code.Unknown);
          break;
        } else if (stage.case === "error") {
          answererStopped = true;
          const status = stage.value.status;
          offer.toCaller.push({ kind: "error", code: status?.code ?? Code.Unknown, message: status?.message ?? "unknown error" });
          offer.cancel("answerer reported an error");
          break;
        } else {
          throw new ConnectError("unexpected stage", Code.Unknown);
        }
      }
    } catch (err) {
      // One side failed: the other stops too, and the caller hears of it. (goutils also sends the
      // answerer a done stage here; the stream's error status says more.)
      answererStopped = true;
      const ce = ConnectError.from(err);
      logger.debug({ err: ce.rawMessage }, "answer stream failed");
      offer.toCaller.push({ kind: "error", code: ce.code, message: ce.rawMessage });
      offer.cancel("answer stream failed");
      throw ce;
    } finally {
      // goutils `AnswererDone`: the Call stream ends (OK after init and done).
      offer.toCaller.end();
      await callerLoop;
      offer.signal.removeEventListener("abort", stopCaller);
      signal.removeEventListener("abort", stopCaller);
    }
  }
}

function validCode(code: number): Code {
  return Number.isInteger(code) && code > 0 && code <= 16 ? (code as Code) : Code.Unknown;
}

export type { AnswererEvent, Offer };

export interface StartSignalingServerOptions extends SignalingServerOptions {
  /** `host:port`; port 0 picks a free one. */
  bindAddress: string;
  tls?: { certFile: string; keyFile: string };
  /** api key id → secret. None: no AuthService and no auth, as a host without auth handlers. */
  apiKeys?: Iterable<readonly [string, string]>;
}

export interface SignalingServer {
  readonly server: RpcServer;
  readonly signaling: ExternalSignaling;
  /** Base URL callers and answerers dial, e.g. `http://127.0.0.1:8081`. */
  readonly url: string;
  close(): Promise<void>;
}

const healthCheck: HttpRoute = (req, res) => {
  if (req.method !== "GET" || req.url !== "/") return false;
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
  res.end("Sprocket signaling server\n");
  return true;
};

/** Serves SignalingService (and AuthService when keys are given) on its own port. */
export async function startSignalingServer(opts: StartSignalingServerOptions): Promise<SignalingServer> {
  const signaling = new ExternalSignaling(opts);
  const keys = new ApiKeyStore(opts.apiKeys ?? []);
  const services: ServiceRegistration[] = [{ service: SignalingService, impl: signaling.impl }];
  const interceptors: Interceptor[] = [];
  if (keys.size > 0) {
    const authority = new TokenAuthority({ audience: `sprocket-signaling-${randomUUID()}` });
    services.push({ service: AuthService, impl: authService(keys, authority) });
    interceptors.push(authInterceptor(authority));
  }
  const server = await startRpcServer({ bindAddress: opts.bindAddress, tls: opts.tls, services, interceptors, httpRoutes: [healthCheck] });
  const { host, port, tls } = server.listener;
  const dialHost = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    server,
    signaling,
    url: `${tls ? "https" : "http"}://${dialHost}:${port}`,
    close() {
      closing ??= (async () => {
        signaling.close();
        await server.close();
      })();
      return closing;
    },
  };
}
