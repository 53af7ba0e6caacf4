// What every kind of remote part looks like to the host: a RemoteConnection dials (or waits for) the
// part, authenticates, lists its resources, and carries calls at the byte level (a method path, the
// serialized request, metadata and a cancellation signal in; headers, serialized responses and a
// status out), so forwarding a call never needs to know its API. One implementation per way of
// reaching a part:
//
//   micro (micro.ts)   a micro part over a frame link: `tcp://host:port` or `ws://host:port/path`
//                      (length-prefixed frames), the channel framing of proto/channel, compact RPC
//   grpc  (grpc.ts)    another Sprocket host or a viam-server: `host:port`, `http(s)://host:port`,
//                      gRPC over HTTP/2 (h2c or TLS) with connect-node
//
// A new way plugs in by registering a RemoteTransport for its address scheme in a
// RemoteTransportRegistry (see defaultRemoteTransports): `serial://…` is a micro connection over a
// COBS link, `dial-in` a micro connection whose link arrives from the part, `sim:` one to a
// simulated part started in-process. The manager (manager.ts) never looks past this interface.
import type { Logger } from "pino";
import { ChannelError, type Metadata, type Status } from "../../proto/channel/index.js";
import type { RemoteConfig } from "../config/schema.js";
import type { Api, ResourceName } from "../resource/name.js";

export { ChannelError, Code, type Metadata, type Status } from "../../proto/channel/index.js";

export interface RemoteCallOptions {
  /** Request metadata to send on top of what the connection adds itself (auth). */
  readonly metadata?: Metadata;
  /** Ends the call (rst_stream / HTTP/2 reset) and fails it with CANCELLED. */
  readonly signal?: AbortSignal;
  /** Deadline, sent to the part and enforced here. */
  readonly timeoutMs?: number;
}

/** One call in flight, at the byte level. */
export interface RemoteCall {
  /** Response headers; rejects with a ChannelError when the call fails before any came. */
  readonly headers: Promise<Metadata>;
  /** Serialized response messages; ends on an OK status, throws a ChannelError (code, message, details) otherwise. */
  readonly responses: AsyncIterable<Uint8Array>;
  /** Always resolves: the part's status and trailers, or a status made here (cancel, deadline, lost link). */
  readonly trailers: Promise<{ status: Status; metadata: Metadata }>;
}

/** A resource API and the protobuf service that serves it on the part. */
export interface RemoteRpcSubtype {
  readonly api: Api;
  readonly protoService: string;
}

/** What a connection reports about its health. */
export type RemoteConnectionEvents = {
  /** The link was lost or the part stopped answering; the connection is closed. Told once. */
  disconnected: (reason: string) => void;
};

export interface RemoteConnection {
  /** "micro", "grpc", …, for logs. */
  readonly kind: string;
  /** True between a successful connect() and the first disconnect or close(). */
  readonly connected: boolean;
  /**
   * Dials, authenticates and fetches the resource names. Rejects with the reason (and leaves nothing
   * open) when any of it fails or `signal` aborts. Called once per connection object.
   */
  connect(signal: AbortSignal): Promise<void>;
  /** Closes the link; calls in flight fail with UNAVAILABLE. No disconnected event follows. */
  close(reason?: string): Promise<void>;
  /** Starts a call. A Uint8Array is one request message; an AsyncIterable is a request stream. */
  call(method: string, request: Uint8Array | AsyncIterable<Uint8Array>, options?: RemoteCallOptions): RemoteCall;
  /** The part's resources (its own names), fetched anew; doubles as the connection check. */
  resourceNames(signal?: AbortSignal): Promise<ResourceName[]>;
  /** The APIs the part serves and their protobuf services. */
  resourceRpcSubtypes(signal?: AbortSignal): Promise<RemoteRpcSubtype[]>;
  /** Subscribes to health events; returns what unsubscribes. */
  on<E extends keyof RemoteConnectionEvents>(event: E, listener: RemoteConnectionEvents[E]): () => void;
}

/** What a transport gets to make a connection. */
export interface RemoteTransportContext {
  readonly config: RemoteConfig;
  /** The address with its scheme split off. */
  readonly address: ParsedRemoteAddress;
  readonly logger: Logger;
  /** Per-call timeout of connect() steps and checks. */
  readonly callTimeoutMs: number;
}

export interface ParsedRemoteAddress {
  /** Lower-case scheme without "://" ("tcp", "ws", "http", …); "" for a bare `host:port`. */
  readonly scheme: string;
  /** The address as written. */
  readonly raw: string;
}

/** Makes connections for the address schemes it names. */
export interface RemoteTransport {
  /** Schemes handled ("tcp", "ws", "wss", "http", "https", "" for a bare host:port, …). */
  readonly schemes: readonly string[];
  create(ctx: RemoteTransportContext): RemoteConnection;
}

/** Address scheme → transport. The host's defaults are in transports.ts; tests and later work add more. */
export class RemoteTransportRegistry {
  readonly #bySchema = new Map<string, RemoteTransport>();

  register(transport: RemoteTransport): this {
    for (const scheme of transport.schemes) this.#bySchema.set(scheme, transport);
    return this;
  }

  /** The transport for an address, or an Error naming the schemes known. */
  lookup(address: string): { transport: RemoteTransport; address: ParsedRemoteAddress } | Error {
    const parsed = parseRemoteAddress(address);
    const transport = this.#bySchema.get(parsed.scheme);
    if (transport) return { transport, address: parsed };
    const known = [...this.#bySchema.keys()].map((s) => (s === "" ? "host:port" : `${s}://`)).join(", ");
    return new Error(`remote address "${address}" has no transport for "${parsed.scheme}" (known: ${known})`);
  }
}

/**
 * Splits the scheme off an address: `tcp://h:1` → "tcp"; `h:1` and `[::1]:1` → "" (bare host:port);
 * `sim:name` and `dial-in` (no "//") → "sim" and "dial-in".
 */
export function parseRemoteAddress(address: string): ParsedRemoteAddress {
  const raw = address.trim();
  const withSlashes = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw);
  if (withSlashes) return { scheme: withSlashes[1].toLowerCase(), raw };
  // `host:port` has digits after its last colon; `sim:thing` and `dial-in` do not.
  if (/^(\[[^\]]*\]|[^:/[\]]+):\d+$/.test(raw)) return { scheme: "", raw };
  const opaque = /^([a-z][a-z0-9+.-]*)(?::|$)/i.exec(raw);
  return { scheme: opaque ? opaque[1].toLowerCase() : "", raw };
}

/** The text of an error for logs and statuses. */
export function reasonOf(err: unknown): string {
  if (err instanceof ChannelError) return `${codeName(err.code)}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

const codeNames = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

export function codeName(code: number): string {
  return codeNames[code] ?? `code ${code}`;
}

/** A tiny listener set for the connections' events. */
export class Listeners<E extends Record<string, (...args: never[]) => void>> {
  readonly #map = new Map<keyof E, Set<E[keyof E]>>();

  on<K extends keyof E>(event: K, listener: E[K]): () => void {
    let set = this.#map.get(event);
    if (!set) this.#map.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    for (const l of [...(this.#map.get(event) ?? [])]) {
      try {
        (l as (...a: Parameters<E[K]>) => void)(...args);
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}
