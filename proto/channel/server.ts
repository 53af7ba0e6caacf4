// Server end of gRPC over one message channel (a WebRTC data channel, a TCP
// socket, a UART link): spec 3.4-3.10, mirroring goutils' webrtcServerChannel
// and webrtcServerStream. Portable: no host APIs, timers come by injection.

import {
  ChannelError,
  Code,
  statusFromError,
  type FrameCodec,
  type Metadata,
  type RequestHeadersFrame,
  type RequestMessageFrame,
  type ResponseFrame,
  type Status,
} from "./frames.js";
import { MAX_MESSAGE_BYTES, MAX_RESPONSE_PACKET_BYTES, MessageAssembler, splitMessage } from "./packets.js";
import { AsyncQueue, Outbox, type SendFn } from "./queue.js";

/** Starts a timer; returns a function that cancels it. */
export type SetTimer = (ms: number, fn: () => void) => () => void;

export interface ChannelServerOptions {
  codec: FrameCodec;
  /** Sends one encoded Response. A returned Promise means "wait before sending more". */
  send: SendFn;
  /** Called once per call, as soon as its headers arrive. */
  dispatch(call: ServerCall): void;
  setTimer: SetTimer;
  /** Reassembly limit per request message; default 32 MiB like Go. */
  maxMessageBytes?: number;
  /** Data bytes per response packet; default 65 513 like Go. */
  maxPacketBytes?: number;
  /**
   * Problems nobody else can be told about: undecodable frames, frames
   * without a stream, failed sends nobody awaits, throwing onCancel callbacks.
   * The channel keeps working.
   */
  onProtocolError?(err: unknown): void;
}

/** One incoming call, as the handler sees it. */
export interface ServerCall {
  readonly streamId: bigint;
  readonly method: string;
  readonly metadata: Metadata;
  /** From the request headers; undefined or 0 means no deadline. */
  readonly timeoutMs: number | undefined;
  /**
   * Complete request messages, ending when the client half-closes. A unary
   * handler takes the first one and must not wait for the end: the TS SDK
   * never half-closes unary calls. Rejects with a ChannelError once the call
   * is cancelled.
   */
  readonly requests: AsyncIterable<Uint8Array>;
  /** The call was ended by the client or the channel, not by `finish`. */
  readonly cancelled: boolean;
  readonly cancelReason: Status | undefined;
  /** Trailers have been queued (by `finish` or by a cancellation); nothing more goes out. */
  readonly finished: boolean;
  /** Runs `cb` on cancellation (at once if already cancelled); returns an unregister function. */
  onCancel(cb: (reason: Status) => void): () => void;
  /** Sends the response headers now. False when they were already sent (the metadata is then dropped). */
  sendHeaders(metadata?: Metadata): boolean;
  /** Sends one response message; resolves once the channel took all its packets. */
  sendMessage(bytes: Uint8Array): Promise<void>;
  /** Ends the call with trailers. Only the first call counts. */
  finish(status: Status, trailerMetadata?: Metadata): void;
}

const CANCELLED_BY_CLIENT: Status = { code: Code.CANCELLED, message: "request cancelled" };
const DEADLINE: Status = { code: Code.DEADLINE_EXCEEDED, message: "context deadline exceeded" };
const CHANNEL_CLOSED: Status = { code: Code.UNAVAILABLE, message: "channel closed" };

export class ChannelServer {
  private readonly streams = new Map<bigint, ServerStream>();
  /** @internal */ readonly outbox: Outbox<ResponseFrame>;
  /** @internal */ readonly maxPacketBytes: number;
  private readonly maxMessageBytes: number;
  private closedFlag = false;

  constructor(private readonly opts: ChannelServerOptions) {
    this.maxPacketBytes = opts.maxPacketBytes ?? MAX_RESPONSE_PACKET_BYTES;
    this.maxMessageBytes = opts.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    // Validate once here rather than on every sendMessage.
    splitMessage(new Uint8Array(0), this.maxPacketBytes);
    const codec = opts.codec;
    this.outbox = new Outbox<ResponseFrame>((f) => codec.encodeResponse(f), opts.send, (err) => this.report(err));
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Calls whose trailers have not been queued yet. */
  get activeCalls(): number {
    return this.streams.size;
  }

  /**
   * Takes one encoded Request. The bytes are owned by the server from then
   * on: request messages handed to handlers may be views into them.
   */
  receive(bytes: Uint8Array): void {
    if (this.closedFlag) return;
    let frame;
    try {
      frame = this.opts.codec.decodeRequest(bytes);
    } catch (err) {
      this.report(err);
      return;
    }
    const id = frame.streamId;
    if (id === undefined) {
      this.report(new Error("request without stream; dropped"));
      return;
    }
    const stream = this.streams.get(id);
    if (stream === undefined) {
      // Only headers open a stream; anything else for an unknown id is a
      // leftover of a finished call (or junk) and is dropped, as in Go.
      if (frame.headers) this.open(id, frame.headers);
      return;
    }
    if (frame.headers) stream.abort({ code: Code.INVALID_ARGUMENT, message: "headers already received" }, true);
    else if (frame.message) stream.onMessage(frame.message);
    // Go cancels on the rst_stream case whatever its boolean says.
    else if (frame.rstStream !== undefined) stream.abort(CANCELLED_BY_CLIENT, true);
    else stream.abort({ code: Code.INVALID_ARGUMENT, message: "unknown request type" }, true);
  }

  /**
   * Cancels every call. With `writable` the channel can still carry frames,
   * so each call gets headers (if still due) and trailers with `reason`;
   * otherwise nothing more is sent and queued frames are dropped.
   */
  close(reason: Status = CHANNEL_CLOSED, writable = false): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    if (!writable) this.outbox.close(ChannelError.fromStatus(reason));
    for (const stream of [...this.streams.values()]) stream.abort(reason, writable);
  }

  /** @internal */
  forget(id: bigint, stream: ServerStream): void {
    if (this.streams.get(id) === stream) this.streams.delete(id);
  }

  /** @internal */
  report(err: unknown): void {
    try {
      this.opts.onProtocolError?.(err);
    } catch {
      // A failing reporter must not take the channel down.
    }
  }

  private open(id: bigint, headers: RequestHeadersFrame): void {
    const stream = new ServerStream(this, id, headers, new MessageAssembler(this.maxMessageBytes));
    this.streams.set(id, stream);
    const timeout = headers.timeoutMs;
    // Armed before dispatch so that a handler finishing synchronously clears it.
    if (timeout !== undefined && timeout !== 0) {
      stream.setCancelTimer(this.opts.setTimer(Math.max(0, timeout), () => stream.abort(DEADLINE, true)));
    }
    try {
      this.opts.dispatch(stream);
    } catch (err) {
      stream.finish(statusFromError(err));
    }
  }
}

class ServerStream implements ServerCall {
  readonly method: string;
  readonly metadata: Metadata;
  readonly timeoutMs: number | undefined;
  readonly requests: AsyncQueue<Uint8Array> = new AsyncQueue<Uint8Array>();
  cancelReason: Status | undefined = undefined;
  finished = false;
  private headersSent = false;
  private recvClosed = false;
  private cancelCallbacks: ((reason: Status) => void)[] = [];
  private cancelTimer: (() => void) | undefined = undefined;

  constructor(
    private readonly server: ChannelServer,
    readonly streamId: bigint,
    headers: RequestHeadersFrame,
    private readonly assembler: MessageAssembler,
  ) {
    this.method = headers.method;
    this.metadata = headers.metadata;
    this.timeoutMs = headers.timeoutMs;
  }

  get cancelled(): boolean {
    return this.cancelReason !== undefined;
  }

  setCancelTimer(cancel: () => void): void {
    if (this.finished) cancel();
    else this.cancelTimer = cancel;
  }

  onCancel(cb: (reason: Status) => void): () => void {
    if (this.cancelReason !== undefined) {
      this.runCancelCallback(cb, this.cancelReason);
      return () => {};
    }
    if (this.finished) return () => {};
    this.cancelCallbacks.push(cb);
    return () => {
      const i = this.cancelCallbacks.indexOf(cb);
      if (i >= 0) this.cancelCallbacks.splice(i, 1);
    };
  }

  sendHeaders(metadata: Metadata = {}): boolean {
    if (this.headersSent || this.finished) return false;
    this.headersSent = true;
    this.server.outbox.push({ streamId: this.streamId, headers: { metadata } }, this.streamId);
    return true;
  }

  sendMessage(bytes: Uint8Array): Promise<void> {
    if (this.finished) return Promise.reject(this.finishedError());
    this.sendHeaders();
    const packets = splitMessage(bytes, this.server.maxPacketBytes);
    const last = packets.length - 1;
    const frames: ResponseFrame[] = packets.map((data, i) => ({ streamId: this.streamId, message: { data, eom: i === last } }));
    return this.server.outbox.pushAll(frames, this.streamId, true, this.finishedError());
  }

  finish(status: Status, trailerMetadata: Metadata = {}): void {
    if (this.finished) return;
    this.end(status, trailerMetadata, true);
    // Whatever the client still sends is of no use to anyone now.
    this.requests.discard();
    this.cancelCallbacks = [];
  }

  /** Ends the call from our side (client reset, deadline, protocol violation, channel close). */
  abort(reason: Status, write: boolean): void {
    if (this.finished) return;
    this.cancelReason = reason;
    const err = ChannelError.fromStatus(reason);
    // Packets still queued for this call are pointless now; the client drops a
    // partial message when the trailers arrive.
    this.server.outbox.dropStream(this.streamId, err);
    this.end(reason, {}, write);
    this.requests.fail(err, true);
    const callbacks = this.cancelCallbacks;
    this.cancelCallbacks = [];
    for (const cb of callbacks) this.runCancelCallback(cb, reason);
  }

  onMessage(msg: RequestMessageFrame): void {
    if (this.recvClosed || this.finished) return; // after EOS: ignored, as in Go
    if (msg.hasMessage) {
      const result = this.assembler.push(msg.data, msg.eom);
      if (result.kind === "overflow") {
        // Go and the TS SDK silently drop an oversize message, leaving the
        // call hanging forever; ending it with a status tells the client why.
        this.abort({ code: Code.RESOURCE_EXHAUSTED, message: `message larger than max ${result.limit} bytes` }, true);
        return;
      }
      // Go only looks at `eos` once a message is complete, so its unary
      // client (eos on every packet) works; so do we.
      if (result.kind === "partial") return;
      this.requests.push(result.data);
    }
    if (msg.eos) {
      this.recvClosed = true;
      this.requests.end();
    }
  }

  private end(status: Status, trailerMetadata: Metadata, write: boolean): void {
    this.finished = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.server.forget(this.streamId, this);
    if (!write) return;
    // Headers exactly once and always before trailers, even for errors.
    if (!this.headersSent) {
      this.headersSent = true;
      this.server.outbox.push({ streamId: this.streamId, headers: { metadata: {} } }, this.streamId);
    }
    this.server.outbox.push({ streamId: this.streamId, trailers: { status, metadata: trailerMetadata } }, this.streamId);
  }

  private finishedError(): ChannelError {
    return this.cancelReason !== undefined
      ? ChannelError.fromStatus(this.cancelReason)
      : new ChannelError(Code.FAILED_PRECONDITION, "call already finished");
  }

  private runCancelCallback(cb: (reason: Status) => void, reason: Status): void {
    try {
      cb(reason);
    } catch (err) {
      this.server.report(err);
    }
  }
}
