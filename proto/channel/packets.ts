// Message chunking (spec 3.3): one serialized gRPC message travels as one or
// more PacketMessages, `eom` on the last one only; a zero-length message is a
// single empty packet with `eom`.

/** Go server: 65 535 minus the Response wrapper for stream id 2^64-1. */
export const MAX_RESPONSE_PACKET_BYTES = 65_513;
/** Go client: 65 535 minus the Request wrapper. */
export const MAX_REQUEST_PACKET_BYTES_GO = 65_509;
/** What the TS SDK uses for request packets (observed). */
export const MAX_REQUEST_PACKET_BYTES_TS = 16_373;
/** Reassembly limit of Go and the TS SDK: 32 MiB. */
export const MAX_MESSAGE_BYTES = 1 << 25;

const EMPTY = new Uint8Array(0);

/**
 * Splits one message into packet payloads of at most `maxPacketBytes`.
 * The pieces are subarrays of `bytes` (no copies); the caller sets `eom` on
 * the last one.
 */
export function splitMessage(bytes: Uint8Array, maxPacketBytes: number): Uint8Array[] {
  if (!Number.isInteger(maxPacketBytes) || maxPacketBytes < 1) {
    throw new RangeError(`maxPacketBytes must be a positive integer, got ${maxPacketBytes}`);
  }
  if (bytes.length === 0) return [bytes];
  const packets: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += maxPacketBytes) {
    packets.push(bytes.subarray(offset, Math.min(offset + maxPacketBytes, bytes.length)));
  }
  return packets;
}

/** What one packet did to the assembler. */
export type AssembleResult =
  | { kind: "partial" }
  | { kind: "message"; data: Uint8Array }
  /** The message went over the limit; its data was discarded. Reported once per message. */
  | { kind: "overflow"; limit: number };

/**
 * Reassembles packets into messages. A message that grows past
 * `maxMessageBytes` is reported once as overflow; the rest of its packets
 * are discarded up to its `eom`, after which assembly starts afresh.
 */
export class MessageAssembler {
  readonly maxMessageBytes: number;
  private chunks: Uint8Array[] = [];
  private size = 0;
  private discarding = false;

  constructor(maxMessageBytes: number = MAX_MESSAGE_BYTES) {
    if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 0) {
      throw new RangeError(`maxMessageBytes must be a non-negative integer, got ${maxMessageBytes}`);
    }
    this.maxMessageBytes = maxMessageBytes;
  }

  /** True while packets of an unfinished message are buffered (or being discarded). */
  get pending(): boolean {
    return this.chunks.length > 0 || this.discarding;
  }

  /** Bytes buffered for the unfinished message. */
  get bufferedBytes(): number {
    return this.size;
  }

  push(data: Uint8Array, eom: boolean): AssembleResult {
    if (this.discarding) {
      if (eom) this.discarding = false;
      return { kind: "partial" };
    }
    if (this.size + data.length > this.maxMessageBytes) {
      this.reset();
      this.discarding = !eom;
      return { kind: "overflow", limit: this.maxMessageBytes };
    }
    if (!eom) {
      if (data.length > 0) {
        this.chunks.push(data);
        this.size += data.length;
      } else if (this.chunks.length === 0) {
        // Remember that a message has started even if its first packet is empty.
        this.chunks.push(EMPTY);
      }
      return { kind: "partial" };
    }
    // The common single-packet message is handed on without a copy.
    if (this.size === 0) {
      this.reset();
      return { kind: "message", data };
    }
    this.chunks.push(data);
    const out = new Uint8Array(this.size + data.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    this.reset();
    return { kind: "message", data: out };
  }

  /** Drops any partial message. */
  reset(): void {
    this.chunks = [];
    this.size = 0;
    this.discarding = false;
  }
}
