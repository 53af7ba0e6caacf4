// Length-prefix framing of encoded Request/Response frames on a byte stream (TCP, a WebSocket
// carrying a byte stream): each frame is a 4-byte big-endian length followed by that many bytes of
// one encoded `proto.rpc.webrtc.v1.Request` or `Response`.
//
//   +--------+--------+--------+--------+-------------------------+
//   |  length (uint32, big-endian)      |  frame (length bytes)   |
//   +--------+--------+--------+--------+-------------------------+
//
// A stream cannot be resynchronised once a length is wrong, so every decoding problem is fatal for
// the stream: a declared length above the limit fails it *before* anything of that size is
// allocated, and the owner closes the connection. Zero-length frames are legal (an empty Request
// decodes to a frame without a stream, which the channel drops and reports).
//
// Portable: plain ECMAScript, runs on Moddable XS and Node; no allocation per input chunk, one per
// frame (the frame handed on is owned by its receiver).

/** Bytes of the length prefix. */
export const LENGTH_PREFIX_BYTES = 4;

/**
 * Room for a frame's wrapper around its packet data: stream id, oneof tags, flags, and the
 * metadata and method of a headers frame. Generous on purpose: headers carry metadata.
 */
export const FRAME_OVERHEAD_BYTES = 1024;

/**
 * Default largest frame: a 64 KiB packet (Go sends at most 65 513 data bytes per response packet
 * and 65 509 per request packet) plus the wrapper. Devices with little RAM pass a smaller limit and
 * their peers a matching `maxPacketBytes`.
 */
export const DEFAULT_MAX_FRAME_BYTES = 65536 + FRAME_OVERHEAD_BYTES;

/** Why a length-prefixed stream was failed. */
export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FramingError";
  }
}

export interface LengthPrefixDecoderOptions {
  /** Called with each complete frame, in order. The bytes belong to the callee. */
  onFrame(frame: Uint8Array): void;
  /** Called once when the stream is failed; nothing is delivered afterwards. */
  onError(error: FramingError): void;
  /** Largest accepted declared length; default DEFAULT_MAX_FRAME_BYTES. */
  maxFrameBytes?: number;
}

/** Prefixes one encoded frame with its length. */
export function encodeLengthPrefixed(frame: Uint8Array, maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES): Uint8Array {
  const n = frame.length;
  if (n > maxFrameBytes) throw new FramingError("frame of " + n + " bytes exceeds the limit of " + maxFrameBytes + " bytes");
  const out = new Uint8Array(LENGTH_PREFIX_BYTES + n);
  writeLength(out, n);
  out.set(frame, LENGTH_PREFIX_BYTES);
  return out;
}

/** Writes a frame length as the 4-byte big-endian prefix at the start of `into`. */
export function writeLength(into: Uint8Array, length: number): void {
  into[0] = (length >>> 24) & 0xff;
  into[1] = (length >>> 16) & 0xff;
  into[2] = (length >>> 8) & 0xff;
  into[3] = length & 0xff;
}

/**
 * Incremental decoder: feed it chunks of any size, split anywhere; it calls `onFrame` for every
 * complete frame and `onError` once when the stream cannot go on.
 */
export class LengthPrefixDecoder {
  readonly maxFrameBytes: number;
  readonly #onFrame: (frame: Uint8Array) => void;
  readonly #onError: (error: FramingError) => void;
  readonly #header = new Uint8Array(LENGTH_PREFIX_BYTES);
  #headerFill = 0;
  /** The frame being filled, once its length is known and accepted. */
  #body: Uint8Array | undefined = undefined;
  #bodyFill = 0;
  #failed = false;
  #frames = 0;

  constructor(options: LengthPrefixDecoderOptions) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!(Number.isInteger(max) && max >= 0 && max <= 0xffffffff)) throw new RangeError("maxFrameBytes must be an integer in 0…2^32−1");
    this.maxFrameBytes = max;
    this.#onFrame = options.onFrame;
    this.#onError = options.onError;
  }

  /** True once the stream has been failed. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Frames delivered so far. */
  get frames(): number {
    return this.#frames;
  }

  /** True while a frame has begun but not ended (a close now truncates it). */
  get partial(): boolean {
    return this.#headerFill > 0 || this.#body !== undefined;
  }

  /** Takes the next bytes of the stream. Ignored once failed. */
  push(chunk: Uint8Array): void {
    let at = 0;
    const end = chunk.length;
    while (at < end && !this.#failed) {
      let body = this.#body;
      if (body === undefined) {
        const header = this.#header;
        while (this.#headerFill < LENGTH_PREFIX_BYTES && at < end) header[this.#headerFill++] = chunk[at++];
        if (this.#headerFill < LENGTH_PREFIX_BYTES) return;
        this.#headerFill = 0;
        const length = ((header[0] << 24) | (header[1] << 16) | (header[2] << 8) | header[3]) >>> 0;
        if (length > this.maxFrameBytes) {
          this.fail("declared frame length " + length + " exceeds the limit of " + this.maxFrameBytes + " bytes");
          return;
        }
        body = new Uint8Array(length);
        if (length === 0) {
          this.#deliver(body);
          continue;
        }
        this.#body = body;
        this.#bodyFill = 0;
      }
      const take = Math.min(body.length - this.#bodyFill, end - at);
      body.set(chunk.subarray(at, at + take), this.#bodyFill);
      this.#bodyFill += take;
      at += take;
      if (this.#bodyFill === body.length) {
        this.#body = undefined;
        this.#bodyFill = 0;
        this.#deliver(body);
      }
    }
  }

  /** The stream ended: a frame cut off in the middle is reported as an error. */
  end(): void {
    if (this.#failed) return;
    if (this.partial) {
      const have = this.#body === undefined ? this.#headerFill + " of 4 length bytes" : this.#bodyFill + " of " + this.#body.length + " bytes";
      this.fail("stream ended inside a frame (" + have + ")");
    }
  }

  /** Fails the stream with `message`: reported once, then every input is ignored. */
  fail(message: string): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#body = undefined;
    this.#onError(new FramingError(message));
  }

  #deliver(frame: Uint8Array): void {
    this.#frames++;
    this.#onFrame(frame);
  }
}
