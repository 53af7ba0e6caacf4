// embedded:io/socket/tcp for Node, after Moddable's lwIP TCP (modules/io/socket/lwip/tcp.c), on a
// real Node socket:
// - callbacks are posted, not called from inside the IO: several triggers before delivery become
//   one call of each callback, in the order onReadable, onWritable, onError;
// - onWritable(bytes) fires once connected (or adopted) and whenever sent data frees send buffer;
//   `write` throws "would block" for more than the free space (TCP_SND_BUF, 5744 bytes on ESP-IDF,
//   less what is not yet flushed) and "not ready" before the connection is up; after an error it
//   silently does nothing;
// - `read()` returns every buffered byte as an ArrayBuffer (undefined when none), `read(n)` throws
//   "invalid" for more than is buffered, `read(buffer)` fills the whole buffer (same rule);
// - a remote close (FIN or reset) is an error, delivered through onError once the receive buffer is
//   empty; receiving stops (the Node socket is paused) while more than TCP_WND bytes wait unread;
// - `new TCP({from})` adopts a socket that a Listener's read() returned; the old object is closed.
// Every open socket takes one unit of the simulated lwIP's budget (../network.ts).
import { Socket, connect, isIP } from "node:net";
import { network, type SimNetwork } from "../network.js";
import { world, type World } from "../world.js";
import { bytesOf, closedError } from "./common.js";

/** ESP-IDF's CONFIG_LWIP_TCP_SND_BUF_DEFAULT and CONFIG_LWIP_TCP_WND_DEFAULT (4 × MSS 1436). */
export const TCP_SND_BUF = 5744;
export const TCP_WND = 5744;

const READABLE = 1;
const WRITABLE = 2;
const ERROR = 4;

type Callback = ((this: TCP, bytes: number) => void) | undefined;

export interface TCPOptions {
  address?: string;
  host?: string;
  port?: number;
  from?: TCP;
  nodelay?: boolean;
  onReadable?: (this: TCP, bytes: number) => void;
  onWritable?: (this: TCP, bytes: number) => void;
  onError?: (this: TCP) => void;
  format?: "number" | "buffer";
  target?: unknown;
}

/** One simulated lwIP connection: a Node socket plus what lwIP buffers for it. @internal */
export class SocketCore {
  readonly world: World;
  readonly network: SimNetwork;
  socket: Socket;
  readonly rx: Uint8Array[] = [];
  rxOffset = 0;
  rxBytes = 0;
  unflushed = 0;
  ready: boolean;
  error = false;
  owner: TCP | undefined = undefined;
  #triggered = 0;
  #released = false;
  #paused = false;
  #undispose: () => void;

  constructor(w: World, socket: Socket, ready: boolean) {
    this.world = w;
    this.network = network(w);
    this.socket = socket;
    this.ready = ready;
    socket.on("data", (chunk: Buffer) => {
      this.rx.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.rxBytes += chunk.byteLength;
      if (this.rxBytes > TCP_WND && !this.#paused) {
        this.#paused = true;
        socket.pause();
      }
      this.trigger(READABLE);
    });
    socket.on("connect", () => {
      this.ready = true;
      this.trigger(WRITABLE);
    });
    socket.on("end", () => this.fail());
    socket.on("error", () => this.fail());
    socket.on("close", () => {
      this.fail();
      this.release();
    });
    this.#undispose = w.onDispose(() => this.destroy());
  }

  get space(): number {
    return Math.max(0, TCP_SND_BUF - this.unflushed);
  }

  fail(): void {
    if (this.error) return;
    this.error = true;
    this.ready = false;
    this.trigger(ERROR);
  }

  trigger(flags: number): void {
    const pending = this.#triggered;
    this.#triggered |= flags;
    if (pending !== 0) return;
    setImmediate(() => this.#deliver());
  }

  #deliver(): void {
    let triggered = this.#triggered;
    this.#triggered = 0;
    const owner = this.owner;
    if (owner === undefined) return;
    if (triggered & ERROR) triggered &= ~WRITABLE;
    if (triggered & READABLE && this.rxBytes > 0) owner.fire("onReadable", this.rxBytes);
    if (this.rxBytes > 0 && this.error) return; // the error comes once the receive buffer is empty
    if (!this.error) {
      if (triggered & WRITABLE && this.space > 0) owner.fire("onWritable", this.space);
    } else {
      owner.fireError();
    }
  }

  /** Copies `n` buffered bytes into `out`. */
  take(out: Uint8Array, n: number): void {
    let at = 0;
    while (at < n) {
      const head = this.rx[0];
      const use = Math.min(n - at, head.length - this.rxOffset);
      out.set(head.subarray(this.rxOffset, this.rxOffset + use), at);
      at += use;
      this.rxOffset += use;
      if (this.rxOffset === head.length) {
        this.rx.shift();
        this.rxOffset = 0;
      }
    }
    this.rxBytes -= n;
    if (this.#paused && this.rxBytes <= TCP_WND / 2) {
      this.#paused = false;
      this.socket.resume();
    }
    if (this.rxBytes === 0 && this.error) this.trigger(ERROR);
  }

  write(bytes: Uint8Array): void {
    const copy = bytes.slice();
    this.unflushed += copy.length;
    this.socket.write(copy, () => {
      this.unflushed -= copy.length;
      if (!this.error) this.trigger(WRITABLE);
    });
  }

  /** Gives the socket's unit back to the budget (once). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.network.releaseSocket();
    this.#undispose();
  }

  destroy(): void {
    this.owner = undefined;
    this.socket.destroy();
    this.release();
  }
}

const ADOPT = Symbol("adopt");

/** Makes the TCP object a Listener's read() returns (no callbacks yet). @internal */
export function adoptedTCP(core: SocketCore): TCP {
  return new TCP({ [ADOPT]: core } as unknown as TCPOptions);
}

export default class TCP {
  target?: unknown;
  #core: SocketCore | undefined;
  #format: "number" | "buffer" = "buffer";
  #onReadable: Callback;
  #onWritable: Callback;
  #onError: ((this: TCP) => void) | undefined;
  #errorDelivered = false;

  constructor(options: TCPOptions) {
    const adopt = (options as { [ADOPT]?: SocketCore })[ADOPT];
    if (adopt !== undefined) {
      this.#core = adopt;
      adopt.owner = this;
      return;
    }
    const format = options.format ?? "buffer";
    if (format !== "number" && format !== "buffer") throw new RangeError("unimplemented");
    this.#format = format;
    this.#onReadable = typeof options.onReadable === "function" ? options.onReadable : undefined;
    this.#onWritable = typeof options.onWritable === "function" ? options.onWritable : undefined;
    this.#onError = typeof options.onError === "function" ? options.onError : undefined;
    if ("target" in options) this.target = options.target;

    if (options.from !== undefined) {
      const from = options.from;
      const core = from instanceof TCP ? from.#core : undefined;
      if (core === undefined) throw new Error("invalid from");
      from.#core = undefined; // the old object is closed; its socket lives on here
      this.#core = core;
      core.owner = this;
      if (options.nodelay !== undefined) core.socket.setNoDelay(Boolean(options.nodelay));
      let flags = 0;
      if (this.#onWritable && core.ready && core.space > 0) flags |= WRITABLE;
      if (this.#onReadable && core.rxBytes > 0) flags |= READABLE;
      if (core.error) flags |= ERROR;
      if (flags) core.trigger(flags);
      return;
    }

    const w = world();
    const net = network(w);
    const given = options.address ?? options.host;
    if (typeof given !== "string") throw new Error("invalid address");
    // A name is looked up in the world's own table, never by a real lookup: the simulated part
    // reaches only what the test put on its network.
    const address = isIP(given) !== 0 ? given : net.resolve(given);
    if (address === undefined) throw new Error("invalid address: cannot resolve " + given);
    const port = Math.trunc(Number(options.port));
    if (!(port >= 0 && port <= 65535)) throw new RangeError("invalid port");
    if (!net.takeSocket()) throw new RangeError("no socket");
    const socket = connect({ host: address, port });
    if (options.nodelay !== undefined) socket.setNoDelay(Boolean(options.nodelay));
    const core = new SocketCore(w, socket, false);
    core.owner = this;
    this.#core = core;
  }

  /** @internal */
  fire(which: "onReadable" | "onWritable", bytes: number): void {
    const cb = which === "onReadable" ? this.#onReadable : this.#onWritable;
    cb?.call(this, bytes);
  }

  /** @internal */
  fireError(): void {
    if (this.#errorDelivered) return;
    this.#errorDelivered = true;
    this.#onError?.call(this);
  }

  #active(): SocketCore {
    const core = this.#core;
    if (core === undefined) throw closedError();
    return core;
  }

  read(what?: number | ArrayBufferLike | ArrayBufferView): number | ArrayBuffer | undefined {
    const core = this.#active();
    if (core.rxBytes === 0) return undefined;
    if (this.#format === "number") {
      const one = new Uint8Array(1);
      core.take(one, 1);
      return one[0];
    }
    if (typeof what === "object" && what !== null) {
      const into = bytesOf(what);
      if (into.length <= 0 || into.length > core.rxBytes) throw new Error("invalid");
      core.take(into, into.length);
      return into.length;
    }
    const n = what === undefined ? core.rxBytes : Math.trunc(Number(what));
    if (!(n > 0 && n <= core.rxBytes)) throw new Error("invalid");
    const out = new ArrayBuffer(n);
    core.take(new Uint8Array(out), n);
    return out;
  }

  write(value: number | ArrayBufferLike | ArrayBufferView): number | undefined {
    const core = this.#active();
    if (!core.ready && !core.error) throw new Error("not ready");
    if (core.error) return undefined;
    const bytes = typeof value === "number" ? Uint8Array.of(value & 0xff) : bytesOf(value);
    if (bytes.length > core.space) throw new Error("would block");
    core.write(bytes);
    return core.space;
  }

  close(): void {
    const core = this.#core;
    if (core === undefined) return;
    this.#core = undefined;
    core.destroy();
  }

  get remoteAddress(): string | undefined {
    return this.#active().socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.#active().socket.remotePort;
  }

  get format(): "number" | "buffer" {
    return this.#format;
  }

  set format(value: "number" | "buffer") {
    if (value !== "number" && value !== "buffer") throw new RangeError("unimplemented");
    this.#format = value;
  }
}
