// Moddable's `mdns` module on XS: a proxy of the Node shim (tools/sim/shims/mdns.ts), which records
// the host name and services in the world's network. `new MDNS(options, callback)`: the callback
// stays here and hears (1, hostName) once the name is claimed.
import { IOProxy } from "./bridge.js";

export default class MDNS extends IOProxy {
  constructor(options: Record<string, unknown>, callback?: (message: number, value?: string) => void) {
    super("mdns", options, callback);
  }

  get hostName(): string {
    return this.get("hostName") as string;
  }

  add(...args: unknown[]): void {
    this.call("add", args);
  }

  update(...args: unknown[]): void {
    this.call("update", args);
  }

  remove(...args: unknown[]): void {
    this.call("remove", args);
  }

  monitor(...args: unknown[]): void {
    this.call("monitor", args);
  }
}
