// Plain frame types for gRPC over a message channel (proto.rpc.webrtc.v1,
// spec section 3). They deliberately do not depend on protobuf-es: the host
// encodes them with protobuf-es (protobuf-codec.ts), the ESP32 firmware with
// its own compact generated codec, and everything else in this folder only
// sees these shapes.
//
// Portability rule for every file in proto/channel except protobuf-codec.ts:
// plain ECMAScript only (Uint8Array, Promise, async iterators), because the
// same code runs on Moddable XS.

/** gRPC metadata: lower-case key to its values (proto `Metadata.md`). */
export type Metadata = Record<string, string[]>;

/** google.rpc.Status. `details` are serialized google.protobuf.Any messages. */
export interface Status {
  code: number;
  message: string;
  details?: Uint8Array[];
}

/** gRPC status code numbers. */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

/** `RequestHeaders`: opens a stream. */
export interface RequestHeadersFrame {
  /** Full method path, `/pkg.Service/Method`. */
  method: string;
  metadata: Metadata;
  /** `timeout` as milliseconds; undefined when the field is absent. 0 means no deadline. */
  timeoutMs?: number;
}

/** `RequestMessage` with its `PacketMessage` flattened in. */
export interface RequestMessageFrame {
  /** False only on a pure half-close frame. */
  hasMessage: boolean;
  data: Uint8Array;
  /** Last packet of a message. */
  eom: boolean;
  /** Half-close: the client sends no more messages. */
  eos: boolean;
}

/**
 * One `Request` (client to server). At most one of headers, message and
 * rstStream is set (none when the oneof was empty on the wire).
 */
export interface RequestFrame {
  /**
   * `stream.id`. undefined means the `stream` field was absent (the frame is
   * dropped); a present but empty `Stream` is id 0n (what the TS SDK sends
   * for its first call).
   */
  streamId: bigint | undefined;
  headers?: RequestHeadersFrame;
  message?: RequestMessageFrame;
  /** Present (whatever its value) means the oneof case was `rst_stream`. */
  rstStream?: boolean;
}

export interface ResponseHeadersFrame {
  metadata: Metadata;
}

export interface ResponseMessageFrame {
  data: Uint8Array;
  eom: boolean;
}

export interface ResponseTrailersFrame {
  status: Status;
  metadata: Metadata;
}

/** One `Response` (server to client). At most one of the three is set. */
export interface ResponseFrame {
  streamId: bigint;
  headers?: ResponseHeadersFrame;
  message?: ResponseMessageFrame;
  trailers?: ResponseTrailersFrame;
}

/** Encodes and decodes frames; decode throws on bytes it cannot parse. */
export interface FrameCodec {
  encodeRequest(frame: RequestFrame): Uint8Array;
  decodeRequest(bytes: Uint8Array): RequestFrame;
  encodeResponse(frame: ResponseFrame): Uint8Array;
  decodeResponse(bytes: Uint8Array): ResponseFrame;
}

/** A non-OK gRPC status as an Error: what client calls reject with, and what handlers may throw. */
export class ChannelError extends Error {
  readonly code: number;
  readonly details: Uint8Array[];
  /** Trailer metadata, when the error came from the wire. */
  readonly metadata: Metadata;

  constructor(code: number, message: string, details: Uint8Array[] = [], metadata: Metadata = {}) {
    super(message);
    this.name = "ChannelError";
    this.code = code;
    this.details = details;
    this.metadata = metadata;
  }

  static fromStatus(status: Status, metadata: Metadata = {}): ChannelError {
    return new ChannelError(status.code, status.message, status.details ?? [], metadata);
  }

  get status(): Status {
    return this.details.length > 0
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

/**
 * The status a failed handler ends its call with: a ChannelError keeps its
 * code, anything else is UNKNOWN with the error text (what Go's ErrorToStatus does).
 */
export function statusFromError(err: unknown): Status {
  if (err instanceof ChannelError) return err.status;
  if (err instanceof Error) return { code: Code.UNKNOWN, message: err.message };
  return { code: Code.UNKNOWN, message: String(err) };
}

export const OK_STATUS: Readonly<Status> = Object.freeze({ code: Code.OK, message: "" });
