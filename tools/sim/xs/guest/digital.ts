// embedded:io/digital on XS: a proxy of the Node shim (tools/sim/shims/digital.ts) on the host.
// The statics are ECMA-419's constants.
import { IOProxy } from "./bridge.js";

export default class Digital extends IOProxy {
  static readonly Input = 0;
  static readonly InputPullUp = 1;
  static readonly InputPullDown = 2;
  static readonly InputPullUpDown = 3;
  static readonly Output = 8;
  static readonly OutputOpenDrain = 9;
  static readonly Rising = 1;
  static readonly Falling = 2;

  constructor(options: Record<string, unknown>) {
    super("embedded:io/digital", options);
  }

  read(): number {
    return this.call("read", []) as number;
  }

  write(...args: unknown[]): void {
    this.call("write", args);
  }

  get format(): string {
    return this.get("format") as string;
  }

  set format(value: string) {
    this.set("format", value);
  }
}
