// Moddable's preference module on XS: Preference's static methods run in the Node shim
// (tools/sim/shims/preference.ts) against the World's NVS, with its limits and error texts.
import { callStatic } from "./bridge.js";

const MODULE = "preference";

export default class Preference {
  static set(...args: unknown[]): void {
    callStatic(MODULE, "set", args);
  }

  static get(...args: unknown[]): unknown {
    return callStatic(MODULE, "get", args);
  }

  static delete(...args: unknown[]): void {
    callStatic(MODULE, "delete", args);
  }

  static keys(...args: unknown[]): string[] {
    return callStatic(MODULE, "keys", args) as string[];
  }
}
