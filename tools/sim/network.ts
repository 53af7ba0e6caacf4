// The network side of a simulated ESP32: Wi-Fi station state, the addresses `net` reports, the
// names `Net.resolve` answers, mDNS advertisements, and lwIP's socket budget, shared by the wifi,
// net, mdns, embedded:io/socket/tcp and embedded:io/socket/listener shims. Sockets are real Node
// sockets, so a host process can connect to firmware running in the simulator.
//
// Socket budget: the simulated lwIP allows `maxSockets` open sockets at once, listeners included
// (CONFIG_LWIP_MAX_SOCKETS from firmware/sdkconfig/sdkconfig.defaults, else Moddable's 4). An
// incoming connection beyond it is reset at once, as lwIP drops a SYN it has no PCB for (the
// client sees a reset rather than a timeout, which keeps tests fast); an outgoing `new TCP()`
// beyond it throws "no socket", as tcp_new failing does in Moddable's lwip/tcp.c.
//
// Note: Moddable's ECMA-419 sockets use lwIP's raw API, whose real limit is MEMP_NUM_TCP_PCB
// (CONFIG_LWIP_MAX_ACTIVE_TCP, 16 by default); CONFIG_LWIP_MAX_SOCKETS bounds the BSD socket layer.
// The simulator applies the stricter of the two as the firmware's design budget.
//
// Names: `hosts` stands for the network's DNS and mDNS (tests set a name, change its address as a
// DHCP server would, or leave it unknown); nothing is ever looked up for real.
import { isIPv4 } from "node:net";
import { firmwareSdkconfig } from "./sdkconfig.js";
import type { World } from "./world.js";

export interface MdnsService {
  name: string;
  protocol: string;
  port: number;
  txt: Record<string, string>;
}

export interface ListenerRecord {
  /** The port the firmware asked for. */
  requested: number;
  /** The port the Node server listens on (differs when `portOverride` is set). */
  port: number | undefined;
  ready: Promise<number>;
}

export class SimNetwork {
  /** Open sockets allowed at once, listeners included. */
  maxSockets: number;
  /** Sockets open now: listeners, accepted connections (adopted or not), outgoing connections. */
  openSockets = 0;
  /** Incoming connections reset because the budget was used up. */
  refusedConnections = 0;
  /** Address the simulated listeners bind to on the host. */
  bindAddress = "127.0.0.1";
  /**
   * Port listeners really bind instead of the one the firmware asks for; 0 picks a free one, so
   * parallel tests never collide. undefined binds the firmware's port as it is.
   */
  portOverride: number | undefined = undefined;
  readonly ip = "127.0.0.1";
  readonly mac = "24:0a:c4:00:00:01";
  wifi: { mode: number; ssid: string | undefined; connected: boolean } = { mode: 0, ssid: undefined, connected: false };
  mdns: { hostName: string | undefined; services: MdnsService[] } = { hostName: undefined, services: [] };
  /** What DNS (and mDNS, for `.local`) answer on this network: lower-case name → IPv4 address. */
  readonly hosts = new Map<string, string>([["localhost", "127.0.0.1"]]);
  readonly listeners: ListenerRecord[] = [];
  readonly #waiters = new Map<number, ((port: number) => void)[]>();

  constructor() {
    this.maxSockets = firmwareSdkconfig().maxSockets;
  }

  /**
   * The address `Net.resolve` gives for `name`, or undefined: an IPv4 address answers itself (as
   * lwIP's dns_gethostbyname does), a name is looked up in `hosts` (case-insensitively, a final dot
   * ignored).
   */
  resolve(name: string): string | undefined {
    if (isIPv4(name)) return name;
    const key = (name.endsWith(".") ? name.slice(0, -1) : name).toLowerCase();
    return this.hosts.get(key);
  }

  /** Takes one socket from the budget; false when none is left. */
  takeSocket(): boolean {
    if (this.openSockets >= this.maxSockets) return false;
    this.openSockets++;
    return true;
  }

  releaseSocket(): void {
    if (this.openSockets > 0) this.openSockets--;
  }

  /** Records a listener; `ready` resolves with its real port once the Node server listens. */
  addListener(requested: number): { record: ListenerRecord; bound(port: number): void } {
    let resolve!: (port: number) => void;
    const ready = new Promise<number>((r) => (resolve = r));
    const record: ListenerRecord = { requested, port: undefined, ready };
    this.listeners.push(record);
    return {
      record,
      bound: (port) => {
        record.port = port;
        resolve(port);
        const waiters = this.#waiters.get(requested) ?? [];
        this.#waiters.delete(requested);
        for (const w of waiters) w(port);
      },
    };
  }

  /** The real port of the (latest) listener the firmware opened on `requested`, once it listens. */
  listening(requested: number): Promise<number> {
    for (let i = this.listeners.length - 1; i >= 0; i--) {
      const l = this.listeners[i];
      if (l.requested === requested) return l.ready;
    }
    return new Promise((resolve) => {
      const list = this.#waiters.get(requested) ?? [];
      list.push(resolve);
      this.#waiters.set(requested, list);
    });
  }
}

const networks = new WeakMap<World, SimNetwork>();

/** The network state of a world, made on first use. */
export function network(w: World): SimNetwork {
  let n = networks.get(w);
  if (n === undefined) {
    n = new SimNetwork();
    networks.set(w, n);
  }
  return n;
}
