// Every component API on a micro part that dials in (provisioned with the host's URL, it connects
// out over a WebSocket and both sides prove the part key), through the host, from the official SDK
// over WebRTC, on both engines (sdk-every-api.ts). After a reboot the part dials in again by itself.
import { PART_ID, PART_KEY, startMicro } from "../micro/harness.js";
import { everyApiThroughHost } from "./sdk-every-api.js";

const DIAL_IN_TIMING = { initialBackoffMs: 50, maxBackoffMs: 400 };

everyApiThroughHost({
  title: "dial-in",
  dialIn: {
    remote: {
      name: "esp",
      address: "dial-in",
      auth: { entity: PART_ID, credentials: { type: "api-key", payload: PART_KEY } },
      connection_check_interval: "500ms",
      reconnect_interval: "100ms",
    },
  },
  async start(engine, hostUrl) {
    const sim = await startMicro({ engine, hostUrl: `ws://127.0.0.1:${new URL(hostUrl!).port}`, dialIn: DIAL_IN_TIMING });
    return { sim, restart: () => startMicro({ engine, reboot: sim.world, dialIn: DIAL_IN_TIMING }) };
  },
});
