// The remote transports a host runs with: the defaults of transports.ts (tcp://, ws://, gRPC) plus
// the micro parts that need the host's own state: `serial://` lines, parts that dial in over the
// host's port (`dial-in`), and simulated parts it starts itself (`sim:`). Every micro transport
// manages its part's config (`part_config`, part-config.ts).
import type { RemoteTransportRegistry } from "./connection.js";
import { dialInTransport, type DialInServer } from "./dial-in.js";
import { withPartConfig } from "./part-config.js";
import { microSerialTransport } from "./serial.js";
import { simTransport, type SimParts } from "./sim.js";
import { defaultRemoteTransports, microTcpTransport, microWebSocketTransport } from "./transports.js";

export function hostRemoteTransports(dialIn: DialInServer, sims: SimParts): RemoteTransportRegistry {
  return defaultRemoteTransports()
    .register(withPartConfig(microTcpTransport))
    .register(withPartConfig(microWebSocketTransport))
    .register(withPartConfig(microSerialTransport))
    .register(withPartConfig(dialInTransport(dialIn)))
    .register(withPartConfig(simTransport(sims)));
}
