// Byte links under the RPC connections: an ECMA-419 TCP socket or a UART, each reading into one
// preallocated buffer and writing through a queue that respects the peripheral's free space
// (Moddable's TCP write throws "would block", its Serial write "output full", beyond it).
import { errorText, log } from "../log.js";
import { Serial, TCP } from "../platform/network.js";

/** What a connection needs from its link. */
export interface ByteLink {
  /** Queues bytes; a Promise means "the queue is backed up: wait before sending more". */
  write(bytes: Uint8Array): void | Promise<void>;
  close(): void;
  readonly peer: string;
}

export interface LinkEvents {
  /** Bytes read; the view is reused after the call returns. */
  onData(chunk: Uint8Array): void;
  /** The link is gone (remote close, error). Not called for close(). */
  onClosed(): void;
}

/** Bytes read per call into the preallocated buffer. */
const RX_BYTES = 512;

interface Pending {
  bytes: Uint8Array;
  offset: number;
  resolve(): void;
  reject(error: unknown): void;
}

/** Writes as much as the peripheral takes, keeps the rest for its next onWritable. */
export class WriteQueue {
  space = 0;
  readonly #queue: Pending[] = [];
  readonly #write: (bytes: Uint8Array) => number | undefined;
  #failed: unknown = undefined;

  /** `write` writes all of `bytes` (never more than `space`) and returns the space left if it knows it. */
  constructor(write: (bytes: Uint8Array) => number | undefined) {
    this.#write = write;
  }

  push(bytes: Uint8Array): void | Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    if (this.#queue.length === 0 && bytes.length <= this.space) {
      this.#send(bytes);
      return;
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ bytes, offset: 0, resolve, reject });
      this.drain();
    });
  }

  #send(bytes: Uint8Array): void {
    const left = this.#write(bytes);
    this.space = typeof left === "number" ? left : this.space - bytes.length;
  }

  /** Writes queued bytes while there is room. */
  drain(): void {
    const queue = this.#queue;
    while (queue.length > 0 && this.space > 0) {
      const head = queue[0];
      const n = Math.min(this.space, head.bytes.length - head.offset);
      this.#send(head.offset === 0 && n === head.bytes.length ? head.bytes : head.bytes.subarray(head.offset, head.offset + n));
      head.offset += n;
      if (head.offset === head.bytes.length) {
        queue.shift();
        head.resolve();
      }
    }
  }

  fail(error: unknown): void {
    if (this.#failed !== undefined) return;
    this.#failed = error;
    for (const p of this.#queue.splice(0)) p.reject(error);
  }
}

/** An accepted TCP connection (adopted from the Listener with `new TCP({from})`). */
export class TcpLink implements ByteLink {
  readonly peer: string;
  #socket: TCP | undefined;
  readonly #queue: WriteQueue;
  readonly #rx = new Uint8Array(RX_BYTES);

  constructor(from: TCP, events: LinkEvents) {
    let peer = "tcp";
    try {
      peer = "tcp " + from.remoteAddress + ":" + from.remotePort;
    } catch {
      // Not known: keep the generic name.
    }
    this.peer = peer;
    this.#queue = new WriteQueue((bytes) => {
      const left = (this.#socket as TCP).write(bytes) as unknown;
      return typeof left === "number" ? left : undefined;
    });
    this.#socket = new TCP({
      from,
      nodelay: true,
      onReadable: (count: number) => this.#read(count, events),
      onWritable: (space: number) => {
        this.#queue.space = space;
        try {
          this.#queue.drain();
        } catch (error) {
          this.#gone(events, error);
        }
      },
      onError: () => this.#gone(events, new Error("connection closed by peer")),
    });
  }

  #read(count: number, events: LinkEvents): void {
    const rx = this.#rx;
    while (count > 0 && this.#socket !== undefined) {
      const n = count < RX_BYTES ? count : RX_BYTES;
      const into = n === RX_BYTES ? rx : rx.subarray(0, n);
      this.#socket.read(into);
      count -= n;
      events.onData(into);
    }
  }

  #gone(events: LinkEvents, error: unknown): void {
    if (this.#socket === undefined) return;
    this.#closeSocket(error);
    events.onClosed();
  }

  #closeSocket(error: unknown): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#queue.fail(error);
    try {
      socket?.close();
    } catch (e) {
      log("debug", "closing " + this.peer + ": " + errorText(e));
    }
  }

  write(bytes: Uint8Array): void | Promise<void> {
    if (this.#socket === undefined) return Promise.reject(new Error("connection closed"));
    return this.#queue.push(bytes);
  }

  close(): void {
    this.#closeSocket(new Error("connection closed"));
  }
}

export interface UartOptions {
  port: number;
  receive: number;
  transmit: number;
  baud: number;
}

/** A UART carrying COBS frames. It never closes by itself. */
export class UartLink implements ByteLink {
  readonly peer: string;
  #serial: Serial | undefined;
  readonly #queue: WriteQueue;
  readonly #rx = new Uint8Array(RX_BYTES);

  constructor(options: UartOptions, events: LinkEvents) {
    this.peer = "uart " + options.port;
    this.#queue = new WriteQueue((bytes) => {
      (this.#serial as Serial).write(bytes);
      return undefined;
    });
    this.#serial = new Serial({
      port: options.port,
      receive: options.receive,
      transmit: options.transmit,
      baud: options.baud,
      onReadable: () => this.#read(events),
      onWritable: (space: number) => {
        this.#queue.space = space;
        this.#queue.drain();
      },
    });
  }

  #read(events: LinkEvents): void {
    const serial = this.#serial;
    if (serial === undefined) return;
    for (;;) {
      const n = serial.read(this.#rx);
      if (typeof n !== "number" || n <= 0) return;
      events.onData(n === RX_BYTES ? this.#rx : this.#rx.subarray(0, n));
      if (n < RX_BYTES) return;
    }
  }

  write(bytes: Uint8Array): void | Promise<void> {
    if (this.#serial === undefined) return Promise.reject(new Error("uart closed"));
    return this.#queue.push(bytes);
  }

  close(): void {
    const serial = this.#serial;
    this.#serial = undefined;
    this.#queue.fail(new Error("uart closed"));
    serial?.close();
  }
}
