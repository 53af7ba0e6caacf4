// The part's link to its host when it dials in (Preference key `host`, e.g.
// ws://192.168.1.10:8080 or ws://robot-host.local:8080): a WebSocket out to the host
// (./ws-client.ts), the handshake of ./dial-in-protocol.ts proving both ends know the part key, then
// one RPC Connection on it, served like a TCP client's (length-prefixed frames as a byte stream in
// binary messages). The host is the RPC client; the part never needs to be reachable, so NAT and
// DHCP on the part's side do not matter.
//
// A host name in the URL is resolved before every attempt (DNS, or mDNS for `.local` names), so a
// host whose address DHCP changed is found at its new address on the next reconnect; the Host
// header keeps the name. A name that does not resolve counts as a failed attempt.
//
// When the link drops (host restarted, Wi-Fi lost, host silent for two ping intervals, handshake
// refused) the connection closes, so the actuators it commanded stop (Safety), and the part dials
// again after a backoff: `initialBackoffMs`, doubled after each failed attempt up to
// `maxBackoffMs`, back to the start once a handshake succeeds.
//
// The dial-in connection is not one of the TCP server's MAX_CONNECTIONS: it has its own socket
// (one more lwIP socket: listener + 4 clients + 1 being refused + 1 dial-in = 7 of the 8 that
// firmware/sdkconfig/sdkconfig.defaults allows).
import Timer from "timer";
import { errorText, log } from "../log.js";
import { resolveHost } from "../platform/network.js";
import type { Safety } from "../runtime/safety.js";
import { hmacSha256, randomBytes, toHex } from "../util/hash.js";
import { utf8Decode, utf8Encode } from "../util/utf8.js";
import { constantTimeEqual } from "./auth.js";
import { Connection, MICRO_MAX_FRAME_BYTES } from "./connection.js";
import {
  DIAL_IN_PROTOCOL,
  NONCE_HEADER,
  NONCE_HEX_DIGITS,
  PART_ID_HEADER,
  PROOF_HEADER,
  dialInProofText,
  parseDialInUrl,
  type DialInUrl,
} from "./dial-in-protocol.js";
import type { Dispatcher } from "./dispatcher.js";
import type { ByteLink } from "./links.js";
import { CLOSE_GOING_AWAY, CLOSE_NORMAL, WebSocketClient } from "./ws-client.js";

export const DEFAULT_INITIAL_BACKOFF_MS = 1000;
export const DEFAULT_MAX_BACKOFF_MS = 30_000;

export interface DialInOptions {
  /** The `host` Preference value. */
  url: string;
  partId: string;
  partKey: string;
  dispatcher: Dispatcher;
  safety: Safety;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** See WebSocketClient (default 15 000 ms). */
  pingIntervalMs?: number;
  /** See Connection. */
  frameTimeoutMs?: number;
}

export type DialInState = "connecting" | "connected" | "waiting" | "stopped";

/** The WebSocket as the Connection's byte link. */
class WsLink implements ByteLink {
  readonly peer: string;
  readonly #ws: WebSocketClient;

  constructor(ws: WebSocketClient, peer: string) {
    this.#ws = ws;
    this.peer = peer;
  }

  write(bytes: Uint8Array): void | Promise<void> {
    return this.#ws.send(bytes);
  }

  close(): void {
    this.#ws.close(CLOSE_NORMAL, "connection closed");
  }
}

export class DialIn {
  readonly url: string;
  readonly #target: DialInUrl | undefined;
  readonly #options: DialInOptions;
  readonly #initialMs: number;
  readonly #maxMs: number;
  #state: DialInState = "waiting";
  #backoffMs: number;
  #ws: WebSocketClient | undefined = undefined;
  #timer: Timer | undefined = undefined;
  /** Bumped per attempt, so events of an old attempt are ignored. */
  #attempt = 0;
  /** The RPC connection on the current link, once the handshake is done. */
  connection: Connection | undefined = undefined;
  /** Links that completed the handshake since boot. */
  connects = 0;
  /** The host's IP address on the current or last attempt (the URL's, or what its name resolved to). */
  hostAddress: string | undefined = undefined;
  /** Why the last attempt or link ended. */
  lastError: string | undefined = undefined;

  constructor(options: DialInOptions) {
    this.url = options.url;
    this.#options = options;
    this.#initialMs = options.initialBackoffMs ?? DEFAULT_INITIAL_BACKOFF_MS;
    this.#maxMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.#backoffMs = this.#initialMs;
    const target = parseDialInUrl(options.url);
    if (typeof target === "string") {
      this.#target = undefined;
      this.#state = "stopped";
      this.lastError = target;
      log("error", "dial-in: " + target);
      return;
    }
    this.#target = target;
  }

  get state(): DialInState {
    return this.#state;
  }

  /** Dials now (the network is up). */
  start(): void {
    if (this.#target === undefined || this.#state === "connecting" || this.#state === "connected") return;
    if (this.#timer !== undefined) Timer.clear(this.#timer);
    this.#timer = undefined;
    this.#dial();
  }

  stop(): void {
    if (this.#state === "stopped") return;
    this.#state = "stopped";
    this.#attempt++;
    if (this.#timer !== undefined) Timer.clear(this.#timer);
    this.#timer = undefined;
    const connection = this.connection;
    this.connection = undefined;
    connection?.close("dial-in stopped");
    this.#ws?.close(CLOSE_GOING_AWAY, "part stopping");
    this.#ws = undefined;
  }

  #dial(): void {
    const target = this.#target as DialInUrl;
    const attempt = ++this.#attempt;
    this.#state = "connecting";
    if (!target.isName) {
      this.#connect(target.address, attempt);
      return;
    }
    const name = target.address;
    try {
      // Every attempt asks again: the address may have changed since the last one.
      resolveHost(name, (_name, address) => {
        if (attempt !== this.#attempt) return;
        if (address === undefined) this.#down("cannot resolve host " + name, "dial-in: cannot resolve host " + name);
        else this.#connect(address, attempt);
      });
    } catch (error) {
      // lwIP refused the lookup (or the callback above failed).
      if (attempt === this.#attempt) this.#down("cannot resolve host " + name + ": " + errorText(error), "dial-in: cannot resolve host " + name);
    }
  }

  /** Opens the WebSocket to the host at `address` (an IP address). */
  #connect(address: string, attempt: number): void {
    const target = this.#target as DialInUrl;
    const options = this.#options;
    this.hostAddress = address;
    const partNonce = toHex(randomBytes(NONCE_HEX_DIGITS / 2));
    let ws: WebSocketClient;
    try {
      ws = new WebSocketClient({
        address,
        port: target.port,
        path: target.path,
        host: target.host,
        protocol: DIAL_IN_PROTOCOL,
        headers: [
          [PART_ID_HEADER, options.partId],
          [NONCE_HEADER, partNonce],
        ],
        maxMessageBytes: MICRO_MAX_FRAME_BYTES + 16,
        ...(options.pingIntervalMs === undefined ? {} : { pingIntervalMs: options.pingIntervalMs }),
        onOpen: (response) => {
          if (attempt !== this.#attempt) throw new Error("superseded");
          this.#handshake(ws, response.headers, partNonce);
        },
        onMessage: (data, binary) => {
          if (attempt !== this.#attempt) return;
          if (binary) this.connection?.receive(data);
          else log("warn", "dial-in: ignored a text message from the host: " + utf8Decode(data).slice(0, 80));
        },
        onClose: (reason) => {
          if (attempt === this.#attempt) this.#down(reason);
        },
      });
    } catch (error) {
      this.#down("cannot open a socket: " + errorText(error));
      return;
    }
    this.#ws = ws;
  }

  /** Checks the host's proof, sends ours and starts serving; throws to refuse the host. */
  #handshake(ws: WebSocketClient, headers: { readonly [name: string]: string }, partNonce: string): void {
    const { partId, partKey } = this.#options;
    const hostNonce = headers[NONCE_HEADER.toLowerCase()] ?? "";
    const proof = headers[PROOF_HEADER.toLowerCase()] ?? "";
    if (hostNonce.length !== NONCE_HEX_DIGITS) throw new Error("the host sent no nonce (is it a Sprocket host?)");
    const expected = toHex(hmacSha256(partKey, dialInProofText("host", partId, partNonce, hostNonce)));
    if (!constantTimeEqual(proof, expected)) {
      throw new Error("the host did not prove it knows this part's key (its remote for " + partId + " has another key, or it is not this part's host)");
    }
    void Promise.resolve(ws.send(utf8Encode(toHex(hmacSha256(partKey, dialInProofText("part", partId, partNonce, hostNonce)))), false)).catch(
      () => undefined,
    );
    const options = this.#options;
    const connection = new Connection({
      framing: "length-prefix",
      dispatcher: options.dispatcher,
      safety: options.safety,
      ...(options.frameTimeoutMs === undefined ? {} : { frameTimeoutMs: options.frameTimeoutMs }),
      onClosed: (c) => {
        if (this.connection !== c) return;
        this.connection = undefined;
        // The connection gave up on the link (bad frames): drop it and dial again.
        if (this.#ws === ws) this.#down("connection closed");
      },
    });
    // The handshake authenticated the link: both ends know the part key.
    connection.info.authenticated = true;
    connection.attach(new WsLink(ws, "dial-in " + this.url));
    this.connection = connection;
    this.#state = "connected";
    this.connects++;
    this.#backoffMs = this.#initialMs;
    const target = this.#target as DialInUrl;
    log("info", "dial-in: connected to " + this.url + (target.isName ? " (" + this.hostAddress + ")" : "") + " as " + partId);
  }

  /**
   * The link is gone (or never came): close the connection (stopping what it commanded) and dial
   * again later. `warning` is the log line's text before the delay.
   */
  #down(reason: string, warning = "dial-in to " + this.url + ": " + reason): void {
    if (this.#state === "stopped") return;
    this.#attempt++;
    const ws = this.#ws;
    this.#ws = undefined;
    ws?.close(CLOSE_NORMAL, "");
    const connection = this.connection;
    this.connection = undefined;
    connection?.linkClosed();
    this.lastError = reason;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#maxMs, this.#backoffMs * 2);
    this.#state = "waiting";
    log("warn", warning + "; dialling again in " + delay + " ms");
    this.#timer = Timer.set(() => {
      this.#timer = undefined;
      if (this.#state === "waiting") this.#dial();
    }, delay);
  }
}
