// Client end of gRPC over one message channel: the host calling a micro
// part, and the tests. Mirrors goutils' webrtcClientChannel/Stream.
// Portable: no host APIs, timers come by injection.

import {
  ChannelError,
  Code,
  type FrameCodec,
  type Metadata,
  type RequestFrame,
  type ResponseHeadersFrame,
  type ResponseMessageFrame,
  type ResponseTrailersFrame,
  type Status,
} from "./frames.js";
import { MAX_MESSAGE_BYTES, MAX_REQUEST_PACKET_BYTES_GO, MessageAssembler, splitMessage } from "./packets.js";
import { AsyncQueue, Outbox, type SendFn } from "./queue.js";
import type { SetTimer } from "./server.js";

export { ChannelError } from "./frames.js";

export interface ChannelClientOptions {
  codec: FrameCodec;
  /** Sends one encoded Request. A returned Promise means "wait before sending more". */
  send: SendFn;
  setTimer: SetTimer;
  /** First stream id; default 1n like Go (the TS SDK starts at 0n). */
  firstStreamId?: bigint;
  /** Data bytes per request packet; default 65 509 like Go. */
  maxPacketBytes?: number;
  /** Reassembly limit per response message; default 32 MiB. */
  maxMessageBytes?: number;
  /** Undecodable frames and failed sends nobody awaits. */
  onProtocolError?(err: unknown): void;
}

export interface CallOptions {
  /** Sent as the request `timeout` and enforced locally (the call ends with DEADLINE_EXCEEDED). */
  timeoutMs?: number;
  /** Receives the call's cancel function, to hook it to the caller's own cancellation. */
  onCancelRegister?(cancel: () => void): void;
}

export interface CallResult {
  status: Status;
  metadata: Metadata;
}

export interface ClientCall {
  readonly streamId: bigint;
  /** Response headers; rejects with a ChannelError if the call fails before any arrived. */
  readonly headers: Promise<Metadata>;
  /** Response messages; ends on OK trailers, throws a ChannelError on any other outcome. */
  readonly responses: AsyncIterable<Uint8Array>;
  /** Always resolves: the server's trailers or a locally made status (cancel, deadline, close, protocol error). */
  readonly trailers: Promise<CallResult>;
  /** Sends rst_stream and ends the call locally with CANCELLED. */
  cancel(): void;
}

export interface UnaryResult {
  message: Uint8Array;
  headers: Metadata;
  trailers: Metadata;
}

const DEADLINE: Status = { code: Code.DEADLINE_EXCEEDED, message: "context deadline exceeded" };
const CANCELLED: Status = { code: Code.CANCELLED, message: "request cancelled" };

export class ChannelClient {
  private readonly streams = new Map<bigint, ClientStream>();
  /** @internal */ readonly outbox: Outbox<RequestFrame>;
  private readonly maxPacketBytes: number;
  private readonly maxMessageBytes: number;
  private nextId: bigint;
  private closedReason: string | undefined = undefined;

  constructor(private readonly opts: ChannelClientOptions) {
    this.nextId = opts.firstStreamId ?? 1n;
    this.maxPacketBytes = opts.maxPacketBytes ?? MAX_REQUEST_PACKET_BYTES_GO;
    this.maxMessageBytes = opts.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    splitMessage(new Uint8Array(0), this.maxPacketBytes); // validates the option
    const codec = opts.codec;
    this.outbox = new Outbox<RequestFrame>((f) => codec.encodeRequest(f), opts.send, (err) => this.report(err));
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Calls still waiting for their trailers. */
  get activeCalls(): number {
    return this.streams.size;
  }

  /**
   * Starts a call. A Uint8Array is one request message sent Go-style, with
   * `eos` on its last packet (unary, server streaming); an AsyncIterable is
   * a request stream, half-closed with a separate frame once it ends.
   */
  call(
    method: string,
    metadata: Metadata,
    requests: AsyncIterable<Uint8Array> | Uint8Array,
    opts: CallOptions = {},
  ): ClientCall {
    const id = this.nextId++;
    const stream = new ClientStream(this, id, new MessageAssembler(this.maxMessageBytes));
    if (this.closedReason !== undefined) {
      stream.end({ code: Code.UNAVAILABLE, message: this.closedReason }, {});
      return stream;
    }
    this.streams.set(id, stream);
    const headers: RequestFrame["headers"] = { method, metadata };
    if (opts.timeoutMs !== undefined) headers.timeoutMs = opts.timeoutMs;
    this.outbox.push({ streamId: id, headers }, id);
    if (opts.timeoutMs !== undefined && opts.timeoutMs !== 0) {
      stream.setCancelTimer(this.opts.setTimer(Math.max(0, opts.timeoutMs), () => stream.abort(DEADLINE)));
    }
    opts.onCancelRegister?.(() => stream.cancel());
    if (requests instanceof Uint8Array) {
      this.sendMessage(stream, requests, true).catch(() => {
        // The call already ended; its trailers say how.
      });
    } else {
      void this.pumpRequests(stream, requests);
    }
    return stream;
  }

  /** One request, exactly one response message, OK status; anything else rejects with a ChannelError. */
  async unary(method: string, metadata: Metadata, request: Uint8Array, opts: CallOptions = {}): Promise<UnaryResult> {
    const call = this.call(method, metadata, request, opts);
    const messages: Uint8Array[] = [];
    try {
      for await (const m of call.responses) messages.push(m);
    } catch {
      // The status is in the trailers.
    }
    const { status, metadata: trailers } = await call.trailers;
    if (status.code !== Code.OK) throw ChannelError.fromStatus(status, trailers);
    if (messages.length !== 1) {
      throw new ChannelError(Code.INTERNAL, messages.length === 0 ? "missing message" : "received more than one message");
    }
    return { message: messages[0], headers: await call.headers, trailers };
  }

  /** Takes one encoded Response. The bytes are owned by the client from then on. */
  receive(bytes: Uint8Array): void {
    if (this.closedReason !== undefined) return;
    let frame;
    try {
      frame = this.opts.codec.decodeResponse(bytes);
    } catch (err) {
      this.report(err);
      return;
    }
    const stream = this.streams.get(frame.streamId);
    if (stream === undefined) return; // a call that already ended locally
    if (frame.headers) stream.onHeaders(frame.headers);
    else if (frame.message) stream.onMessage(frame.message);
    else if (frame.trailers) stream.onTrailers(frame.trailers);
  }

  /** Fails every pending call with UNAVAILABLE; later calls fail at once. Nothing more is sent. */
  close(reason = "channel closed"): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    const status: Status = { code: Code.UNAVAILABLE, message: reason };
    this.outbox.close(ChannelError.fromStatus(status));
    for (const stream of [...this.streams.values()]) stream.end(status, {});
  }

  /** @internal */
  forget(id: bigint, stream: ClientStream): void {
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

  private sendMessage(stream: ClientStream, bytes: Uint8Array, eos: boolean): Promise<void> {
    const packets = splitMessage(bytes, this.maxPacketBytes);
    const last = packets.length - 1;
    // Every packet says has_message, like both SDKs; eos only on the last one
    // (Go puts it on every packet, which servers only read at the end anyway).
    const frames: RequestFrame[] = packets.map((data, i) => ({
      streamId: stream.streamId,
      message: { hasMessage: true, data, eom: i === last, eos: eos && i === last },
    }));
    return this.outbox.pushAll(frames, stream.streamId, true, new ChannelError(Code.UNAVAILABLE, "channel closed"));
  }

  private async pumpRequests(stream: ClientStream, requests: AsyncIterable<Uint8Array>): Promise<void> {
    let it: AsyncIterator<Uint8Array> | undefined;
    try {
      it = requests[Symbol.asyncIterator]();
      for (;;) {
        if (stream.finished) break;
        const r = await it.next();
        if (r.done) {
          it = undefined;
          if (!stream.finished) {
            this.outbox.push(
              { streamId: stream.streamId, message: { hasMessage: false, data: new Uint8Array(0), eom: true, eos: true } },
              stream.streamId,
              true,
            );
          }
          return;
        }
        if (stream.finished) break;
        // Waiting here is what gives request streams backpressure.
        await this.sendMessage(stream, r.value, false);
      }
    } catch (err) {
      if (!stream.finished) {
        stream.abort({ code: Code.CANCELLED, message: `request stream failed: ${err instanceof Error ? err.message : String(err)}` });
      }
      return;
    }
    // The call ended before the request stream did: let the source clean up.
    try {
      await it?.return?.();
    } catch {
      // Nothing more to do for a call that is over.
    }
  }
}

class ClientStream implements ClientCall {
  readonly headers: Promise<Metadata>;
  readonly trailers: Promise<CallResult>;
  readonly responses = new AsyncQueue<Uint8Array>();
  finished = false;
  private headersReceived = false;
  private resolveHeaders!: (md: Metadata) => void;
  private rejectHeaders!: (err: unknown) => void;
  private resolveTrailers!: (r: CallResult) => void;
  private cancelTimer: (() => void) | undefined = undefined;

  constructor(
    private readonly client: ChannelClient,
    readonly streamId: bigint,
    private readonly assembler: MessageAssembler,
  ) {
    this.headers = new Promise<Metadata>((resolve, reject) => {
      this.resolveHeaders = resolve;
      this.rejectHeaders = reject;
    });
    // Callers often only look at trailers; an unobserved rejection must not
    // count as unhandled. Awaiting `headers` still sees it.
    this.headers.catch(() => {});
    this.trailers = new Promise<CallResult>((resolve) => {
      this.resolveTrailers = resolve;
    });
  }

  cancel(): void {
    this.abort(CANCELLED);
  }

  setCancelTimer(cancel: () => void): void {
    if (this.finished) cancel();
    else this.cancelTimer = cancel;
  }

  /** Ends the call locally and tells the server with rst_stream. */
  abort(status: Status): void {
    if (this.finished) return;
    this.client.outbox.dropStream(this.streamId, ChannelError.fromStatus(status));
    // End locally first, so the server's answer to the reset (CANCELLED
    // trailers) finds no stream and the local status stands.
    this.end(status, {});
    this.client.outbox.push({ streamId: this.streamId, rstStream: true }, this.streamId);
  }

  onHeaders(h: ResponseHeadersFrame): void {
    // Ordering violations are fatal for the call, as in Go's client.
    if (this.headersReceived) return this.abort({ code: Code.INTERNAL, message: "headers already received" });
    this.headersReceived = true;
    this.resolveHeaders(h.metadata);
  }

  onMessage(m: ResponseMessageFrame): void {
    if (!this.headersReceived) return this.abort({ code: Code.INTERNAL, message: "headers not yet received" });
    const result = this.assembler.push(m.data, m.eom);
    if (result.kind === "overflow") {
      this.abort({ code: Code.RESOURCE_EXHAUSTED, message: `message larger than max ${result.limit} bytes` });
    } else if (result.kind === "message") {
      this.responses.push(result.data);
    }
  }

  onTrailers(t: ResponseTrailersFrame): void {
    this.end(t.status, t.metadata);
  }

  /** @internal */
  end(status: Status, metadata: Metadata): void {
    if (this.finished) return;
    this.finished = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.client.forget(this.streamId, this);
    const ok = status.code === Code.OK;
    const err = ok ? undefined : ChannelError.fromStatus(status, metadata);
    if (!this.headersReceived) {
      // A trailers-only OK response is well formed: its headers are empty.
      if (ok) this.resolveHeaders({});
      else this.rejectHeaders(err);
    }
    if (ok) this.responses.end();
    else this.responses.fail(err);
    this.resolveTrailers({ status, metadata });
  }
}
