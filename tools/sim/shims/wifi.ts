// Moddable's `wifi` module for Node (modules/network/wifi/esp32/wifi.js): station mode only does
// something here. `new WiFi({ssid, password}, callback)` "joins" at once: the callback hears
// "connect" and then "gotIP" (posted, as on the board), the world's Wi-Fi counts as running (ADC2
// reads then fail, as on the chip), and `network(world).wifi` records the network. close() and
// WiFi.disconnect() leave it. Scans find nothing; access-point mode is recorded only.
import { network } from "../network.js";
import { world } from "../world.js";

type Message = "connect" | "gotIP" | "lostIP" | "disconnect" | "station_connect" | "station_disconnect";

export interface WiFiOptions {
  ssid: string;
  password?: string;
  bssid?: ArrayBuffer;
}

export default class WiFi {
  static readonly gotIP = "gotIP";
  static readonly lostIP = "lostIP";
  static readonly connected = "connect";
  static readonly disconnected = "disconnect";
  static readonly station_connected = "station_connect";
  static readonly station_disconnected = "station_disconnect";
  static readonly Mode = { off: -5, none: 0, station: 1, accessPoint: 2 } as const;

  #callback: ((message: Message) => void) | undefined;

  constructor(options?: WiFiOptions, callback?: (message: Message) => void) {
    this.#callback = callback;
    if (options !== undefined) WiFi.connect(options);
    if (callback !== undefined) {
      // The chip this Wi-Fi belongs to, not whichever world is current when the callback runs (the
      // XS engine makes its world current only while it calls into the shims).
      const w = world();
      setImmediate(() => {
        if (network(w).wifi.connected) {
          this.#callback?.("connect");
          this.#callback?.("gotIP");
        }
      });
    }
  }

  close(): void {
    this.#callback = undefined;
  }

  static get mode(): number {
    return network(world()).wifi.mode;
  }

  static set mode(value: number) {
    const w = world();
    network(w).wifi.mode = value;
    w.wifiActive = value > 0;
  }

  static connect(options?: WiFiOptions): void {
    const w = world();
    const wifi = network(w).wifi;
    if (options === undefined || typeof options.ssid !== "string" || options.ssid === "") return;
    wifi.mode = 1;
    wifi.ssid = options.ssid;
    wifi.connected = true;
    w.wifiActive = true;
  }

  static disconnect(): void {
    const w = world();
    const wifi = network(w).wifi;
    wifi.connected = false;
    wifi.ssid = undefined;
  }

  static scan(_options: { hidden?: boolean; channel?: number }, callback: (item: null) => void): void {
    setImmediate(() => callback(null));
  }

  static accessPoint(options: { ssid: string }): void {
    const w = world();
    network(w).wifi.mode = 2;
    network(w).wifi.ssid = options.ssid;
    w.wifiActive = true;
  }
}
