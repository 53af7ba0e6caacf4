// The platform seam for networking: Wi-Fi station mode, mDNS, the TCP listener and sockets, and
// the UART. Moddable modules on a board; the simulator's shims on Node (tools/sim/shims).
import Listener from "embedded:io/socket/listener";
import TCP from "embedded:io/socket/tcp";
import Serial from "embedded:io/serial";
import MDNS from "mdns";
import WiFi from "wifi";
import { errorText, log } from "../log.js";

export { Listener, Serial, TCP };

/** Joins a Wi-Fi network in station mode; `onUp` runs once an address is assigned. */
export function startWifi(ssid: string, password: string | undefined, onUp: () => void): WiFi | undefined {
  try {
    let up = false;
    return new WiFi(password ? { ssid, password } : { ssid }, (message) => {
      if (message === WiFi.gotIP) {
        log("info", "wifi: joined " + ssid);
        if (!up) {
          up = true;
          onUp();
        }
      } else if (message === WiFi.disconnected) {
        log("warn", "wifi: disconnected from " + ssid + "; the driver reconnects");
      }
    });
  } catch (error) {
    log("error", "wifi: cannot start station mode: " + errorText(error));
    return undefined;
  }
}

/** Claims `<hostName>.local` and advertises the RPC port as `_sprocket._tcp` with a `part` TXT key. */
export function advertise(hostName: string, port: number, txt: Record<string, string>): MDNS | undefined {
  try {
    const mdns: MDNS = new MDNS({ hostName }, (message, value) => {
      if (message === 1 && value) mdns.add({ name: "sprocket", protocol: "tcp", port, txt });
    });
    return mdns;
  } catch (error) {
    log("warn", "mdns: cannot advertise " + hostName + ": " + errorText(error));
    return undefined;
  }
}
