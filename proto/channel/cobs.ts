// COBS framing of encoded Request/Response frames on a UART, where bytes get lost, corrupted, or
// mixed with boot messages, and the reader must find the next frame on its own.
//
// On the wire, one frame is
//
//   0x00  COBS( frame ‖ CRC-32(frame) as 4 bytes little-endian )  0x00
//
// COBS (Consistent Overhead Byte Stuffing, Cheshire & Baker 1999) removes every 0x00 from the
// payload at a cost of one byte per 254, so 0x00 only ever delimits. A frame starts *and* ends with
// 0x00: the trailing one ends the frame at once, the leading one cuts off whatever garbage came
// before it (empty frames between two delimiters are ignored).
//
// Checksum: CRC-32/ISO-HDLC (the zlib/Ethernet CRC: reflected polynomial 0xEDB88320, initial value
// 0xFFFFFFFF, final XOR 0xFFFFFFFF, check value 0xCBF43926 for "123456789"), appended
// little-endian. CRC-32 rather than CRC-16 because frames run to many kilobytes, past the length
// where CRC-16/CCITT still guarantees detecting every 3-bit error (about 4 KiB).
//
// The decoder never fails: a frame with a bad CRC, a malformed COBS block, fewer than 4 bytes, or
// more bytes than the limit is dropped and counted, and decoding resumes after the next 0x00.
//
// Portable: plain ECMAScript, runs on Moddable XS and Node. The decoder allocates its buffer once
// and one Uint8Array per delivered frame (owned by its receiver).

/** Bytes of the CRC after each frame (inside the COBS encoding). */
export const COBS_CRC_BYTES = 4;

/** Default largest frame (before CRC and COBS): the same as the length-prefix framing's. */
export const DEFAULT_MAX_COBS_FRAME_BYTES = 65536 + 1024;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32/ISO-HDLC of bytes[from, to). */
export function crc32(bytes: Uint8Array, from = 0, to: number = bytes.length): number {
  const table = CRC_TABLE;
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Most bytes the COBS encoding of `n` payload bytes takes (one code byte per 254, plus one). */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

/**
 * COBS-encodes src[0, length) into dst at `offset`; returns the offset after the last byte written.
 * dst must have room for cobsMaxEncodedLength(length) bytes.
 */
export function cobsEncodeInto(src: Uint8Array, length: number, dst: Uint8Array, offset: number): number {
  let codeAt = offset;
  let code = 1;
  let out = offset + 1;
  for (let i = 0; i < length; i++) {
    const b = src[i];
    if (b === 0) {
      dst[codeAt] = code;
      codeAt = out++;
      code = 1;
    } else {
      dst[out++] = b;
      if (++code === 0xff) {
        dst[codeAt] = code;
        codeAt = out++;
        code = 1;
      }
    }
  }
  dst[codeAt] = code;
  return out;
}

/**
 * Decodes the COBS bytes buf[0, length) in place; returns the decoded length, or -1 when a block
 * runs past the end or a 0x00 appears (neither happens in a well-formed encoding).
 */
export function cobsDecodeInPlace(buf: Uint8Array, length: number): number {
  let read = 0;
  let write = 0;
  while (read < length) {
    const code = buf[read++];
    if (code === 0) return -1;
    const blockEnd = read + code - 1;
    if (blockEnd > length) return -1;
    while (read < blockEnd) {
      const b = buf[read++];
      if (b === 0) return -1;
      buf[write++] = b;
    }
    if (code !== 0xff && read < length) buf[write++] = 0;
  }
  return write;
}

/** The wire bytes of one frame: 0x00, COBS(frame ‖ CRC-32 LE), 0x00. */
export function encodeCobsFrame(frame: Uint8Array): Uint8Array {
  const n = frame.length;
  const crc = crc32(frame);
  const payload = new Uint8Array(n + COBS_CRC_BYTES);
  payload.set(frame, 0);
  payload[n] = crc & 0xff;
  payload[n + 1] = (crc >>> 8) & 0xff;
  payload[n + 2] = (crc >>> 16) & 0xff;
  payload[n + 3] = (crc >>> 24) & 0xff;
  const out = new Uint8Array(cobsMaxEncodedLength(payload.length) + 2);
  out[0] = 0;
  const end = cobsEncodeInto(payload, payload.length, out, 1);
  out[end] = 0;
  return end + 1 === out.length ? out : out.slice(0, end + 1);
}

/** Why a frame was dropped. */
export type CobsDropReason = "crc" | "cobs" | "short" | "oversized";

export interface CobsDecoderOptions {
  /** Called with each good frame (CRC removed), in order. The bytes belong to the callee. */
  onFrame(frame: Uint8Array): void;
  /** Called for each dropped frame; for logging and tests. */
  onDrop?(reason: CobsDropReason): void;
  /** Largest frame (without CRC) accepted; default DEFAULT_MAX_COBS_FRAME_BYTES. */
  maxFrameBytes?: number;
}

/** Incremental decoder: feed it chunks of any size, split anywhere. */
export class CobsDecoder {
  readonly maxFrameBytes: number;
  /** Good frames delivered. */
  frames = 0;
  /** Frames dropped for a CRC mismatch. */
  crcErrors = 0;
  /** Frames dropped for a malformed COBS encoding or fewer bytes than the CRC. */
  framingErrors = 0;
  /** Frames dropped for being longer than the limit. */
  oversized = 0;
  readonly #onFrame: (frame: Uint8Array) => void;
  readonly #onDrop: ((reason: CobsDropReason) => void) | undefined;
  readonly #buf: Uint8Array;
  #fill = 0;
  /** Skipping the rest of an oversized frame, up to the next 0x00. */
  #skipping = false;

  constructor(options: CobsDecoderOptions) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_COBS_FRAME_BYTES;
    if (!(Number.isInteger(max) && max >= 0)) throw new RangeError("maxFrameBytes must be a non-negative integer");
    this.maxFrameBytes = max;
    this.#onFrame = options.onFrame;
    this.#onDrop = options.onDrop;
    this.#buf = new Uint8Array(cobsMaxEncodedLength(max + COBS_CRC_BYTES));
  }

  /** Every frame dropped, for whatever reason. */
  get dropped(): number {
    return this.crcErrors + this.framingErrors + this.oversized;
  }

  /** Takes the next bytes of the stream. */
  push(chunk: Uint8Array): void {
    const buf = this.#buf;
    const capacity = buf.length;
    for (let i = 0, n = chunk.length; i < n; i++) {
      const b = chunk[i];
      if (b === 0) {
        this.#endOfFrame();
        continue;
      }
      if (this.#skipping) continue;
      if (this.#fill === capacity) {
        this.#skipping = true;
        this.#fill = 0;
        this.oversized++;
        this.#drop("oversized");
        continue;
      }
      buf[this.#fill++] = b;
    }
  }

  #endOfFrame(): void {
    if (this.#skipping) {
      this.#skipping = false;
      return;
    }
    const length = this.#fill;
    if (length === 0) return; // back-to-back delimiters
    this.#fill = 0;
    const buf = this.#buf;
    const decoded = cobsDecodeInPlace(buf, length);
    if (decoded < 0 || decoded < COBS_CRC_BYTES) {
      this.framingErrors++;
      this.#drop(decoded < 0 ? "cobs" : "short");
      return;
    }
    const n = decoded - COBS_CRC_BYTES;
    if (n > this.maxFrameBytes) {
      this.oversized++;
      this.#drop("oversized");
      return;
    }
    const expected = (buf[n] | (buf[n + 1] << 8) | (buf[n + 2] << 16) | (buf[n + 3] << 24)) >>> 0;
    if (crc32(buf, 0, n) !== expected) {
      this.crcErrors++;
      this.#drop("crc");
      return;
    }
    this.frames++;
    this.#onFrame(buf.slice(0, n));
  }

  #drop(reason: CobsDropReason): void {
    this.#onDrop?.(reason);
  }
}
