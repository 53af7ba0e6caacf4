// Every component API on a micro part reached over tcp:// (the part's TCP RPC port, length-prefixed
// frames), through the host, from the official SDK over WebRTC, on both engines (sdk-every-api.ts).
// A relay keeps the part's address when it reboots onto another port.
import { startMicro } from "../micro/harness.js";
import { everyApiThroughHost } from "./sdk-every-api.js";
import { microRemote, Relay } from "./support.js";

everyApiThroughHost({
  title: "tcp://",
  async start(engine) {
    const sim = await startMicro({ engine });
    const relay = await Relay.start(sim.port);
    return {
      sim,
      remote: microRemote("esp", `tcp://127.0.0.1:${relay.port}`),
      async restart() {
        const again = await startMicro({ engine, reboot: sim.world });
        relay.target = again.port;
        return again;
      },
      close: () => relay.close(),
    };
  },
});
