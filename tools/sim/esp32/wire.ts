// One direction of a UART line between a host and the simulated chip. Each chunk leaves the
// sender at the sender's baud rate and is read by the receiver at the receiver's rate: when the
// two differ by more than a UART tolerates (≈3 %), the receiver gets garbage — a different number
// of bytes with different values, as a real UART that samples at the wrong rate would — so a
// flasher that switches rates at the wrong moment fails here as it would on hardware.
//
// Real-time mode paces delivery: a chunk of n bytes arrives n × 10 bit times (8N1) after the line
// became free, so throughput through the simulator is bounded by the baud rate like a real link.
// Without it, chunks are delivered on the next microtask (fast tests). Portable.

/** 8N1: start bit, 8 data bits, stop bit. */
export const BITS_PER_BYTE = 10;
const TOLERANCE = 0.03;

export interface WireOptions {
  /** Called with each chunk as the receiver sees it. */
  deliver(bytes: Uint8Array): void;
  /** The receiver's rate at the moment a chunk arrives; undefined = not modelled (never garbled). */
  receiverBaud(): number | undefined;
  realtime?: boolean;
  /** Rate to pace at when a chunk is sent without one (default the receiver's, else 115200). */
  paceBaud?: () => number;
}

export function ratesMatch(sender: number, receiver: number): boolean {
  return Math.abs(sender / receiver - 1) <= TOLERANCE;
}

export class Wire {
  realtime: boolean;
  /** Bytes that left the sender. */
  bytesSent = 0;
  /** Chunks the receiver got as garbage because the rates differed. */
  garbledChunks = 0;
  private busyUntil = 0;
  private seed = 0x2545f491;
  private pending = new Set<ReturnType<typeof setTimeout>>();
  private generation = 0;

  constructor(private readonly options: WireOptions) {
    this.realtime = options.realtime ?? false;
  }

  /** Sends at `senderBaud`; undefined = a line without a rate to model (a pty): never garbled. */
  send(bytes: Uint8Array, senderBaud: number | undefined): void {
    if (bytes.length === 0) return;
    const chunk = Uint8Array.from(bytes);
    this.bytesSent += chunk.length;
    const generation = this.generation;
    const arrive = () => {
      if (generation !== this.generation) return; // the line was cleared meanwhile
      const receiver = this.options.receiverBaud();
      const garbled = senderBaud !== undefined && receiver !== undefined && !ratesMatch(senderBaud, receiver);
      this.options.deliver(garbled ? this.garble(chunk, senderBaud, receiver) : chunk);
    };
    if (!this.realtime) {
      queueMicrotask(arrive);
      return;
    }
    const now = performance.now();
    const start = Math.max(now, this.busyUntil);
    const baud = senderBaud ?? this.options.paceBaud?.() ?? this.options.receiverBaud() ?? 115200;
    this.busyUntil = start + (chunk.length * BITS_PER_BYTE * 1000) / baud;
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      arrive();
    }, Math.max(0, this.busyUntil - now));
    this.pending.add(timer);
  }

  /** Drops bytes in flight (a port closed, the chip reset its UART). */
  clear(): void {
    this.generation++;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    this.busyUntil = 0;
  }

  /** When the last byte queued so far arrives (0 outside real-time mode). */
  get drainMs(): number {
    return Math.max(0, this.busyUntil - performance.now());
  }

  private garble(chunk: Uint8Array, senderBaud: number, receiverBaud: number): Uint8Array {
    this.garbledChunks++;
    // A receiver sampling slower than the sender sees fewer (merged) bytes, a faster one more
    // (each start bit stretched over several frames); values are a deterministic mix.
    const length = Math.max(1, Math.round((chunk.length * receiverBaud) / senderBaud));
    const out = new Uint8Array(length);
    let s = this.seed;
    for (let i = 0; i < length; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = (chunk[Math.floor((i * chunk.length) / length)]! ^ s) & 0xff;
    }
    this.seed = s >>> 0 || 0x2545f491;
    return out;
  }
}
