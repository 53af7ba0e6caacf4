// embedded:io/socket/listener for Node, after Moddable's lwIP Listener (modules/io/socket/lwip/
// tcp.c): a real Node server on the host, so other processes can connect to the simulated board.
// onReadable(count) is posted when connections wait; read() hands out the oldest as a TCP object
// without callbacks (wrap it with `new TCP({from})`), or undefined. Data that arrives before the
// firmware adopts a connection is buffered, as lwIP does.
//
// The listener takes one unit of the simulated lwIP's socket budget, each accepted connection
// another; a connection that finds the budget spent is reset at once (see ../network.ts). The port
// bound is the requested one unless the world's network sets `portOverride` (0: any free port);
// `network(world).listening(port)` resolves with the real port.
import { createServer, type Server, type Socket } from "node:net";
import { network } from "../network.js";
import { world } from "../world.js";
import { closedError } from "./common.js";
import { SocketCore, adoptedTCP } from "./tcp.js";
import type TCP from "./tcp.js";

export interface ListenerOptions {
  port?: number;
  address?: string;
  onReadable?: (this: Listener, requests: number) => void;
  format?: "socket/tcp";
  target?: unknown;
}

export default class Listener {
  target?: unknown;
  readonly #requested: number;
  #server: Server | undefined;
  readonly #pending: SocketCore[] = [];
  #posted = false;
  readonly #onReadable: ((this: Listener, requests: number) => void) | undefined;
  #release: () => void;

  constructor(options: ListenerOptions) {
    const w = world();
    const net = network(w);
    const port = Math.trunc(Number(options.port ?? 0));
    if (!(port >= 0 && port <= 65535)) throw new RangeError("invalid port");
    if (options.format !== undefined && options.format !== "socket/tcp") throw new RangeError("unimplemented");
    if (!net.takeSocket()) throw new Error("no socket");
    this.#requested = port;
    this.#onReadable = typeof options.onReadable === "function" ? options.onReadable : undefined;
    if ("target" in options) this.target = options.target;

    const { bound } = net.addListener(port);
    const server = createServer({ allowHalfOpen: false, pauseOnConnect: false }, (socket: Socket) => {
      if (!net.takeSocket()) {
        net.refusedConnections++;
        socket.resetAndDestroy();
        return;
      }
      this.#pending.push(new SocketCore(w, socket, true));
      this.#post();
    });
    server.on("error", (err) => {
      // On a board a bind failure throws "socket bind" from the constructor; Node binds later.
      queueMicrotask(() => {
        throw new Error("simulated Listener on port " + port + ": " + err.message);
      });
    });
    server.listen(net.portOverride ?? port, options.address ?? net.bindAddress, () => {
      const address = server.address();
      bound(typeof address === "object" && address !== null ? address.port : port);
    });
    this.#server = server;
    let released = false;
    const undispose = w.onDispose(() => this.close());
    this.#release = () => {
      if (released) return;
      released = true;
      net.releaseSocket();
      undispose();
    };
  }

  #post(): void {
    if (this.#posted) return;
    this.#posted = true;
    setImmediate(() => {
      this.#posted = false;
      if (this.#server !== undefined && this.#pending.length > 0) this.#onReadable?.call(this, this.#pending.length);
    });
  }

  read(): TCP | undefined {
    if (this.#server === undefined) throw closedError();
    const core = this.#pending.shift();
    return core === undefined ? undefined : adoptedTCP(core);
  }

  close(): void {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    server.close();
    for (const core of this.#pending.splice(0)) core.destroy();
    this.#release();
  }

  /** The port asked for (the real one may differ in the simulator; see network(world).listening). */
  get port(): number {
    return this.#requested;
  }

  get format(): "socket/tcp" {
    return "socket/tcp";
  }

  set format(value: string) {
    if (value !== "socket/tcp") throw new RangeError("unimplemented");
  }
}
