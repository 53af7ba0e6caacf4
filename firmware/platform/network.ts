// The platform seam for networking: Wi-Fi station mode, mDNS, host name resolution, the TCP
// listener and sockets, and the UART. Moddable modules on a board; the simulator's shims on Node
// (tools/sim/shims).
import Listener from "embedded:io/socket/listener";
import TCP from "embedded:io/socket/tcp";
import Serial from "embedded:io/serial";
import MDNS from "mdns";
import Net from "net";
import Timer from "timer";
import WiFi from "wifi";
import { errorText, log } from "../log.js";

export { Listener, Serial, TCP };

/** Delay before joining again after the station lost its network. */
const WIFI_RETRY_MS = 2000;

/**
 * Joins a Wi-Fi network in station mode and stays joined: after a disconnect it joins again
 * WIFI_RETRY_MS later. `onUp` runs once, at the first address.
 */
export function startWifi(ssid: string, password: string | undefined, onUp: () => void): WiFi | undefined {
  const network = password ? { ssid, password } : { ssid };
  let up = false;
  let retry: Timer | undefined;
  try {
    WiFi.mode = WiFi.Mode.station;
    return new WiFi(network, (message) => {
      if (message === WiFi.gotIP) {
        log("info", "wifi: joined " + ssid);
        if (!up) {
          up = true;
          onUp();
        }
      } else if (message === WiFi.disconnected && retry === undefined) {
        log("warn", "wifi: disconnected from " + ssid + "; joining again in " + WIFI_RETRY_MS + " ms");
        retry = Timer.set(() => {
          retry = undefined;
          WiFi.connect(network);
        }, WIFI_RETRY_MS);
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

/**
 * Looks up the IPv4 address of a host name: `onResolved(name, address)` later, address undefined
 * when the name does not resolve. Moddable's Net.resolve over lwIP's dns_gethostbyname, which asks
 * the DHCP-given DNS servers and answers `.local` names by mDNS (ESP-IDF's default
 * CONFIG_LWIP_DNS_SUPPORT_MDNS_QUERIES); it always answers, a lookup nobody answers timing out
 * without an address. Throws when lwIP refuses the lookup ("dns request failed").
 */
export function resolveHost(name: string, onResolved: (name: string, address: string | undefined) => void): void {
  (Net as unknown as ModdableNet).resolve(name, onResolved);
}

/**
 * What resolveHost uses of Moddable's `net` (as @moddable/typings declares it). Typed here because
 * the root (Node) build, which compiles firmware/ too, sees Node's own "net" module under that name.
 */
interface ModdableNet {
  resolve(name: string, callback: (name: string, address?: string) => void): void;
}
