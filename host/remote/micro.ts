// A micro part as a remote: gRPC over a frame link (links.ts) with the channel framing of
// proto/channel (ChannelClient, protobuf-es frame codec). The part serves a subset of the APIs and
// wants AuthService/Authenticate first on every connection ({entity: part_id, credentials {type:
// "api-key", payload: part_key}}); it holds at most 4 connections and 4 KiB packets, so requests
// go out in packets of at most 4 KiB.
//
// Anything the link does wrong ends the connection with a reason: the part closing it, a framing
// error (a length above the limit), a frame that does not decode, no answer within the call timeout.
//
// After Authenticate the connection starts a session with the part (RobotService StartSession), as
// Viam's SDKs do: a SendSessionHeartbeat every heartbeat_window/5 and `viam-sid` on every call it
// carries. When this host dies or is cut off, the heartbeats stop and the part stops what this host
// drove there, even on a link that never closes (a UART) or a TCP connection left half-open. A part
// that answers StartSession with UNIMPLEMENTED (older firmware) is used without a session. The
// session itself is remote-session.ts, shared with gRPC remotes.
import { durationMs } from "@bufbuild/protobuf/wkt";
import type { Logger } from "pino";
import { ChannelClient, ChannelError, Code, type Metadata } from "../../proto/channel/index.js";
import { protobufFrameCodec } from "../../proto/channel/protobuf-codec.js";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import { RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import type { RemoteConfig } from "../config/schema.js";
import type { ResourceName } from "../resource/name.js";
import { SESSION_ID_METADATA_KEY } from "../session/context.js";
import {
  Listeners,
  reasonOf,
  type RemoteCall,
  type RemoteCallOptions,
  type RemoteConnection,
  type RemoteConnectionEvents,
  type RemoteRpcSubtype,
} from "./connection.js";
import type { FrameLink, LinkOpener } from "./links.js";
import { RemoteSession } from "./remote-session.js";
import { failedCall, linkSignal, resourceNamesFrom, rpcSubtypesFrom, unaryTyped } from "./typed.js";

/** The firmware's MICRO_MAX_PACKET_BYTES (firmware/rpc/connection.ts). */
export const MICRO_PACKET_BYTES = 4 * 1024;

export interface MicroConnectionOptions {
  /** How to reach the part. */
  open: LinkOpener;
  auth: RemoteConfig["auth"];
  /** Timeout of each call connect() and the checks make. */
  callTimeoutMs: number;
  logger: Logger;
  /** Request packet size; default MICRO_PACKET_BYTES. */
  maxPacketBytes?: number;
}

const setTimer = (ms: number, fn: () => void) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

export class MicroConnection implements RemoteConnection {
  readonly kind = "micro";
  readonly #opts: MicroConnectionOptions;
  readonly #events = new Listeners<RemoteConnectionEvents>();
  #client: ChannelClient | undefined;
  #link: FrameLink | undefined;
  #connected = false;
  #over = false;
  /** The session with the part; its id is undefined without one (a part without sessions, or closed). */
  readonly #session: RemoteSession;

  constructor(opts: MicroConnectionOptions) {
    this.#opts = opts;
    this.#session = new RemoteSession({
      start: async (resume, signal) => {
        const res = await unaryTyped(this.#unary, RobotService.method.startSession, { resume }, { signal, timeoutMs: opts.callTimeoutMs });
        return { id: res.id, heartbeatWindowMs: res.heartbeatWindow ? durationMs(res.heartbeatWindow) : 0 };
      },
      heartbeat: async (id) => {
        await unaryTyped(this.#unary, RobotService.method.sendSessionHeartbeat, { id }, { timeoutMs: opts.callTimeoutMs });
      },
      statusOf: (err) => (err instanceof ChannelError ? { code: err.code, message: err.message } : { code: Code.UNKNOWN, message: reasonOf(err) }),
      logger: opts.logger,
    });
  }

  get connected(): boolean {
    return this.#connected;
  }

  on<E extends keyof RemoteConnectionEvents>(event: E, listener: RemoteConnectionEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#client) throw new Error("connect() was already called");
    const client = new ChannelClient({
      codec: protobufFrameCodec,
      send: (frame) => this.#link?.send(frame),
      setTimer,
      maxPacketBytes: this.#opts.maxPacketBytes ?? MICRO_PACKET_BYTES,
      // A frame that does not decode: the stream is out of step, and nothing after it can be trusted.
      onProtocolError: (err) => this.#lost(`protocol error: ${reasonOf(err)}`),
    });
    this.#client = client;
    try {
      this.#link = await this.#opts.open(signal, {
        onFrame: (frame) => client.receive(frame),
        onClose: (reason) => this.#lost(reason),
      });
      if (this.#over) throw new Error(client.closed ? "link lost while connecting" : "closed");
      const { auth } = this.#opts;
      if (auth.credentials) {
        await this.#step("authenticate", signal, (opts) =>
          unaryTyped(this.#unary, AuthService.method.authenticate, { entity: auth.entity ?? "", credentials: { ...auth.credentials! } }, opts),
        );
      }
      await this.#step("start a session", signal, (opts) => this.#session.start(opts.signal ?? signal));
      await this.#step("list resources", signal, (opts) => this.resourceNames(opts.signal));
      if (this.#over) throw new Error("link lost while connecting");
      this.#connected = true;
    } catch (err) {
      const why = this.#lostReason ?? reasonOf(err);
      this.#shutdown(why);
      throw new Error(why);
    }
  }

  #lostReason: string | undefined;

  /** A connect() step with the call timeout, named in its error. */
  async #step<T>(what: string, signal: AbortSignal, fn: (opts: RemoteCallOptions) => Promise<T>): Promise<T> {
    try {
      return await fn({ signal, timeoutMs: this.#opts.callTimeoutMs });
    } catch (err) {
      if (this.#lostReason !== undefined) throw new Error(this.#lostReason);
      if (err instanceof ChannelError && err.code === Code.DEADLINE_EXCEEDED) {
        throw new Error(`${what}: no answer within ${this.#opts.callTimeoutMs} ms`);
      }
      throw new Error(`${what}: ${reasonOf(err)}`);
    }
  }

  readonly #unary = (method: string, request: Uint8Array, options?: RemoteCallOptions): RemoteCall => this.#call(method, request, options);

  async close(reason = "closed by the host"): Promise<void> {
    this.#shutdown(reason);
    await Promise.resolve();
  }

  call(method: string, request: Uint8Array | AsyncIterable<Uint8Array>, options: RemoteCallOptions = {}): RemoteCall {
    if (!this.#connected) return failedCall(Code.UNAVAILABLE, this.#lostReason ?? "not connected to the part");
    const sessionId = this.#session.idFor(method);
    if (sessionId === undefined) return this.#call(method, request, options);
    // Ours, never a caller's: the part knows this host's session, not the sessions of the host's clients.
    return this.#call(method, request, { ...options, metadata: { ...options.metadata, [SESSION_ID_METADATA_KEY]: [sessionId] } });
  }

  #call(method: string, request: Uint8Array | AsyncIterable<Uint8Array>, options: RemoteCallOptions = {}): RemoteCall {
    const client = this.#client;
    if (!client || client.closed) return failedCall(Code.UNAVAILABLE, this.#lostReason ?? "not connected to the part");
    let unhook = () => {};
    const call = client.call(method, options.metadata ?? ({} as Metadata), request, {
      timeoutMs: options.timeoutMs,
      onCancelRegister: (cancel) => {
        unhook = linkSignal(options.signal, cancel);
      },
    });
    void call.trailers.then(() => unhook());
    return call;
  }

  async resourceNames(signal?: AbortSignal): Promise<ResourceName[]> {
    const res = await unaryTyped(this.#unary, RobotService.method.resourceNames, {}, { signal, timeoutMs: this.#opts.callTimeoutMs });
    return resourceNamesFrom(res);
  }

  async resourceRpcSubtypes(signal?: AbortSignal): Promise<RemoteRpcSubtype[]> {
    const res = await unaryTyped(this.#unary, RobotService.method.resourceRPCSubtypes, {}, { signal, timeoutMs: this.#opts.callTimeoutMs });
    return rpcSubtypesFrom(res);
  }

  /** The link went away or misbehaved. */
  #lost(reason: string): void {
    if (this.#over) return;
    this.#lostReason = reason;
    const wasConnected = this.#connected;
    this.#shutdown(reason);
    if (wasConnected) this.#events.emit("disconnected", reason);
  }

  #shutdown(reason: string): void {
    if (this.#over) return;
    this.#over = true;
    this.#connected = false;
    this.#lostReason ??= reason;
    this.#session.stop();
    this.#client?.close(reason);
    this.#link?.close();
  }
}
