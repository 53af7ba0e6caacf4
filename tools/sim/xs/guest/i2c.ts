// embedded:io/i2c on XS: a proxy of the Node shim (tools/sim/shims/i2c.ts) on the host.
// read(buffer) sends the buffer and copies back what the shim filled in.
import { IOProxy } from "./bridge.js";

const FIRST = [0];

export default class I2C extends IOProxy {
  constructor(options: Record<string, unknown>) {
    super("embedded:io/i2c", options);
  }

  read(...args: unknown[]): ArrayBuffer | number {
    const into = args[0];
    return this.call("read", args, typeof into === "object" && into !== null ? FIRST : undefined) as ArrayBuffer | number;
  }

  write(...args: unknown[]): number | undefined {
    return this.call("write", args) as number | undefined;
  }

  get format(): string {
    return this.get("format") as string;
  }

  set format(value: string) {
    this.set("format", value);
  }
}
