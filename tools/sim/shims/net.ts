// Moddable's `net` module for Node: what the simulated station reports and the names its network
// knows (../network.ts; never a real lookup). Only firmware imports map here
// (tools/sim/node-hooks.ts), since Node has its own "net".
import { network } from "../network.js";
import { world } from "../world.js";

export default class Net {
  static get(what: string): string | number | string[] | undefined {
    const n = network(world());
    const up = n.wifi.connected;
    switch (what) {
      case "IP":
        return up ? n.ip : undefined;
      case "MAC":
        return n.mac;
      case "SSID":
        return up ? n.wifi.ssid : undefined;
      case "BSSID":
        return up ? "02:00:00:00:00:01" : undefined;
      case "RSSI":
        return up ? -50 : undefined;
      case "DNS":
        return up ? ["127.0.0.53"] : [];
      default:
        return undefined;
    }
  }

  /** Answers from the world's name table (SimNetwork.hosts), later, as lwIP's lookup does. */
  static resolve(name: string, callback: (name: string, address?: string) => void): void {
    // Looked up now: on the XS engine the world is current only while the bridge makes this call.
    const address = network(world()).resolve(name);
    setImmediate(() => callback(name, address));
  }
}
