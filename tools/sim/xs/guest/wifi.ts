// Moddable's `wifi` module on XS: a proxy of the Node shim (tools/sim/shims/wifi.ts), which keeps
// the station state in the world's network. `new WiFi(options, callback)`: the callback stays here
// and hears the messages the shim posts ("connect", "gotIP"…). The static accessor `mode` and the
// static methods run in the shim; scan's callback is called here for each network and then null.
import { IOProxy, callStatic, callStaticWithCallbacks, forgetCallback, getStatic, setStatic } from "./bridge.js";

const MODULE = "wifi";

export default class WiFi extends IOProxy {
  static readonly gotIP = "gotIP";
  static readonly lostIP = "lostIP";
  static readonly connected = "connect";
  static readonly disconnected = "disconnect";
  static readonly station_connected = "station_connect";
  static readonly station_disconnected = "station_disconnect";
  static readonly Mode = { off: -5, none: 0, station: 1, accessPoint: 2 } as const;

  constructor(options?: Record<string, unknown>, callback?: (message: string) => void) {
    super(MODULE, options, callback);
  }

  static get mode(): number {
    return getStatic(MODULE, "mode") as number;
  }

  static set mode(value: number) {
    setStatic(MODULE, "mode", value);
  }

  static connect(...args: unknown[]): void {
    callStatic(MODULE, "connect", args);
  }

  static disconnect(...args: unknown[]): void {
    callStatic(MODULE, "disconnect", args);
  }

  static accessPoint(...args: unknown[]): void {
    callStatic(MODULE, "accessPoint", args);
  }

  static scan(options: unknown, callback: (item: unknown) => void): void {
    let handles: number[] = [];
    const each = (item: unknown) => {
      if (item === null || item === undefined) for (const h of handles) forgetCallback(h);
      callback(item);
    };
    handles = callStaticWithCallbacks(MODULE, "scan", [options, each]).callbacks;
  }
}
