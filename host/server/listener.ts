// One TCP port for every HTTP flavour a Viam client uses: HTTP/2 prior knowledge (native gRPC over h2c),
// HTTP/1.1 (gRPC-web from browsers and the SDK's default transport), and with TLS both again via ALPN.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { Duplex } from "node:stream";
import { readFile } from "node:fs/promises";

export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/**
 * An HTTP/1.1 Upgrade request (a WebSocket handshake) on the shared port. Returns true when it took
 * the socket; otherwise the listener answers 404 and closes it.
 */
export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => boolean;

export interface ListenOptions {
  /** `host:port`; port 0 picks a free one. */
  bindAddress: string;
  tls?: { certFile: string; keyFile: string };
  handler: RequestHandler;
  /** Upgrade requests (WebSockets from micro parts dialling in); none: they are refused. */
  upgrade?: UpgradeHandler;
  /** Largest request header block, as viam-server allows (32 MiB). */
  maxHeaderBytes?: number;
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** Stops accepting and ends open connections after in-flight requests finish or `graceMs` passes. */
  close(graceMs?: number): Promise<void>;
}

const h2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export function splitHostPort(bindAddress: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(bindAddress);
  if (!m) throw new Error(`network.bind_address "${bindAddress}" is not host:port`);
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`network.bind_address "${bindAddress}" has port out of range`);
  return { host: m[1] === "" ? "0.0.0.0" : m[1], port };
}

export async function listen(opts: ListenOptions): Promise<Listener> {
  const { host, port } = splitHostPort(opts.bindAddress);
  const maxHeaderBytes = opts.maxHeaderBytes ?? 32 * 1024 * 1024;
  const sessions = new Set<http2.Http2Session>();
  const sockets = new Set<net.Socket>();

  let server: net.Server;
  let h1: http.Server | undefined;
  if (opts.tls) {
    const [cert, key] = await Promise.all([readFile(opts.tls.certFile), readFile(opts.tls.keyFile)]);
    const secure = http2.createSecureServer({ cert, key, allowHTTP1: true, maxSessionMemory: 64 }, drainUnreadRequests(opts.handler));
    secure.on("session", (s) => trackSession(sessions, s));
    // With allowHTTP1, HTTP/1.1 upgrade requests arrive on the secure server itself.
    secure.on("upgrade", onUpgrade(opts.upgrade));
    server = secure;
  } else {
    const h2 = http2.createServer({ maxSessionMemory: 64 }, drainUnreadRequests(opts.handler));
    h2.on("session", (s) => trackSession(sessions, s));
    h1 = http.createServer({ maxHeaderSize: maxHeaderBytes }, opts.handler);
    h1.keepAliveTimeout = 30_000;
    h1.on("upgrade", onUpgrade(opts.upgrade));
    // h1 never listens itself (it gets sockets from `server`), and Node only starts tracking an HTTP
    // server's connections on "listening": without this, closeIdleConnections() finds no connection
    // and close() waits the whole grace period for every idle keep-alive (gRPC-web) client.
    h1.emit("listening");
    const h1Server = h1;
    server = net.createServer((socket) => {
      // Until h1/h2 take the socket nobody else listens for its errors: a client resetting the
      // connection before its first byte (ECONNRESET) must not become an uncaught exception.
      const onEarlyError = (): void => void socket.destroy();
      socket.on("error", onEarlyError);
      // Peek at the first bytes: only an HTTP/2 client starts with the connection preface ("PRI").
      // A first packet may be shorter than that, so gather until 3 bytes are in; a client that
      // closes before that has nothing to be answered. The bytes go back with unshift, and the
      // socket is never switched to flowing mode, so http2 can take its handle over.
      const chunks: Buffer[] = [];
      let length = 0;
      const onReadable = (): void => {
        for (let chunk: Buffer | null; (chunk = socket.read() as Buffer | null) !== null; ) {
          chunks.push(chunk);
          length += chunk.length;
        }
        if (length < 3) return;
        socket.off("readable", onReadable);
        socket.off("end", onEnd);
        socket.off("error", onEarlyError);
        const head = Buffer.concat(chunks, length);
        socket.unshift(head);
        if (head.subarray(0, 3).equals(h2Preface.subarray(0, 3))) h2.emit("connection", socket);
        else h1Server.emit("connection", socket);
      };
      const onEnd = (): void => void socket.destroy();
      socket.on("readable", onReadable);
      socket.once("end", onEnd);
    });
  }
  server.on("connection", (s: net.Socket) => {
    // gRPC messages are small and latency-bound; don't let Nagle hold them back.
    s.setNoDelay(true);
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as net.AddressInfo;

  return {
    host,
    port: addr.port,
    tls: opts.tls !== undefined,
    async close(graceMs = 2000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.close();
      h1?.close(); // ends its idle keep-alive connections and its connection-checking timer
      const timer = setTimeout(() => {
        for (const s of sessions) s.destroy();
        for (const s of sockets) s.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

/** Hands an upgrade request to the handler; what it does not take gets a 404 and is closed. */
function onUpgrade(handler: UpgradeHandler | undefined): (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on("error", () => socket.destroy());
    let taken = false;
    try {
      taken = handler?.(req, socket, head) ?? false;
    } catch {
      taken = false;
    }
    if (!taken && !socket.destroyed) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    }
  };
}

function trackSession(sessions: Set<http2.Http2Session>, s: http2.Http2Session): void {
  sessions.add(s);
  s.on("close", () => sessions.delete(s));
  // A broken client must not take the process down; the session just ends.
  s.on("error", () => s.destroy());
}

/**
 * When an HTTP/2 response ends before its request was read to the end (an early error such as
 * RESOURCE_EXHAUSTED on a huge upload), discard the rest of the request, as Node's HTTP/1 server
 * does. Otherwise nobody reads it, the flow-control window stays shut and the client waits forever
 * with the stream half open. (Resetting the stream instead can overtake the trailers in nghttp2.)
 */
function drainUnreadRequests(handler: RequestHandler): RequestHandler {
  return (req, res) => {
    if (res instanceof http2.Http2ServerResponse) {
      const { stream } = res;
      // Trailers are due: the response is complete and nothing will read the request any more. The
      // compat layer's data listener would pause the stream again (its request object may already
      // be destroyed), so it goes too.
      stream.on("wantTrailers", () => {
        if (stream.readableEnded) return;
        stream.removeAllListeners("data");
        stream.resume();
      });
    }
    handler(req, res);
  };
}
