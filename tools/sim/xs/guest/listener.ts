// embedded:io/socket/listener on XS: a proxy of the Node shim (tools/sim/shims/listener.ts), whose
// real Node server accepts connections for the simulated board. read() returns the oldest waiting
// connection as a guest TCP (its twin on the host is the shim's TCP), or undefined.
import { IOProxy } from "./bridge.js";
import TCP from "./tcp.js";

const NO_ARGS: unknown[] = [];
const twin = (handle: number): object => TCP.twinOf(handle);

export default class Listener extends IOProxy {
  constructor(options: Record<string, unknown>) {
    super("embedded:io/socket/listener", options);
  }

  read(): TCP | undefined {
    return this.callMaking("read", NO_ARGS, twin) as TCP | undefined;
  }

  get port(): number {
    return this.get("port") as number;
  }

  get format(): string {
    return this.get("format") as string;
  }

  set format(value: string) {
    this.set("format", value);
  }
}
