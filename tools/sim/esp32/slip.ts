// SLIP framing as the ESP ROM loader and its flasher stubs use it: every frame starts and ends with
// 0xC0; inside a frame 0xC0 is sent as DB DC and 0xDB as DB DD. Bytes outside a frame (boot
// messages, line noise) are not part of any packet, and repeated 0xC0s are idle. Portable.

export const SLIP_END = 0xc0;
export const SLIP_ESC = 0xdb;
export const SLIP_ESC_END = 0xdc;
export const SLIP_ESC_ESC = 0xdd;

/** One frame: END, the escaped payload, END. */
export function slipEncode(payload: Uint8Array): Uint8Array {
  let extra = 0;
  for (const b of payload) if (b === SLIP_END || b === SLIP_ESC) extra++;
  const out = new Uint8Array(payload.length + extra + 2);
  let at = 0;
  out[at++] = SLIP_END;
  for (const b of payload) {
    if (b === SLIP_END) {
      out[at++] = SLIP_ESC;
      out[at++] = SLIP_ESC_END;
    } else if (b === SLIP_ESC) {
      out[at++] = SLIP_ESC;
      out[at++] = SLIP_ESC_ESC;
    } else {
      out[at++] = b;
    }
  }
  out[at] = SLIP_END;
  return out;
}

/**
 * Incremental decoder. `push` returns the frames completed by the bytes given. Bytes before the
 * first 0xC0 are counted as noise; an invalid escape drops the frame it is in (the loader would
 * see a malformed packet) and the decoder waits for the next 0xC0. Frames longer than `maxFrame`
 * are dropped too, so garbage cannot grow memory without bound.
 */
export class SlipDecoder {
  private buffer: number[] = [];
  private inFrame = false;
  private escaping = false;
  private dropping = false;
  /** Bytes seen outside any frame. */
  noiseBytes = 0;
  /** Frames thrown away (bad escape or too long). */
  droppedFrames = 0;

  constructor(private readonly maxFrame = 0x10000 + 64) {}

  reset(): void {
    this.buffer = [];
    this.inFrame = false;
    this.escaping = false;
    this.dropping = false;
  }

  push(bytes: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (const b of bytes) {
      if (!this.inFrame) {
        if (b === SLIP_END) {
          this.inFrame = true;
          this.buffer = [];
          this.escaping = false;
          this.dropping = false;
        } else {
          this.noiseBytes++;
        }
        continue;
      }
      if (b === SLIP_END) {
        if (this.dropping) {
          // The END that closes a dropped frame may open the next one.
          this.dropping = false;
          this.buffer = [];
          continue;
        }
        if (this.buffer.length > 0) {
          frames.push(Uint8Array.from(this.buffer));
          this.buffer = [];
        }
        // An END right after an END is idle; stay "in frame" so the next byte starts a packet.
        this.escaping = false;
        continue;
      }
      if (this.dropping) continue;
      if (this.escaping) {
        this.escaping = false;
        if (b === SLIP_ESC_END) this.buffer.push(SLIP_END);
        else if (b === SLIP_ESC_ESC) this.buffer.push(SLIP_ESC);
        else this.drop();
        continue;
      }
      if (b === SLIP_ESC) {
        this.escaping = true;
        continue;
      }
      this.buffer.push(b);
      if (this.buffer.length > this.maxFrame) this.drop();
    }
    return frames;
  }

  private drop(): void {
    this.droppedFrames++;
    this.dropping = true;
    this.buffer = [];
  }
}
