// embedded:io/serial for Node, after Moddable's ESP32 Serial (modules/io/serial/esp32/serial.c),
// on a simulated UART port (../uart.ts): `port` picks the UART (0-2 on the classic ESP32), `receive`
// and `transmit` are pins, `baud` is required. read() returns what the RX FIFO holds (undefined when
// empty), read(buffer) fills at most the buffer and returns the count, write() throws "output full"
// for more than the TX FIFO's free bytes. onReadable(bytes) is posted when bytes arrive and
// onWritable(bytes) when the TX FIFO drains. Each port can be opened once.
import { uart, type UartPort } from "../uart.js";
import { world } from "../world.js";
import { bytesOf, closedError, pinNumber } from "./common.js";

export interface SerialOptions {
  receive?: number;
  transmit?: number;
  baud: number;
  port?: number;
  flowControl?: "hardware" | "none";
  onReadable?: (this: Serial, bytes: number) => void;
  onWritable?: (this: Serial, bytes: number) => void;
  format?: "number" | "buffer";
  target?: unknown;
}

const open = new WeakSet<UartPort>();

export default class Serial {
  target?: unknown;
  #port: UartPort | undefined;
  #format: "number" | "buffer";
  #pins: number[] = [];
  #posted = 0;

  constructor(options: SerialOptions) {
    const w = world();
    const number = Math.trunc(Number(options.port ?? 1));
    if (!(number >= 0 && number < 3)) throw new RangeError("invalid port");
    const baud = Math.trunc(Number(options.baud));
    if (!(baud > 0)) throw new RangeError("invalid baud");
    if (options.receive === undefined && options.transmit === undefined) throw new RangeError("receive or transmit required");
    const pins: number[] = [];
    for (const pin of [options.receive, options.transmit]) {
      if (pin === undefined) continue;
      const n = pinNumber(pin);
      if (!w.isPinValid(n)) throw new RangeError("invalid pin");
      if (!w.isPinFree(n)) throw new Error("in use");
      pins.push(n);
    }
    const format = options.format ?? "buffer";
    if (format !== "number" && format !== "buffer") throw new RangeError("unimplemented");
    const port = uart(w, number);
    if (open.has(port)) throw new Error("in use");
    if ("target" in options) this.target = options.target;
    this.#format = format;
    this.#pins = pins;
    for (const pin of pins) w.usePin(pin, "Serial");
    open.add(port);
    port.baud = baud;
    this.#port = port;
    const onReadable = typeof options.onReadable === "function" ? options.onReadable : undefined;
    const onWritable = typeof options.onWritable === "function" ? options.onWritable : undefined;
    const post = (flag: number) => {
      const pending = this.#posted;
      this.#posted |= flag;
      if (pending) return;
      setImmediate(() => {
        const flags = this.#posted;
        this.#posted = 0;
        const p = this.#port;
        if (p === undefined) return;
        if (flags & 1 && p.rx.length > 0) onReadable?.call(this, p.rx.length);
        if (flags & 2 && p.txSpace > 0 && this.#port !== undefined) onWritable?.call(this, p.txSpace);
      });
    };
    port.attach({ received: () => post(1), drained: () => post(2) });
    if (onWritable) post(2);
    if (port.rx.length > 0) post(1);
  }

  #active(): UartPort {
    const port = this.#port;
    if (port === undefined) throw closedError();
    return port;
  }

  read(what?: number | ArrayBufferLike | ArrayBufferView): number | ArrayBuffer | undefined {
    const port = this.#active();
    const available = port.rx.length;
    if (available === 0) return undefined;
    if (this.#format === "number") return port.rx.shift();
    if (typeof what === "object" && what !== null) {
      const into = bytesOf(what);
      const n = Math.min(into.length, available);
      if (n <= 0) throw new Error("invalid");
      into.set(port.rx.splice(0, n));
      return n;
    }
    const n = what === undefined ? available : Math.min(Math.trunc(Number(what)), available);
    if (!(n > 0)) throw new Error("invalid");
    return Uint8Array.from(port.rx.splice(0, n)).buffer;
  }

  write(value: number | ArrayBufferLike | ArrayBufferView): void {
    const port = this.#active();
    const bytes = typeof value === "number" ? Uint8Array.of(value & 0xff) : bytesOf(value);
    if (bytes.length > port.txSpace) throw new Error("output full");
    for (const b of bytes) port.tx.push(b);
    port.transmitted();
  }

  flush(): void {
    this.#active();
  }

  set(_options: { dataTerminalReady?: boolean; requestToSend?: boolean; break?: boolean }): void {
    this.#active();
  }

  close(): void {
    const port = this.#port;
    if (port === undefined) return;
    this.#port = undefined;
    port.attach(undefined);
    open.delete(port);
    const w = world();
    for (const pin of this.#pins) w.freePin(pin);
  }

  get format(): "number" | "buffer" {
    return this.#format;
  }

  set format(value: "number" | "buffer") {
    if (value !== "number" && value !== "buffer") throw new RangeError("unimplemented");
    this.#format = value;
  }
}
