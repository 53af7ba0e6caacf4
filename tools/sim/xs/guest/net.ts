// Moddable's `net` module on XS: Net.get runs in the Node shim (tools/sim/shims/net.ts) against the
// world's simulated station; Net.resolve's callback is called here when the shim answers.
import { callStatic, callStaticWithCallbacks, forgetCallback } from "./bridge.js";

const MODULE = "net";

export default class Net {
  static get(...args: unknown[]): unknown {
    return callStatic(MODULE, "get", args);
  }

  static resolve(name: string, callback: (name: string, address?: string) => void): void {
    let handles: number[] = [];
    const once = (n: string, address?: string) => {
      for (const h of handles) forgetCallback(h);
      callback(n, address);
    };
    handles = callStaticWithCallbacks(MODULE, "resolve", [name, once]).callbacks;
  }
}
