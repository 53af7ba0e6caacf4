// Moddable's `mdns` module for Node (modules/network/mdns/mdns.js), recording instead of sending:
// the host name is claimed at once (callback(1, hostName), posted) and services added with add()
// appear in `network(world).mdns.services` until removed.
import { network, type MdnsService } from "../network.js";
import { world } from "../world.js";

export default class MDNS {
  readonly hostName: string;

  constructor(options: { hostName: string }, callback?: (message: number, value?: string) => void) {
    if (typeof options?.hostName !== "string" || options.hostName === "") throw new Error("hostName required");
    this.hostName = options.hostName;
    network(world()).mdns.hostName = options.hostName;
    if (callback !== undefined) setImmediate(() => callback.call(this, 1, options.hostName));
  }

  add(service: MdnsService): void {
    this.remove(service);
    network(world()).mdns.services.push({ name: service.name, protocol: service.protocol, port: service.port, txt: { ...(service.txt ?? {}) } });
  }

  update(service: MdnsService): void {
    this.add(service);
  }

  remove(service: MdnsService | string): void {
    const mdns = network(world()).mdns;
    mdns.services = mdns.services.filter((s) =>
      typeof service === "string" ? "_" + s.name + "._" + s.protocol !== service : !(s.name === service.name && s.protocol === service.protocol),
    );
  }

  monitor(_service: string, _callback: (service: string, instance: MdnsService) => void): void {}
}
