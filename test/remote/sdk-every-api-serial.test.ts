// Every component API on a micro part reached over serial:// (a socat pseudo-terminal pair: the
// simulator holds one end as the part's UART, the host opens the other with node-serialport; COBS +
// CRC-32 frames at 115200 baud), through the host, from the official SDK over WebRTC, on both
// engines (sdk-every-api.ts). A reboot keeps the same wire, as on a board.
import { describe } from "node:test";
import { haveSocat } from "../../tools/sim/esp32/pty.js";
import { standardConfig, startMicro } from "../micro/harness.js";
import { everyApiThroughHost } from "./sdk-every-api.js";
import { microRemote, PART_UART, partPty } from "./support.js";

describe("serial://", { skip: !(await haveSocat()) && "socat is not installed (apt-get install socat; .ci/run installs it)" }, () => {
  everyApiThroughHost({
    title: "serial://",
    async start(engine) {
      const sim = await startMicro({ engine, config: { ...standardConfig(), rpc_uart: PART_UART } });
      const pty = await partPty(sim.world);
      return {
        sim,
        // A silent UART is noticed only by the connection check, which reads nine resource names at
        // 115200 baud: a longer interval than on TCP.
        remote: microRemote("esp", pty.address, { connection_check_interval: "1s" }),
        restart: () => startMicro({ engine, reboot: sim.world }),
        close: () => pty.close(),
      };
    },
  });
});
