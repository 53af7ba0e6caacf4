// embedded:io/socket/tcp on XS: a proxy of the Node shim (tools/sim/shims/tcp.ts) on the host, which
// owns the real socket, lwIP's buffers and budget, and the callback rules. onReadable, onWritable
// and onError stay here and are called when the host delivers them. read(buffer) sends the buffer
// and copies back what the shim filled in. A Listener's read() returns a TCP made with
// TCP.twinOf (no constructor call: the host object exists already), to be adopted with
// `new TCP({from})` as on a board.
import { IOProxy } from "./bridge.js";

const FIRST = [0];

export default class TCP extends IOProxy {
  constructor(options: Record<string, unknown>) {
    super("embedded:io/socket/tcp", options);
  }

  /** @internal The guest twin of a TCP object the host made (a Listener's accepted connection). */
  static twinOf(_handle: number): TCP {
    return Object.create(TCP.prototype) as TCP;
  }

  read(...args: unknown[]): ArrayBuffer | number | undefined {
    const into = args[0];
    return this.call("read", args, typeof into === "object" && into !== null ? FIRST : undefined) as ArrayBuffer | number | undefined;
  }

  write(...args: unknown[]): number | undefined {
    return this.call("write", args) as number | undefined;
  }

  get remoteAddress(): string | undefined {
    return this.get("remoteAddress") as string | undefined;
  }

  get remotePort(): number | undefined {
    return this.get("remotePort") as number | undefined;
  }

  get format(): string {
    return this.get("format") as string;
  }

  set format(value: string) {
    this.set("format", value);
  }
}
