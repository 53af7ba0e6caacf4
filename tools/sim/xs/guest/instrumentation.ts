// Moddable's `instrumentation` module on XS: the Node shim (tools/sim/shims/instrumentation.ts)
// answers from the world (free heap, sockets in use).
import { callStatic } from "./bridge.js";

const MODULE = "instrumentation";

export default class Instrumentation {
  static map(...args: unknown[]): number | undefined {
    return callStatic(MODULE, "map", args) as number | undefined;
  }

  static name(...args: unknown[]): string | undefined {
    return callStatic(MODULE, "name", args) as string | undefined;
  }

  static get(...args: unknown[]): number | undefined {
    return callStatic(MODULE, "get", args) as number | undefined;
  }
}
