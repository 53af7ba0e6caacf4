// The UARTs of a simulated ESP32, with what is wired to their pins: each port has an outside end
// (a host, a USB-serial bridge, a test) that sends and receives bytes.
//
// Timing follows the hardware that Moddable's ESP32 Serial drives directly (modules/io/serial/esp32/
// serial.c works on the UART FIFOs): bytes cross the wire at the port's baud rate (10 bits per byte,
// 8N1), land in a 128-byte RX FIFO and are lost when the firmware does not read them in time
// (counted in `overruns`); the firmware writes into a 128-byte TX FIFO, which drains at the baud
// rate. Tests that want no pacing set `paced = false`.
//
// Wire time advances at most `maxStepMs` per simulator tick: a stall of the whole Node process (GC,
// JIT, or the firmware blocking in Timer.delay, which stops everything here) pauses the wire rather
// than overrunning the FIFO. On a board the far end keeps sending through such a stall, so 128
// bytes at 115200 baud last about 11 ms; set `maxStepMs = Infinity` to model that.
import type { World } from "./world.js";

export const UART_FIFO_BYTES = 128;

/** What the firmware side of a port (the embedded:io/serial shim) is told. @internal */
export interface UartDevice {
  /** Bytes arrived in the RX FIFO. */
  received(): void;
  /** The TX FIFO has room again. */
  drained(): void;
}

export class UartPort {
  readonly port: number;
  /** Set by the firmware when it opens the port. */
  baud = 115200;
  /** Deliver at the baud rate (true) or at once (false). */
  paced = true;
  rxFifoBytes = UART_FIFO_BYTES;
  txFifoBytes = UART_FIFO_BYTES;
  /** Bytes lost because the RX FIFO was full. */
  overruns = 0;
  /** Longest wire time one tick may cover (see above). */
  maxStepMs = 5;
  /** Bytes in the RX FIFO, waiting for the firmware. */
  readonly rx: number[] = [];
  /** Bytes in the TX FIFO, waiting for the wire. */
  readonly tx: number[] = [];
  readonly #inbound: number[] = [];
  readonly #outside = new Set<(bytes: Uint8Array) => void>();
  #device: UartDevice | undefined = undefined;
  #timer: NodeJS.Timeout | undefined = undefined;
  #last = 0;
  #credit = 0;

  constructor(port: number) {
    this.port = port;
  }

  // Outside end ------------------------------------------------------------------------------

  /** Sends bytes from the outside to the chip's RX pin. */
  send(bytes: Uint8Array): void {
    for (const b of bytes) this.#inbound.push(b);
    this.#pump();
  }

  /** Hears every byte the chip transmits; returns the unsubscribe function. */
  onTransmit(listener: (bytes: Uint8Array) => void): () => void {
    this.#outside.add(listener);
    return () => this.#outside.delete(listener);
  }

  // Firmware end (the serial shim) -----------------------------------------------------------------

  /** @internal */
  attach(device: UartDevice | undefined): void {
    this.#device = device;
    if (device === undefined) {
      this.rx.length = 0;
      this.tx.length = 0;
    }
  }

  /** @internal The firmware wrote bytes into the TX FIFO. */
  transmitted(): void {
    this.#pump();
  }

  /** @internal Free bytes in the TX FIFO. */
  get txSpace(): number {
    return this.txFifoBytes - this.tx.length;
  }

  #pump(): void {
    if (!this.paced) {
      this.#move(Infinity);
      return;
    }
    if (this.#timer !== undefined) return;
    this.#last = performance.now();
    this.#credit = 0;
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#credit += (Math.min(now - this.#last, this.maxStepMs) * this.baud) / 10_000;
      this.#last = now;
      const bytes = Math.floor(this.#credit);
      this.#credit -= bytes;
      this.#move(bytes);
      if (this.#inbound.length === 0 && this.tx.length === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    }, 1);
  }

  /** Moves up to `budget` bytes each way across the wire. */
  #move(budget: number): void {
    const inbound = Math.min(budget, this.#inbound.length);
    if (inbound > 0) {
      const bytes = this.#inbound.splice(0, inbound);
      for (const b of bytes) {
        if (this.#device === undefined) continue; // nobody listens on the pin
        if (this.rx.length < this.rxFifoBytes) this.rx.push(b);
        else this.overruns++;
      }
      this.#device?.received();
    }
    const outbound = Math.min(budget, this.tx.length);
    if (outbound > 0) {
      const bytes = Uint8Array.from(this.tx.splice(0, outbound));
      for (const listener of [...this.#outside]) listener(bytes);
      this.#device?.drained();
    }
  }

  /** Stops pacing (World.dispose). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

const ports = new WeakMap<World, Map<number, UartPort>>();

/** UART `port` of a world (0, 1 or 2 on the classic ESP32), made on first use. */
export function uart(w: World, port: number): UartPort {
  let map = ports.get(w);
  if (map === undefined) {
    map = new Map();
    ports.set(w, map);
  }
  let p = map.get(port);
  if (p === undefined) {
    const made = new UartPort(port);
    p = made;
    map.set(port, made);
    w.onDispose(() => made.stop());
  }
  return p;
}
