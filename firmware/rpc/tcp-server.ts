// The RPC server's TCP side: an ECMA-419 Listener on the config's port, at most MAX_CONNECTIONS
// client connections, each a length-prefixed Connection.
//
// One more connection than that is accepted just long enough to be refused with an error frame:
// it waits (at most REFUSAL_TIMEOUT_MS) for the client's first request headers and answers that
// call with headers and RESOURCE_EXHAUSTED trailers ("too many connections: this part serves at
// most 4"), then closes. A client thus sees a gRPC status on its first call, not a bare reset.
// Only one refusal runs at a time; connections beyond that are closed at once. The budget: one
// listener + 4 clients + 1 being refused = 6 lwIP sockets (firmware/sdkconfig/sdkconfig.defaults
// raises CONFIG_LWIP_MAX_SOCKETS from Moddable's 4 to 8).
import Timer from "timer";
import { Code } from "../../proto/channel/frames.js";
import { LengthPrefixDecoder, encodeLengthPrefixed } from "../../proto/channel/length-prefix.js";
import { errorText, log } from "../log.js";
import { Listener, type TCP } from "../platform/network.js";
import type { Safety } from "../runtime/safety.js";
import { Connection, MICRO_MAX_FRAME_BYTES, timerSetTimer } from "./connection.js";
import type { Dispatcher } from "./dispatcher.js";
import { microFrameCodec } from "./frame-codec.js";
import { TcpLink } from "./links.js";

export const MAX_CONNECTIONS = 4;
export const REFUSAL_TIMEOUT_MS = 1000;

export interface TcpServerOptions {
  port: number;
  dispatcher: Dispatcher;
  safety: Safety;
  maxConnections?: number;
  /** See Connection; default FRAME_TIMEOUT_MS. */
  frameTimeoutMs?: number;
}

export class RpcTcpServer {
  readonly port: number;
  readonly maxConnections: number;
  readonly connections = new Set<Connection>();
  /** Connections refused since boot. */
  refused = 0;
  #listener: Listener | undefined;
  #refusing = false;
  readonly #dispatcher: Dispatcher;
  readonly #safety: Safety;
  readonly #frameTimeoutMs: number | undefined;

  constructor(options: TcpServerOptions) {
    this.port = options.port;
    this.maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
    this.#dispatcher = options.dispatcher;
    this.#safety = options.safety;
    this.#frameTimeoutMs = options.frameTimeoutMs;
    this.#listener = new Listener({
      port: options.port,
      onReadable: (count: number) => this.#accept(count),
    });
    log("info", "rpc: listening on TCP port " + options.port);
  }

  #accept(count: number): void {
    while (count-- > 0 && this.#listener !== undefined) {
      let socket: TCP | undefined;
      try {
        socket = this.#listener.read();
      } catch (error) {
        log("warn", "rpc: accept failed: " + errorText(error));
        return;
      }
      if (socket === undefined) return;
      try {
        if (this.connections.size < this.maxConnections) this.#serve(socket);
        else this.#refuse(socket);
      } catch (error) {
        log("warn", "rpc: cannot take a connection: " + errorText(error));
      }
    }
  }

  #serve(socket: TCP): void {
    const connection = new Connection({
      framing: "length-prefix",
      dispatcher: this.#dispatcher,
      safety: this.#safety,
      onClosed: (c) => this.connections.delete(c),
      ...(this.#frameTimeoutMs === undefined ? {} : { frameTimeoutMs: this.#frameTimeoutMs }),
    });
    this.connections.add(connection);
    connection.attach(
      new TcpLink(socket, {
        onData: (chunk) => connection.receive(chunk),
        onClosed: () => connection.linkClosed(),
      }),
    );
  }

  #refuse(socket: TCP): void {
    this.refused++;
    if (this.#refusing) {
      // Already refusing one: this one gets no answer, just the close.
      try {
        socket.close();
      } catch {
        // Gone already.
      }
      log("warn", "rpc: connection refused (closed): " + this.maxConnections + " in use");
      return;
    }
    this.#refusing = true;
    let done = false;
    let answered = false;
    let link: TcpLink | undefined = undefined;
    const finish = () => {
      if (done) return;
      done = true;
      cancelTimer();
      this.#refusing = false;
      link?.close();
    };
    const cancelTimer = timerSetTimer(REFUSAL_TIMEOUT_MS, finish);
    const decoder = new LengthPrefixDecoder({
      maxFrameBytes: MICRO_MAX_FRAME_BYTES,
      onError: finish,
      onFrame: (bytes) => {
        if (done || answered) return;
        let streamId: bigint | undefined;
        try {
          const frame = microFrameCodec.decodeRequest(bytes);
          if (frame.headers !== undefined) streamId = frame.streamId;
        } catch {
          // Not a request: just close.
        }
        if (streamId === undefined || link === undefined) return finish();
        answered = true;
        const status = { code: Code.RESOURCE_EXHAUSTED, message: "too many connections: this part serves at most " + this.maxConnections };
        const l = link;
        const sent = [
          l.write(encodeLengthPrefixed(microFrameCodec.encodeResponse({ streamId, headers: { metadata: {} } }))),
          l.write(encodeLengthPrefixed(microFrameCodec.encodeResponse({ streamId, trailers: { status, metadata: {} } }))),
        ];
        // Close once the answer has left (or at once if it went out synchronously).
        Promise.all(sent).then(
          () => Timer.set(finish, 10),
          () => finish(),
        );
      },
    });
    link = new TcpLink(socket, { onData: (chunk) => decoder.push(chunk), onClosed: finish });
    log("warn", "rpc: refusing " + link.peer + ": " + this.maxConnections + " connections in use");
  }

  close(): void {
    const listener = this.#listener;
    this.#listener = undefined;
    for (const c of [...this.connections]) c.close("server closing");
    try {
      (listener as (Listener & { close?(): void }) | undefined)?.close?.();
    } catch {
      // Closed already.
    }
  }
}
