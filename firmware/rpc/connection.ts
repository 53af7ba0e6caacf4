// One RPC connection of a micro part: a byte link (TCP socket or UART) → framing (4-byte length
// prefix on TCP, COBS + CRC-32 on the UART; proto/channel) → the shared gRPC-over-message-channel
// server (proto/channel/server.ts) with the compact frame codec → the dispatcher.
//
// Failure handling, per connection only (the firmware and the other connections carry on):
// - length-prefix framing cannot resynchronise, so a declared length above the limit, or a frame
//   left incomplete for FRAME_TIMEOUT_MS, closes the connection;
// - a frame that is not a valid Request (garbage that happened to be length-prefixed) closes it;
// - on the UART, bad frames are dropped and counted by the COBS decoder, never fatal.
// When a connection closes, its calls are cancelled and the actuators it commanded last stop.
import Timer from "timer";
import { CobsDecoder, encodeCobsFrame } from "../../proto/channel/cobs.js";
import { Code } from "../../proto/channel/frames.js";
import { LengthPrefixDecoder, encodeLengthPrefixed } from "../../proto/channel/length-prefix.js";
import { ChannelServer, type SetTimer } from "../../proto/channel/server.js";
import { DecodeError } from "../../proto/micro/runtime.js";
import { errorText, log } from "../log.js";
import type { Safety } from "../runtime/safety.js";
import type { ConnectionInfo, Dispatcher } from "./dispatcher.js";
import { microFrameCodec } from "./frame-codec.js";
import type { ByteLink } from "./links.js";

/**
 * Largest packet of message data per frame, both ways. XS on a classic ESP32 has about 77 KB of
 * chunk heap, shared by everything, so frames stay far below gRPC's 64 KiB packets: with 4
 * connections each holding a frame in reassembly, at most ~20 KiB goes to frame buffers. Larger
 * messages travel as several packets. Hosts dialling a micro part set their ChannelClient's
 * maxPacketBytes to this.
 */
export const MICRO_MAX_PACKET_BYTES = 4 * 1024;
/** Largest frame accepted: a full packet plus its Request wrapper (headers included). */
export const MICRO_MAX_FRAME_BYTES = MICRO_MAX_PACKET_BYTES + 1024;
/** Largest request message reassembled from packets (a SetConfig's JSON is the big one). */
export const MICRO_MAX_MESSAGE_BYTES = 32 * 1024;
/** A length-prefixed frame begun but not finished within this time closes its connection. */
export const FRAME_TIMEOUT_MS = 5000;

export type Framing = "length-prefix" | "cobs";

/** Moddable's `timer` as the channel's injected timer. A fired one-shot is not cleared again. */
export const timerSetTimer: SetTimer = (ms, fn) => {
  let timer: Timer | undefined = Timer.set(() => {
    timer = undefined;
    fn();
  }, ms);
  return () => {
    if (timer !== undefined) Timer.clear(timer);
    timer = undefined;
  };
};

let nextId = 1;

export interface ConnectionOptions {
  framing: Framing;
  dispatcher: Dispatcher;
  safety: Safety;
  /** Told once when the connection is over, whoever ended it. */
  onClosed?(connection: Connection): void;
  /** Default FRAME_TIMEOUT_MS. */
  frameTimeoutMs?: number;
}

export class Connection {
  readonly info: ConnectionInfo;
  readonly #server: ChannelServer;
  readonly #safety: Safety;
  readonly #onClosed: ((c: Connection) => void) | undefined;
  readonly #push: (chunk: Uint8Array) => void;
  readonly #partial: () => boolean;
  readonly #frameTimeoutMs: number;
  #link: ByteLink | undefined = undefined;
  #frameTimer: (() => void) | undefined = undefined;
  #closed = false;
  /** COBS decoder, for its counters (UART only). */
  readonly cobs: CobsDecoder | undefined;

  constructor(options: ConnectionOptions) {
    const id = nextId++;
    this.info = { id, peer: "connection " + id, authenticated: false };
    this.#safety = options.safety;
    this.#onClosed = options.onClosed;
    this.#frameTimeoutMs = options.frameTimeoutMs ?? FRAME_TIMEOUT_MS;
    const framing = options.framing;
    const dispatcher = options.dispatcher;
    this.#server = new ChannelServer({
      codec: microFrameCodec,
      send: (frame) => {
        const link = this.#link;
        if (link === undefined) return Promise.reject(new Error("connection closed"));
        return link.write(framing === "cobs" ? encodeCobsFrame(frame) : encodeLengthPrefixed(frame, MICRO_MAX_FRAME_BYTES));
      },
      dispatch: (call) => dispatcher.dispatch(call, this.info),
      setTimer: timerSetTimer,
      maxMessageBytes: MICRO_MAX_MESSAGE_BYTES,
      maxPacketBytes: MICRO_MAX_PACKET_BYTES,
      onProtocolError: (error) => {
        if (error instanceof DecodeError) this.close("undecodable frame: " + error.message);
        else log("debug", this.info.peer + ": " + errorText(error));
      },
    });
    const onFrame = (frame: Uint8Array) => this.#server.receive(frame);
    if (framing === "cobs") {
      const cobs = new CobsDecoder({
        onFrame,
        onDrop: (reason) => log("warn", this.info.peer + ": dropped a frame (" + reason + ")"),
        maxFrameBytes: MICRO_MAX_FRAME_BYTES,
      });
      this.cobs = cobs;
      this.#push = (chunk) => cobs.push(chunk);
      this.#partial = () => false;
    } else {
      const decoder = new LengthPrefixDecoder({
        onFrame,
        onError: (error) => this.close(error.message),
        maxFrameBytes: MICRO_MAX_FRAME_BYTES,
      });
      this.cobs = undefined;
      this.#push = (chunk) => decoder.push(chunk);
      this.#partial = () => decoder.partial;
    }
  }

  /** Connects the link (made after the connection, since its events call back here). */
  attach(link: ByteLink): void {
    this.#link = link;
    (this.info as { peer: string }).peer = link.peer;
    log("info", link.peer + ": connected as connection " + this.info.id);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Calls still running on this connection. */
  get activeCalls(): number {
    return this.#server.activeCalls;
  }

  /** Bytes from the link. */
  receive(chunk: Uint8Array): void {
    if (this.#closed) return;
    this.#push(chunk);
    if (this.#closed) return;
    if (this.#partial()) {
      if (this.#frameTimer === undefined) {
        const ms = this.#frameTimeoutMs;
        this.#frameTimer = timerSetTimer(ms, () => {
          this.#frameTimer = undefined;
          this.close("frame incomplete after " + ms + " ms");
        });
      }
    } else if (this.#frameTimer !== undefined) {
      this.#frameTimer();
      this.#frameTimer = undefined;
    }
  }

  /** The link went away by itself. */
  linkClosed(): void {
    this.#finish("closed by peer", false);
  }

  /** Ends the connection from this side. */
  close(reason: string): void {
    this.#finish(reason, true);
  }

  #finish(reason: string, closeLink: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    log("info", this.info.peer + ": " + reason);
    this.#frameTimer?.();
    this.#frameTimer = undefined;
    this.#server.close({ code: Code.UNAVAILABLE, message: "connection closed: " + reason }, false);
    const link = this.#link;
    this.#link = undefined;
    if (closeLink) link?.close();
    this.#safety.connectionClosed(this.info.id);
    this.#onClosed?.(this);
  }
}
