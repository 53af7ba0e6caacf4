// Micro parts that dial in: a remote whose address is "dial-in" is reached over a WebSocket the
// part opens to the host (firmware/rpc/dial-in.ts), so the host never needs the part's address
// (NAT, DHCP). The WebSocket arrives on the host's own port at DIAL_IN_PATH (the HTTP/1.1 server's
// upgrade hook, host/server/listener.ts), is checked with the handshake of
// firmware/rpc/dial-in-protocol.ts (both ends prove they know the part key, neither sends it), and
// becomes the frame link of an ordinary MicroConnection (micro.ts): the host is the RPC client, the
// frames are length-prefixed in binary messages, as for ws://.
//
// Config: the remote names the part by its part id and holds its key, as for any remote:
//
//   { "name": "esp", "address": "dial-in",
//     "auth": { "entity": "<part_id>", "credentials": { "type": "api-key", "payload": "<part_key>" } } }
//
// A part id no dial-in remote names is answered 403 and logged; a part whose key differs is closed
// with 1008 and logged; neither touches anything else. A verified link waits ("parked") until the
// remote manager's next connection attempt takes it (attempts repeat every reconnect_interval
// while the part is away); a part that dials in again while its old link is still up replaces it
// (it rebooted, or its old link is a half-open leftover).
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import WebSocket, { WebSocketServer } from "ws";
import {
  DIAL_IN_PATH,
  DIAL_IN_PROTOCOL,
  NONCE_HEADER,
  NONCE_HEX_DIGITS,
  PART_ID_HEADER,
  PROOF_HEADER,
  dialInProofText,
} from "../../firmware/rpc/dial-in-protocol.js";
import { DEFAULT_MAX_FRAME_BYTES, encodeLengthPrefixed, LengthPrefixDecoder } from "../../proto/channel/index.js";
import type { RemoteConfig } from "../config/schema.js";
import type { RemoteTransport } from "./connection.js";
import type { FrameLink, FrameLinkHandlers, LinkOpener } from "./links.js";
import { MicroConnection } from "./micro.js";

export { DIAL_IN_PATH } from "../../firmware/rpc/dial-in-protocol.js";

/** The address that marks a remote as dialling in. */
export const DIAL_IN_ADDRESS = "dial-in";
/** How long a part has to send its proof after the upgrade. */
export const PROOF_TIMEOUT_MS = 10_000;

/** What the host expects of a dial-in remote. */
export interface DialInExpectation {
  readonly remote: string;
  readonly partId: string;
  readonly key: string;
}

/** The part id and key of a dial-in remote's config, or why it has none. */
export function dialInExpectation(config: RemoteConfig): DialInExpectation | string {
  const partId = config.auth.entity ?? "";
  const key = config.auth.credentials?.payload ?? "";
  if (partId === "" || key === "") {
    return `remote "${config.name}": a "dial-in" remote needs auth.entity (the part id) and auth.credentials.payload (the part key)`;
  }
  return { remote: config.name, partId, key };
}

function hmacHex(key: string, text: string): string {
  return createHmac("sha256", key).update(text, "utf8").digest("hex");
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A WebSocket from a part that passed the handshake. */
class AcceptedLink {
  readonly ws: WebSocket;
  readonly peer: string;
  readonly since = Date.now();
  #handlers: FrameLinkHandlers | undefined;
  #decoder: LengthPrefixDecoder | undefined;
  /** Bytes that came before anyone took the link. */
  readonly #early: Uint8Array[] = [];
  #closedHere = false;
  #gone: string | undefined;
  readonly #onGone: (link: AcceptedLink, reason: string) => void;

  constructor(ws: WebSocket, peer: string, onGone: (link: AcceptedLink, reason: string) => void) {
    this.ws = ws;
    this.peer = peer;
    this.#onGone = onGone;
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return this.#fail("the part sent a text message after the handshake");
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      if (this.#decoder) this.#decoder.push(bytes);
      else this.#early.push(bytes.slice());
    });
    ws.once("close", (code: number, reason: Buffer) => {
      const text = reason.toString("utf8");
      this.#ended(this.#gone ?? `the part closed the link (${code}${text ? ` ${text}` : ""})`);
    });
  }

  get open(): boolean {
    return this.#gone === undefined && this.ws.readyState === WebSocket.OPEN;
  }

  /** Hands the link to a connection. */
  take(handlers: FrameLinkHandlers): FrameLink {
    this.#handlers = handlers;
    this.#decoder = new LengthPrefixDecoder({
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      onFrame: (frame) => handlers.onFrame(frame),
      onError: (err) => this.#fail(`framing error: ${err.message}`),
    });
    for (const bytes of this.#early.splice(0)) this.#decoder.push(bytes);
    return {
      send: (frame) => {
        if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeLengthPrefixed(frame, Number.MAX_SAFE_INTEGER));
      },
      close: () => {
        this.#closedHere = true;
        this.close(1000, "closed by the host");
      },
    };
  }

  /** Closes the link; a connection that holds it is told (onClose), unless it asked for this itself. */
  close(code: number, reason: string): void {
    this.#gone ??= reason;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(code, reason);
      // A part that does not answer the close frame is not waited for.
      setTimeout(() => this.ws.terminate(), 1000).unref();
    }
  }

  #fail(reason: string): void {
    this.#gone ??= reason;
    this.ws.terminate();
  }

  #ended(reason: string): void {
    const handlers = this.#handlers;
    this.#handlers = undefined;
    this.#onGone(this, reason);
    if (handlers && !this.#closedHere) handlers.onClose(reason);
  }
}

/** Per dial-in remote: its part's link. */
interface Slot {
  expected: DialInExpectation;
  /** Verified, not yet taken. */
  parked?: AcceptedLink;
  /** Taken by a connection. */
  active?: AcceptedLink;
}

export interface DialInServerOptions {
  logger: Logger;
  /** Default DIAL_IN_PATH. */
  path?: string;
  /** Default PROOF_TIMEOUT_MS. */
  proofTimeoutMs?: number;
}

export class DialInServer {
  readonly path: string;
  readonly #logger: Logger;
  readonly #proofTimeoutMs: number;
  readonly #wss: WebSocketServer;
  /** Remote name → slot. */
  readonly #slots = new Map<string, Slot>();
  /** Response headers for an upgrade in progress. */
  readonly #responseHeaders = new WeakMap<IncomingMessage, string[]>();
  readonly #pending = new Set<WebSocket>();
  #closed = false;

  constructor(opts: DialInServerOptions) {
    this.path = opts.path ?? DIAL_IN_PATH;
    this.#logger = opts.logger;
    this.#proofTimeoutMs = opts.proofTimeoutMs ?? PROOF_TIMEOUT_MS;
    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: 1024 * 1024,
      handleProtocols: (protocols) => (protocols.has(DIAL_IN_PROTOCOL) ? DIAL_IN_PROTOCOL : false),
    });
    this.#wss.on("headers", (headers: string[], req: IncomingMessage) => {
      const extra = this.#responseHeaders.get(req);
      if (extra) headers.push(...extra);
    });
  }

  /** The dial-in remotes of a config (the others are ignored); remotes no longer listed lose their links. */
  configure(remotes: readonly RemoteConfig[]): void {
    const seen = new Set<string>();
    const byPart = new Map<string, string>();
    for (const r of remotes) {
      if (r.address.trim() !== DIAL_IN_ADDRESS) continue;
      const expected = dialInExpectation(r);
      if (typeof expected === "string") {
        this.#logger.warn(expected);
        continue;
      }
      const other = byPart.get(expected.partId);
      if (other !== undefined) {
        this.#logger.warn({ remote: r.name, other }, `remotes "${other}" and "${r.name}" both name part "${expected.partId}"; "${other}" gets its dial-ins`);
        continue;
      }
      byPart.set(expected.partId, r.name);
      seen.add(r.name);
      this.expect(expected);
    }
    for (const [name, slot] of [...this.#slots]) {
      if (seen.has(name)) continue;
      this.#slots.delete(name);
      slot.parked?.close(1000, "the host no longer has this part");
      slot.active?.close(1000, "the host no longer has this part");
    }
  }

  /** Adds or updates one remote's expectation; a changed part id or key drops its links. */
  expect(expected: DialInExpectation): void {
    const slot = this.#slots.get(expected.remote);
    if (!slot) {
      this.#slots.set(expected.remote, { expected });
      return;
    }
    if (slot.expected.partId === expected.partId && slot.expected.key === expected.key) return;
    slot.expected = expected;
    slot.parked?.close(1008, "part id or key changed on the host");
    slot.active?.close(1008, "part id or key changed on the host");
  }

  /** Whether a verified link of that remote is up (parked or in use). */
  linked(remote: string): boolean {
    const slot = this.#slots.get(remote);
    return (slot?.active?.open ?? false) || (slot?.parked?.open ?? false);
  }

  /**
   * A LinkOpener for the remote: the part's verified link, if it has dialled in; otherwise it fails
   * at once ("has not dialled in"), so the host's start never waits for a part, and the remote
   * manager's next attempt (within reconnect_interval) finds the link the part opens meanwhile.
   */
  opener(expected: DialInExpectation): LinkOpener {
    return (signal, handlers) => {
      if (this.#closed) return Promise.reject(new Error("the host is closing"));
      if (signal.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      this.expect(expected);
      const slot = this.#slots.get(expected.remote)!;
      const link = slot.parked;
      if (!link?.open) {
        return Promise.reject(new Error(`part "${expected.partId}" has not dialled in (it connects to ws://<this host>${this.path})`));
      }
      slot.parked = undefined;
      slot.active = link;
      return Promise.resolve(link.take(handlers));
    };
  }

  /** The listener's upgrade hook: takes requests for this.path. */
  readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? "/", "http://host").pathname;
    } catch {
      return false;
    }
    if (pathname !== this.path) return false;
    const from = `${req.socket.remoteAddress ?? "?"}:${req.socket.remotePort ?? "?"}`;
    const refuse = (status: number, phrase: string, why: string, log: "warn" | "info" = "warn") => {
      this.#logger[log]({ from }, `dial-in refused: ${why}`);
      const body = `${why}\n`;
      socket.end(
        `HTTP/1.1 ${status} ${phrase}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return true;
    };
    if (this.#closed) return refuse(503, "host closing", "the host is shutting down", "info");
    const protocols = String(req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
    if (!protocols.includes(DIAL_IN_PROTOCOL)) {
      return refuse(400, "not a Sprocket dial-in", `a WebSocket without the ${DIAL_IN_PROTOCOL} subprotocol`);
    }
    const partId = String(req.headers[PART_ID_HEADER.toLowerCase()] ?? "");
    const partNonce = String(req.headers[NONCE_HEADER.toLowerCase()] ?? "");
    if (partId === "") return refuse(400, "no part id", `no ${PART_ID_HEADER} header`);
    if (!new RegExp(`^[0-9a-f]{${NONCE_HEX_DIGITS}}$`).test(partNonce)) return refuse(400, "bad nonce", `no valid ${NONCE_HEADER} header from part "${partId}"`);
    const slot = [...this.#slots.values()].find((s) => s.expected.partId === partId);
    if (!slot) {
      return refuse(403, "unknown part id", `unknown part id "${partId}": no remote has "address": "dial-in" and auth.entity "${partId}"`);
    }
    const { remote, key } = slot.expected;
    const hostNonce = randomBytes(NONCE_HEX_DIGITS / 2).toString("hex");
    this.#responseHeaders.set(req, [
      `${NONCE_HEADER}: ${hostNonce}`,
      `${PROOF_HEADER}: ${hmacHex(key, dialInProofText("host", partId, partNonce, hostNonce))}`,
    ]);
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#responseHeaders.delete(req);
      this.#handshake(ws, { from, partId, remote, key, partNonce, hostNonce });
    });
    return true;
  };

  /** Waits for the part's proof; a verified link goes to the remote's slot. */
  #handshake(ws: WebSocket, h: { from: string; partId: string; remote: string; key: string; partNonce: string; hostNonce: string }): void {
    const log = this.#logger.child({ remote: h.remote, part: h.partId, from: h.from });
    if (this.#closed) {
      ws.close(1001, "host closing");
      return;
    }
    this.#pending.add(ws);
    let done = false;
    const finish = () => {
      done = true;
      clearTimeout(timer);
      this.#pending.delete(ws);
      ws.off("message", onMessage);
      ws.off("close", onClose);
    };
    const timer = setTimeout(() => {
      if (done) return;
      finish();
      log.warn(`dial-in refused: part "${h.partId}" sent no key proof within ${this.#proofTimeoutMs} ms`);
      ws.close(1008, "no key proof");
      setTimeout(() => ws.terminate(), 1000).unref();
    }, this.#proofTimeoutMs);
    const onClose = (code: number, reason: Buffer) => {
      if (done) return;
      finish();
      const text = reason.toString("utf8");
      if (code === 1008) {
        log.warn(
          `dial-in refused by part "${h.partId}": its part key differs from remote "${h.remote}"'s auth.credentials.payload` +
            (text ? ` (the part said: ${text})` : ""),
        );
      } else {
        log.warn(`dial-in from part "${h.partId}" ended during the handshake (${code}${text ? ` ${text}` : ""})`);
      }
    };
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (done) return;
      finish();
      const expected = hmacHex(h.key, dialInProofText("part", h.partId, h.partNonce, h.hostNonce));
      if (isBinary || !sameText(data.toString("utf8").trim(), expected)) {
        log.warn(`dial-in refused: wrong part key from part "${h.partId}" (remote "${h.remote}")`);
        ws.close(1008, "wrong part key");
        setTimeout(() => ws.terminate(), 1000).unref();
        return;
      }
      this.#accepted(ws, h.remote, h.from, h.partId, log);
    };
    ws.on("message", onMessage);
    ws.on("close", onClose);
    ws.on("error", () => undefined);
  }

  #accepted(ws: WebSocket, remote: string, from: string, partId: string, log: Logger): void {
    const slot = this.#slots.get(remote);
    if (!slot || slot.expected.partId !== partId) {
      ws.close(1008, "the host no longer has this part");
      return;
    }
    const link = new AcceptedLink(ws, `dial-in ${from}`, (l, reason) => {
      if (slot.parked === l) slot.parked = undefined;
      if (slot.active === l) {
        slot.active = undefined;
        log.info(`part "${partId}"'s dial-in link ended: ${reason}`);
      }
    });
    log.info(`part "${partId}" dialled in (remote "${remote}")`);
    const previous = slot.parked ?? slot.active;
    if (slot.parked) slot.parked = undefined;
    if (previous) {
      log.info(`part "${partId}" dialled in again: its previous link is closed`);
      // Its connection sees the link go (onClose), and comes back for the new one.
      previous.close(1000, "replaced by a new dial-in from the part");
    }
    slot.parked = link;
  }

  /** Closes every link and refuses new ones. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const ws of this.#pending) ws.terminate();
    this.#pending.clear();
    for (const slot of this.#slots.values()) {
      slot.parked?.close(1001, "host shutting down");
      slot.active?.close(1001, "host shutting down");
    }
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
  }
}

/**
 * The "dial-in" address as a transport: each connection waits for the part's verified link. The
 * link is authenticated by the handshake, so the connection sends no Authenticate (the key never
 * crosses the wire).
 */
export function dialInTransport(server: DialInServer): RemoteTransport {
  return {
    schemes: [DIAL_IN_ADDRESS],
    create: ({ config, logger, callTimeoutMs }) => {
      const expected = dialInExpectation(config);
      const open: LinkOpener =
        typeof expected === "string" ? () => Promise.reject(new Error(expected)) : server.opener(expected);
      return new MicroConnection({ open, auth: {}, callTimeoutMs, logger });
    },
  };
}
