// A minimal RFC 6455 WebSocket client over an ECMA-419 TCP socket (`embedded:io/socket/tcp`), for
// the dial-in link (./dial-in.ts): the part connects out to its host and serves RPC over it.
//
// Why not the Client class of Moddable's own "websocket" module: it sends
// its frames UNMASKED (shared/specs/esp32-moddable-flashing.md §3). RFC 6455 §5.1 requires every
// client-to-server frame to be masked and a server to close the connection on an unmasked one, and
// compliant servers do (the `ws` package the host uses answers 1002 "MASK must be set"). It also
// handles single-frame messages only and sits on the legacy `socket` module rather than ECMA-419
// IO. What is needed here is small: the opening handshake (checking Sec-WebSocket-Accept), masked
// binary frames out, binary and text messages in (fragmented or not), ping/pong, close.
//
// Behaviour:
// - the opening handshake must answer 101 with a matching Sec-WebSocket-Accept (and the requested
//   subprotocol) within `handshakeTimeoutMs`; any other answer fails the connection with its status
//   line as the reason (a host refusing a part says why in its reason phrase);
// - frames from the server must not be masked, reserved bits must be 0, control frames must be
//   short and unfragmented; a message above `maxMessageBytes` closes with 1009; violations close
//   with 1002 (RFC 6455 §7.4.1);
// - pings are answered with pongs. When nothing at all has arrived for a whole `pingIntervalMs`,
//   the client pings; when nothing arrives during the next interval either, the host is taken as
//   gone (a host that lost power sends no FIN, and TCP alone would wait for hours);
// - a close frame from the host is answered and the socket closed; close() sends one and closes
//   the socket when the host answers, or after CLOSE_WAIT_MS.
// `onClose` tells of every end except close(): a closed socket, a failed handshake, a protocol
// error, a close frame, silence. Text messages are delivered as their bytes (UTF-8 not checked).
import Timer from "timer";
import { errorText, log } from "../log.js";
import { TCP } from "../platform/network.js";
import { randomBytes, sha1, toBase64 } from "../util/hash.js";
import { utf8Decode, utf8Encode } from "../util/utf8.js";
import { WriteQueue } from "./links.js";

/** RFC 6455 §1.3: appended to the key before hashing. */
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_TOO_BIG = 1009;

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** Largest response header block accepted. */
const MAX_HANDSHAKE_BYTES = 4096;
/** How long close() waits for the host's close frame before closing the socket. */
const CLOSE_WAIT_MS = 1000;
/** Bytes read from the socket per call. */
const RX_CHUNK = 512;

export interface HandshakeResponse {
  /** Response headers, names in lower case. */
  readonly headers: { readonly [name: string]: string };
}

export interface WebSocketClientOptions {
  /** The host's IP address (ECMA-419 sockets take addresses, not names). */
  address: string;
  port: number;
  /** Request target, e.g. "/micro/dial-in". */
  path: string;
  /** Host header; default address:port. */
  host?: string;
  /** Extra request headers. */
  headers?: readonly (readonly [string, string])[];
  /** Sec-WebSocket-Protocol to ask for; the server must select it. */
  protocol?: string;
  /** Default 10 000 ms. */
  handshakeTimeoutMs?: number;
  /** Silence before a ping, and again before giving up; 0 turns it off. Default 15 000 ms. */
  pingIntervalMs?: number;
  /** Largest message accepted (fragments together). Default 16 KiB. */
  maxMessageBytes?: number;
  /** The handshake succeeded; messages may be sent. Throwing fails the connection with the error's text. */
  onOpen?(response: HandshakeResponse): void;
  /** One whole message; the bytes belong to the callee. */
  onMessage?(data: Uint8Array, binary: boolean): void;
  /** The connection ended by itself (not by close()); once. */
  onClose?(reason: string, code: number | undefined): void;
}

type State = "connecting" | "open" | "closing" | "closed";

function indexOfHeaderEnd(buf: Uint8Array, length: number): number {
  for (let i = 3; i < length; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i + 1;
  }
  return -1;
}

/** Whether a comma-separated header value lists `token` (case-insensitive). */
function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const parts = value.toLowerCase().split(",");
  for (let i = 0; i < parts.length; i++) if (parts[i].trim() === token) return true;
  return false;
}

/** One masked frame (RFC 6455 §5.2), FIN set. */
export function encodeClientFrame(opcode: number, payload: Uint8Array, mask: Uint8Array = randomBytes(4)): Uint8Array {
  const n = payload.length;
  const ext = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + 4 + n);
  out[0] = 0x80 | opcode;
  if (ext === 0) out[1] = 0x80 | n;
  else if (ext === 2) {
    out[1] = 0x80 | 126;
    out[2] = n >> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = 0x80 | 127;
    // Messages here are far below 2^32 bytes: the top four length bytes stay 0.
    out[6] = n >>> 24;
    out[7] = (n >>> 16) & 0xff;
    out[8] = (n >>> 8) & 0xff;
    out[9] = n & 0xff;
  }
  const at = 2 + ext;
  out.set(mask, at);
  for (let i = 0; i < n; i++) out[at + 4 + i] = payload[i] ^ mask[i & 3];
  return out;
}

export class WebSocketClient {
  readonly peer: string;
  #state: State = "connecting";
  #socket: TCP | undefined;
  readonly #queue: WriteQueue;
  readonly #options: WebSocketClientOptions;
  readonly #key: string;
  readonly #maxMessageBytes: number;
  readonly #chunk = new Uint8Array(RX_CHUNK);
  #rx = new Uint8Array(1024);
  #rxLength = 0;
  /** A fragmented message being put together. */
  #fragments: Uint8Array[] | undefined = undefined;
  #fragmentBytes = 0;
  #fragmentBinary = true;
  #heard = false;
  #pinged = false;
  #pingTimer: Timer | undefined = undefined;
  #deadline: Timer | undefined = undefined;

  constructor(options: WebSocketClientOptions) {
    this.#options = options;
    this.#maxMessageBytes = options.maxMessageBytes ?? 16 * 1024;
    this.peer = "ws " + options.address + ":" + options.port + options.path;
    this.#key = toBase64(randomBytes(16));
    this.#queue = new WriteQueue((bytes) => {
      const left = (this.#socket as TCP).write(bytes) as unknown;
      return typeof left === "number" ? left : undefined;
    });
    const host = options.host ?? options.address + ":" + options.port;
    let request =
      "GET " + options.path + " HTTP/1.1\r\n" +
      "Host: " + host + "\r\n" +
      "Upgrade: websocket\r\n" +
      "Connection: Upgrade\r\n" +
      "Sec-WebSocket-Key: " + this.#key + "\r\n" +
      "Sec-WebSocket-Version: 13\r\n";
    if (options.protocol !== undefined) request += "Sec-WebSocket-Protocol: " + options.protocol + "\r\n";
    const extra = options.headers ?? [];
    for (let i = 0; i < extra.length; i++) request += extra[i][0] + ": " + extra[i][1] + "\r\n";
    request += "\r\n";
    this.#socket = new TCP({
      address: options.address,
      port: options.port,
      nodelay: true,
      onReadable: (count: number) => this.#read(count),
      onWritable: (space: number) => {
        this.#queue.space = space;
        try {
          this.#queue.drain();
        } catch (error) {
          this.#fail("write failed: " + errorText(error), undefined);
        }
      },
      onError: () => this.#fail(this.#state === "connecting" ? "cannot connect (or connection lost during the handshake)" : "connection lost", undefined),
    });
    // Sent once the socket connects (its first onWritable).
    void Promise.resolve(this.#queue.push(utf8Encode(request))).catch(() => undefined);
    this.#deadline = Timer.set(() => {
      this.#deadline = undefined;
      if (this.#state === "connecting") this.#fail("no handshake answer within " + (options.handshakeTimeoutMs ?? 10_000) + " ms", undefined);
    }, options.handshakeTimeoutMs ?? 10_000);
  }

  get open(): boolean {
    return this.#state === "open";
  }

  /** Sends one message (binary unless `binary` is false). A Promise means "the socket is backed up". */
  send(data: Uint8Array, binary = true): void | Promise<void> {
    if (this.#state !== "open") return Promise.reject(new Error("websocket not open"));
    return this.#queue.push(encodeClientFrame(binary ? OP_BINARY : OP_TEXT, data));
  }

  /** Starts the closing handshake; no onClose follows. */
  close(code = CLOSE_NORMAL, reason = ""): void {
    const state = this.#state;
    if (state === "closed" || state === "closing") return;
    if (state === "connecting") {
      this.#teardown();
      return;
    }
    this.#state = "closing";
    this.#sendClose(code, reason);
    this.#options.onClose = undefined;
    this.#deadline = Timer.set(() => {
      this.#deadline = undefined;
      this.#teardown();
    }, CLOSE_WAIT_MS);
  }

  #sendClose(code: number, reason: string): void {
    const text = utf8Encode(reason.length > 100 ? reason.slice(0, 100) : reason);
    const payload = new Uint8Array(2 + text.length);
    payload[0] = code >> 8;
    payload[1] = code & 0xff;
    payload.set(text, 2);
    try {
      void Promise.resolve(this.#queue.push(encodeClientFrame(OP_CLOSE, payload))).catch(() => undefined);
    } catch {
      // The socket is going anyway.
    }
  }

  #read(count: number): void {
    const chunk = this.#chunk;
    while (count > 0 && this.#socket !== undefined) {
      const n = count < RX_CHUNK ? count : RX_CHUNK;
      const into = n === RX_CHUNK ? chunk : chunk.subarray(0, n);
      try {
        this.#socket.read(into);
      } catch (error) {
        this.#fail("read failed: " + errorText(error), undefined);
        return;
      }
      count -= n;
      this.#append(into);
    }
    this.#heard = true;
    this.#pinged = false;
    this.#process();
  }

  #append(bytes: Uint8Array): void {
    const need = this.#rxLength + bytes.length;
    if (need > this.#rx.length) {
      let size = this.#rx.length * 2;
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#rx.subarray(0, this.#rxLength));
      this.#rx = next;
    }
    this.#rx.set(bytes, this.#rxLength);
    this.#rxLength = need;
  }

  #consume(n: number): void {
    this.#rx.copyWithin(0, n, this.#rxLength);
    this.#rxLength -= n;
    // Give back a buffer a big message grew, once it is empty again.
    if (this.#rxLength === 0 && this.#rx.length > 4096) this.#rx = new Uint8Array(1024);
  }

  #process(): void {
    if (this.#state === "connecting") {
      const end = indexOfHeaderEnd(this.#rx, this.#rxLength);
      if (end < 0) {
        if (this.#rxLength > MAX_HANDSHAKE_BYTES) this.#fail("handshake answer too long", undefined);
        return;
      }
      const text = utf8Decode(this.#rx.subarray(0, end - 4));
      this.#consume(end);
      if (!this.#handshake(text)) return;
    }
    while (this.#state === "open" || this.#state === "closing") {
      if (!this.#frame()) return;
    }
  }

  /** Checks the server's answer; true when the connection is open. */
  #handshake(text: string): boolean {
    const lines = text.split("\r\n");
    const status = lines[0];
    const m = /^HTTP\/1\.1 (\d{3})(?: (.*))?$/.exec(status);
    if (m === null || m[1] !== "101") {
      this.#fail("host answered " + JSON.stringify(status), undefined);
      return false;
    }
    const headers: { [name: string]: string } = {};
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(":");
      if (colon <= 0) continue;
      const name = lines[i].slice(0, colon).trim().toLowerCase();
      const value = lines[i].slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : headers[name] + ", " + value;
    }
    const expected = toBase64(sha1(this.#key + WS_GUID));
    let problem: string | undefined;
    if (!hasToken(headers["upgrade"], "websocket")) problem = "no Upgrade: websocket";
    else if (!hasToken(headers["connection"], "upgrade")) problem = "no Connection: Upgrade";
    else if (headers["sec-websocket-accept"] !== expected) problem = "wrong Sec-WebSocket-Accept";
    else if (this.#options.protocol !== undefined && headers["sec-websocket-protocol"] !== this.#options.protocol) {
      problem = "subprotocol " + this.#options.protocol + " not selected";
    }
    if (problem !== undefined) {
      this.#fail("bad handshake answer: " + problem, undefined);
      return false;
    }
    if (this.#deadline !== undefined) Timer.clear(this.#deadline);
    this.#deadline = undefined;
    this.#state = "open";
    const interval = this.#options.pingIntervalMs ?? 15_000;
    if (interval > 0) this.#pingTimer = Timer.repeat(() => this.#tick(), interval);
    try {
      this.#options.onOpen?.({ headers });
    } catch (error) {
      this.#protocolError(CLOSE_POLICY_VIOLATION, errorText(error));
      return false;
    }
    return this.#state === "open";
  }

  #tick(): void {
    if (this.#state !== "open") return;
    if (this.#heard) {
      this.#heard = false;
      return;
    }
    if (this.#pinged) {
      this.#fail("host not answering (no data or pong for " + 2 * (this.#options.pingIntervalMs ?? 15_000) + " ms)", undefined);
      return;
    }
    this.#pinged = true;
    void Promise.resolve(this.#queue.push(encodeClientFrame(OP_PING, new Uint8Array(0)))).catch(() => undefined);
  }

  /** Handles one complete frame from the buffer; false when more bytes are needed (or it failed). */
  #frame(): boolean {
    const rx = this.#rx;
    const have = this.#rxLength;
    if (have < 2) return false;
    const b0 = rx[0];
    const b1 = rx[1];
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if ((b0 & 0x70) !== 0) return this.#protocolError(CLOSE_PROTOCOL_ERROR, "reserved bits set");
    if ((b1 & 0x80) !== 0) return this.#protocolError(CLOSE_PROTOCOL_ERROR, "masked frame from the server");
    let length = b1 & 0x7f;
    let at = 2;
    if (length === 126) {
      if (have < 4) return false;
      length = (rx[2] << 8) | rx[3];
      at = 4;
    } else if (length === 127) {
      if (have < 10) return false;
      if (rx[2] !== 0 || rx[3] !== 0 || rx[4] !== 0 || rx[5] !== 0 || rx[6] >= 0x80) {
        return this.#protocolError(CLOSE_TOO_BIG, "message too big");
      }
      length = ((rx[6] << 24) | (rx[7] << 16) | (rx[8] << 8) | rx[9]) >>> 0;
      at = 10;
    }
    const control = (opcode & 0x08) !== 0;
    if (control && (length > 125 || !fin)) return this.#protocolError(CLOSE_PROTOCOL_ERROR, "bad control frame");
    if (!control && length + this.#fragmentBytes > this.#maxMessageBytes) {
      return this.#protocolError(CLOSE_TOO_BIG, "message above " + this.#maxMessageBytes + " bytes");
    }
    if (have < at + length) return false;
    const payload = rx.slice(at, at + length);
    this.#consume(at + length);
    switch (opcode) {
      case OP_CONTINUATION:
      case OP_TEXT:
      case OP_BINARY:
        return this.#data(opcode, fin, payload);
      case OP_PING:
        if (this.#state === "open") void Promise.resolve(this.#queue.push(encodeClientFrame(OP_PONG, payload))).catch(() => undefined);
        return true;
      case OP_PONG:
        return true;
      case OP_CLOSE: {
        const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : undefined;
        const reason = payload.length > 2 ? utf8Decode(payload.subarray(2)) : "";
        if (this.#state === "open") this.#sendClose(code ?? CLOSE_NORMAL, "");
        this.#fail("closed by the host" + (code === undefined ? "" : " (" + code + (reason ? " " + reason : "") + ")"), code, true);
        return false;
      }
      default:
        return this.#protocolError(CLOSE_PROTOCOL_ERROR, "unknown opcode " + opcode);
    }
  }

  #data(opcode: number, fin: boolean, payload: Uint8Array): boolean {
    if (opcode === OP_CONTINUATION) {
      if (this.#fragments === undefined) return this.#protocolError(CLOSE_PROTOCOL_ERROR, "continuation without a message");
      this.#fragments.push(payload);
      this.#fragmentBytes += payload.length;
      if (!fin) return true;
      const whole = new Uint8Array(this.#fragmentBytes);
      let at = 0;
      for (const part of this.#fragments) {
        whole.set(part, at);
        at += part.length;
      }
      this.#fragments = undefined;
      this.#fragmentBytes = 0;
      this.#deliver(whole, this.#fragmentBinary);
      return this.#state === "open" || this.#state === "closing";
    }
    if (this.#fragments !== undefined) return this.#protocolError(CLOSE_PROTOCOL_ERROR, "new message inside a fragmented one");
    if (!fin) {
      this.#fragments = [payload];
      this.#fragmentBytes = payload.length;
      this.#fragmentBinary = opcode === OP_BINARY;
      return true;
    }
    this.#deliver(payload, opcode === OP_BINARY);
    return this.#state === "open" || this.#state === "closing";
  }

  #deliver(data: Uint8Array, binary: boolean): void {
    if (this.#state !== "open") return;
    try {
      this.#options.onMessage?.(data, binary);
    } catch (error) {
      log("warn", this.peer + ": message handler failed: " + errorText(error));
    }
  }

  /** Closes with `code` after a violation; always false (for #frame's return). */
  #protocolError(code: number, reason: string): boolean {
    if (this.#state === "open") this.#sendClose(code, reason);
    this.#fail(reason, code);
    return false;
  }

  /** Ends the connection and tells onClose (unless close() came first). */
  #fail(reason: string, code: number | undefined, flush = false): void {
    if (this.#state === "closed") return;
    const onClose = this.#options.onClose;
    this.#options.onClose = undefined;
    if (flush) {
      // Let an answering close frame leave before the socket goes.
      this.#state = "closing";
      if (this.#deadline !== undefined) Timer.clear(this.#deadline);
      this.#deadline = Timer.set(() => {
        this.#deadline = undefined;
        this.#teardown();
      }, 50);
    } else {
      this.#teardown();
    }
    onClose?.(reason, code);
  }

  #teardown(): void {
    this.#state = "closed";
    if (this.#pingTimer !== undefined) Timer.clear(this.#pingTimer);
    this.#pingTimer = undefined;
    if (this.#deadline !== undefined) Timer.clear(this.#deadline);
    this.#deadline = undefined;
    this.#fragments = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    this.#queue.fail(new Error("websocket closed"));
    try {
      socket?.close();
    } catch {
      // Closed already.
    }
  }
}
