// embedded:io/pwm on XS: a proxy of the Node shim (tools/sim/shims/pwm.ts) on the host.
import { IOProxy } from "./bridge.js";

export default class PWM extends IOProxy {
  constructor(options: Record<string, unknown>) {
    super("embedded:io/pwm", options);
  }

  write(...args: unknown[]): void {
    this.call("write", args);
  }

  get hz(): number {
    return this.get("hz") as number;
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
