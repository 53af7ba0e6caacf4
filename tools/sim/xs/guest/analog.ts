// embedded:io/analog on XS: a proxy of the Node shim (tools/sim/shims/analog.ts) on the host.
import { IOProxy } from "./bridge.js";

export default class Analog extends IOProxy {
  constructor(options: Record<string, unknown>) {
    super("embedded:io/analog", options);
  }

  read(): number {
    return this.call("read", []) as number;
  }

  get resolution(): number {
    return this.get("resolution") as number;
  }

  get format(): string {
    return this.get("format") as string;
  }

  set format(value: string) {
    this.set("format", value);
  }
}
