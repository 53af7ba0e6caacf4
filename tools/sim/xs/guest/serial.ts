// embedded:io/serial on XS: a proxy of the Node shim (tools/sim/shims/serial.ts) on a simulated
// UART (tools/sim/uart.ts). read(buffer) sends the buffer and copies back what the shim filled in.
import { IOProxy } from "./bridge.js";

const FIRST = [0];

export default class Serial extends IOProxy {
  constructor(options: Record<string, unknown>) {
    super("embedded:io/serial", options);
  }

  read(...args: unknown[]): ArrayBuffer | number | undefined {
    const into = args[0];
    return this.call("read", args, typeof into === "object" && into !== null ? FIRST : undefined) as ArrayBuffer | number | undefined;
  }

  write(...args: unknown[]): void {
    this.call("write", args);
  }

  flush(...args: unknown[]): void {
    this.call("flush", args);
  }

  // Serial's set({dataTerminalReady, requestToSend, break}), shadowing IOProxy's protected set().
  override set(...args: unknown[]): void {
    this.call("set", args);
  }

  get format(): string {
    return this.get("format") as string;
  }

  set format(value: string) {
    super.set("format", value); // IOProxy's accessor helper: this class's own set() is Serial's
  }
}
