// proto.rpc.webrtc.v1.SignalingService as viam-server's internal signaler (spec §4.5, §4.7): Call builds
// the answering peer connection in-process (no offer queue, no separate answerer), CallUpdate feeds it
// the caller's candidates. Served on the router, so it goes through the normal auth interceptor.
import { randomUUID } from "node:crypto";
import { networkInterfaces } from "node:os";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import {
  CallResponseSchema,
  CallUpdateResponseSchema,
  OptionalWebRTCConfigResponseSchema,
  SignalingService,
  type CallResponse,
  type ICECandidate,
  type ICECandidateSchema,
} from "../../proto/gen/proto/rpc/webrtc/v1/signaling_pb.js";
import { authEntityKey } from "../auth/interceptor.js";
import { AnsweringPeer, decodeSdp, encodeSdp, type IceCandidateJson, type IceServerConfig } from "./peer.js";

export const RPC_HOST_METADATA = "rpc-host";
/** goutils `getDefaultOfferDeadline`. */
export const DEFAULT_OFFER_DEADLINE_MS = 10_000;
const maxHostsInMetadata = 5;

export interface PeerInfo {
  uuid: string;
  /** The `rpc-host` the caller asked for. */
  host: string;
  /** The entity the signaling call was authenticated as; undefined when auth is off. */
  entity: string | undefined;
}

export interface SignalingOptions {
  /** Accepted `rpc-host` values, read per request (the port is known only once listening). Empty accepts any. */
  allowedHosts: () => readonly string[];
  /** Each new answering peer, before its answer is sent: attach the data-channel transport here. */
  onPeer: (peer: AnsweringPeer, info: PeerInfo) => void;
  logger: Logger;
  /** Time from Call until the data channel must be open; default 10 s. */
  offerDeadlineMs?: number;
  iceServers?: readonly IceServerConfig[];
}

interface ActiveOffer {
  host: string;
  peer: AnsweringPeer;
}

/**
 * The `rpc-host` values the internal signaler accepts (rdk `GetHosts`, spec §4.7): the FQDN when set,
 * the listen address `host:port`, and `localhost:<port>` (plus `localhost` on 443) when listening on
 * loopback. On a wildcard address every local IPv4 `ip:port` is listed too, since that is what a LAN
 * client dials.
 */
export function internalSignalingHosts(opts: { fqdn: string; host: string; port: number }): string[] {
  const { fqdn, host, port } = opts;
  const hosts = new Set<string>();
  const add = (h: string) => {
    hosts.add(`${h.includes(":") ? `[${h}]` : h}:${port}`);
    if (port === 443) hosts.add(h);
  };
  if (fqdn) hosts.add(fqdn);
  const wildcard = host === "0.0.0.0" || host === "::" || host === "";
  if (!wildcard) add(host);
  const loopback = host === "localhost" || host === "::1" || host.startsWith("127.");
  if (loopback || wildcard) {
    add("localhost");
    add("127.0.0.1");
  }
  if (wildcard) {
    for (const addrs of Object.values(networkInterfaces())) {
      for (const a of addrs ?? []) if (a.family === "IPv4") add(a.address);
    }
  }
  return [...hosts];
}

/** goutils `HostsFromCtx`: 1–5 non-empty values. */
export function hostsFromHeaders(header: Headers): string[] {
  const raw = header.get(RPC_HOST_METADATA);
  if (raw === null) throw new ConnectError(`expected ${RPC_HOST_METADATA} to be set in metadata`, Code.Unknown);
  // Fetch `Headers` joins repeated values with ", "; a host name never contains a comma.
  const hosts = raw.split(",").map((h) => h.trim());
  if (hosts.length > maxHostsInMetadata) throw new ConnectError(`too many ${RPC_HOST_METADATA}`, Code.Unknown);
  if (hosts.some((h) => h === "")) throw new ConnectError(`expected non-empty ${RPC_HOST_METADATA}`, Code.Unknown);
  return hosts;
}

/** goutils `HostFromCtx`: exactly one value (Call, CallUpdate, OptionalWebRTCConfig). */
export function hostFromHeaders(header: Headers): string {
  const hosts = hostsFromHeaders(header);
  if (hosts.length !== 1) throw new ConnectError(`expected 1 ${RPC_HOST_METADATA}`, Code.Unknown);
  return hosts[0]!;
}

/** The signaling service and the peer connections it created. */
export class WebRtcSignaling {
  private readonly opts: SignalingOptions;
  private readonly logger: Logger;
  private readonly offers = new Map<string, ActiveOffer>();
  private readonly peers = new Set<AnsweringPeer>();
  private closed = false;

  constructor(opts: SignalingOptions) {
    this.opts = opts;
    this.logger = opts.logger;
  }

  /** Live peer connections (for tests and status). */
  get peerCount(): number {
    return this.peers.size;
  }

  get impl(): Partial<ServiceImpl<typeof SignalingService>> {
    return {
      call: (req, ctx) => this.call(req.sdp, ctx),
      callUpdate: async (req, ctx) => {
        this.checkHost(hostFromHeaders(ctx.requestHeader));
        const offer = this.offers.get(req.uuid);
        if (!offer) throw new ConnectError(`no active offer for "${req.uuid}"`, Code.Unknown);
        const { update } = req;
        switch (update.case) {
          case "candidate":
            try {
              await offer.peer.addIceCandidate(candidateFromProto(update.value));
            } catch (err) {
              // A candidate the stack cannot use is not fatal: others may still connect.
              this.logger.debug({ err, uuid: req.uuid }, "ignoring caller candidate");
            }
            break;
          case "done":
            this.logger.debug({ uuid: req.uuid }, "caller done");
            break;
          case "error":
            this.logger.debug({ uuid: req.uuid, status: update.value.message }, "caller reported an error");
            this.offers.delete(req.uuid);
            if (!offer.peer.isOpen) void offer.peer.close(`caller error: ${update.value.message}`);
            break;
          default:
            throw new ConnectError("unknown update stage", Code.Unknown);
        }
        return create(CallUpdateResponseSchema);
      },
      optionalWebRTCConfig: (_req, ctx) => {
        this.checkHost(hostFromHeaders(ctx.requestHeader));
        return create(OptionalWebRTCConfigResponseSchema, { config: {} });
      },
      answer: () => {
        throw new ConnectError("this host has no external signaling queue: Answer is not implemented", Code.Unimplemented);
      },
    };
  }

  /** Refuses new calls and closes every peer connection. */
  async close(): Promise<void> {
    this.closed = true;
    const peers = [...this.peers];
    this.peers.clear();
    this.offers.clear();
    await Promise.all(peers.map((p) => p.close("host closing")));
  }

  private checkHost(host: string): void {
    const allowed = this.opts.allowedHosts();
    if (allowed.length > 0 && !allowed.includes(host)) throw new ConnectError("host not preconfigured", Code.InvalidArgument);
  }

  private async *call(sdp: string, ctx: HandlerContext): AsyncGenerator<CallResponse> {
    const host = hostFromHeaders(ctx.requestHeader);
    this.checkHost(host);
    if (this.closed) throw new ConnectError("host is shutting down", Code.Unavailable);
    let offer;
    try {
      offer = decodeSdp(sdp);
    } catch (err) {
      throw new ConnectError(`invalid offer: ${(err as Error).message}`, Code.InvalidArgument);
    }
    const deadlineMs = this.opts.offerDeadlineMs ?? DEFAULT_OFFER_DEADLINE_MS;
    const uuid = randomUUID();
    const logger = this.logger.child({ call: uuid });
    let peer: AnsweringPeer;
    try {
      peer = await AnsweringPeer.answer(offer, { logger, iceServers: this.opts.iceServers });
    } catch (err) {
      throw new ConnectError(`error from answerer: ${(err as Error).message}`, Code.Unknown);
    }
    if (this.closed) {
      await peer.close("host closing");
      throw new ConnectError("host is shutting down", Code.Unavailable);
    }
    this.offers.set(uuid, { host, peer });
    this.peers.add(peer);
    // The peer must connect within the offer deadline, whether or not this stream is still open.
    const connectTimer = setTimeout(() => {
      if (!peer.isOpen) void peer.close("offer deadline exceeded");
    }, deadlineMs);
    connectTimer.unref();
    peer.onOpen(() => clearTimeout(connectTimer));
    peer.onClose((reason) => {
      clearTimeout(connectTimer);
      this.offers.delete(uuid);
      this.peers.delete(peer);
      logger.debug({ reason }, "peer connection closed");
    });
    this.opts.onPeer(peer, { uuid, host, entity: ctx.values.get(authEntityKey) });

    // init goes out first; werift's candidates (already gathered) are held by the peer until then.
    yield create(CallResponseSchema, { uuid, stage: { case: "init", value: { sdp: encodeSdp(peer.answer) } } });

    const queue = new AsyncQueue<CallResponse>();
    peer.trickle((c) => {
      if (c === null) queue.end();
      else queue.push(create(CallResponseSchema, { uuid, stage: { case: "update", value: { candidate: candidateToProto(c) } } }));
    });
    // Ends OK when gathering completes or the data channel opens, whichever is first (goutils).
    peer.onOpen(() => queue.end());
    peer.onClose((reason) => queue.fail(new ConnectError(`peer connection closed before the exchange finished: ${reason}`, Code.Unknown)));
    const deadline = AbortSignal.any([ctx.signal, AbortSignal.timeout(deadlineMs)]);
    const onAbort = () => {
      if (ctx.signal.aborted) queue.end();
      else queue.fail(new ConnectError("offer deadline exceeded", Code.DeadlineExceeded));
    };
    if (deadline.aborted) onAbort();
    else deadline.addEventListener("abort", onAbort, { once: true });
    try {
      yield* queue;
    } finally {
      deadline.removeEventListener("abort", onAbort);
    }
  }
}

export function candidateFromProto(c: ICECandidate): IceCandidateJson {
  const out: IceCandidateJson = { candidate: c.candidate };
  if (c.sdpMid !== undefined) out.sdpMid = c.sdpMid;
  if (c.sdpmLineIndex !== undefined) out.sdpMLineIndex = c.sdpmLineIndex;
  if (c.usernameFragment !== undefined) out.usernameFragment = c.usernameFragment;
  return out;
}

export function candidateToProto(c: IceCandidateJson): MessageInitShape<typeof ICECandidateSchema> {
  return { candidate: c.candidate, sdpMid: c.sdpMid, sdpmLineIndex: c.sdpMLineIndex, usernameFragment: c.usernameFragment };
}

/** A single-consumer queue: push/end/fail from callbacks, drain with `for await`. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private done = false;
  private error: unknown;
  private wake: (() => void) | undefined;

  push(item: T): void {
    if (this.done) return;
    this.items.push(item);
    this.notify();
  }

  end(): void {
    this.done = true;
    this.notify();
  }

  fail(err: unknown): void {
    if (this.done) return;
    this.error = err;
    this.done = true;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.done) {
        if (this.error !== undefined) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
