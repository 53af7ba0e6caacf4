// Serial remotes: `serial:///dev/ttyX?baud=N`. The simulated part's UART RPC server (its config's
// rpc_uart) sits on one end of a socat pseudo-terminal pair (tools/cli/micro-sim.ts serveUartOnPty,
// paced at the UART's baud rate), the host opens the other end with node-serialport and speaks COBS
// frames to it; the official SDK, connected to the host, reads the part's sensor and drives its
// motor through it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MotorClient, RobotClient, SensorClient } from "@viamrobotics/sdk";
import type { Host } from "../../host/host.js";
import { DEFAULT_SERIAL_BAUD, parseSerialAddress } from "../../host/remote/serial.js";
import { haveSocat } from "../../tools/sim/esp32/pty.js";
import { PINS, standardConfig, startMicro, type MicroSim } from "../micro/harness.js";
import { disconnectSdk, tameSdk } from "../sdk/harness.js";
import { startTestHost } from "../support/host.js";
import { dialHost, eventually, microRemote, PART_UART, partPty, stateOf } from "./support.js";

const UART = PART_UART;

describe("serial remote addresses", () => {
  it("parse serial:///dev/ttyX?baud=N, with the default baud rate and Windows-style names", () => {
    assert.deepEqual(parseSerialAddress("serial:///dev/ttyUSB0?baud=921600"), { path: "/dev/ttyUSB0", baud: 921600 });
    assert.deepEqual(parseSerialAddress("serial:///dev/ttyACM1"), { path: "/dev/ttyACM1", baud: DEFAULT_SERIAL_BAUD });
    assert.deepEqual(parseSerialAddress("serial://COM3?baud=115200"), { path: "COM3", baud: 115200 });
    assert.throws(() => parseSerialAddress("serial:///dev/ttyUSB0?baud=fast"), /baud must be a positive integer/);
    assert.throws(() => parseSerialAddress("serial:///dev/ttyUSB0?parity=even"), /unknown option "parity"/);
  });
});

describe("a micro part on a serial line (socat pty pair)", { skip: !(await haveSocat()) && "socat is not installed" }, () => {
  let sim: MicroSim;
  let pty: Awaited<ReturnType<typeof partPty>>;
  let host: Host;
  let client: RobotClient;
  let untame: () => void;

  before(async () => {
    untame = tameSdk();
    sim = await startMicro({ config: { ...standardConfig(), rpc_uart: UART } });
    pty = await partPty(sim.world);
    host = await startTestHost({
      components: [{ name: "local", api: "rdk:component:sensor", model: "fake" }],
      remotes: [microRemote("esp", pty.address, { connection_check_interval: "2s" })],
    });
    await eventually("esp:env ready", () => stateOf(host, "rdk:component:sensor/esp:env") === "ready", 20_000);
    client = await dialHost(host);
  });

  after(async () => {
    if (client) await disconnectSdk(client);
    await host?.close();
    await pty?.close();
    await sim?.stop();
    untame?.();
  });

  it("the SDK reads the part's sensor and drives its motor through the host over the UART", async () => {
    const readings = await new SensorClient(client, "esp:env").getReadings();
    assert.ok(Math.abs((readings.temperature as number) - 21.5) < 0.5, JSON.stringify(readings));
    const motor = new MotorClient(client, "esp:m1");
    await motor.setPower(0.4);
    assert.ok(Math.abs((sim.world.pwm(PINS.motor.pwm)?.dutyCycle ?? 0) - 0.4) < 0.01);
    await motor.stop();
    assert.equal(sim.world.pwm(PINS.motor.pwm)?.dutyCycle ?? 0, 0);
    // Nothing went over TCP: the part's UART connection carried it all.
    assert.equal(sim.runtime.tcp?.connections.size, 0);
    assert.ok((sim.runtime.uart?.connection.cobs?.frames ?? 0) > 0);
  });
});
