// A host that goes away from a micro part on a serial line: the UART link never closes, so only the
// session the host keeps with the part (StartSession, heartbeats every window/5) tells the part that
// its host is gone. While the host is up, even idle for longer than the part's heartbeat window, the
// motor it drove keeps running; once the host closes, the part stops the motor within its window
// though its UART connection stays open. The deadlines here only bound a hang.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MotorClient, RobotClient } from "@viamrobotics/sdk";
import type { Host } from "../../host/host.js";
import { haveSocat } from "../../tools/sim/esp32/pty.js";
import { PINS, standardConfig, startMicro, type MicroSim } from "../micro/harness.js";
import { disconnectSdk, tameSdk } from "../sdk/harness.js";
import { startTestHost } from "../support/host.js";
import { dialHost, eventually, microRemote, PART_UART, partPty, stateOf } from "./support.js";

const UART = PART_UART;
/** The part's session heartbeat window (its config's network.sessions.heartbeat_window). */
const WINDOW_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a host driving a micro part over a serial line goes away", { skip: !(await haveSocat()) && "socat is not installed" }, () => {
  let sim: MicroSim;
  let pty: Awaited<ReturnType<typeof partPty>>;
  let host: Host | undefined;
  let client: RobotClient | undefined;
  let untame: () => void;

  const duty = () => sim.world.pwm(PINS.motor.pwm)?.dutyCycle ?? 0;

  before(async () => {
    untame = tameSdk();
    sim = await startMicro({ config: { ...standardConfig(), rpc_uart: UART, network: { sessions: { heartbeat_window: `${WINDOW_MS}ms` } } } });
    pty = await partPty(sim.world);
    host = await startTestHost({ remotes: [microRemote("esp", pty.address, { connection_check_interval: "2s" })] });
    await eventually("esp:m1 ready", () => stateOf(host!, "rdk:component:motor/esp:m1") === "ready", 20_000);
    client = await dialHost(host);
  });

  after(async () => {
    if (client) await disconnectSdk(client);
    await host?.close();
    await pty?.close();
    await sim?.stop();
    untame?.();
  });

  it("while the host is up and idle for longer than the part's window, the motor it drove keeps running", async () => {
    await new MotorClient(client!, "esp:m1").setPower(0.4);
    assert.ok(Math.abs(duty() - 0.4) < 0.01);
    await sleep(WINDOW_MS * 2.5);
    assert.ok(Math.abs(duty() - 0.4) < 0.01, "the host's heartbeats kept the session");
    assert.equal(sim.runtime.machine.safety.sessions.size, 1, "one session: the host's");
  });

  it("the session lapses under a live host (as after a stall): the motor stops, and the host's next heartbeat starts another session", async () => {
    const sessions = sim.runtime.machine.safety.sessions;
    const uartConnection = sim.runtime.uart!.connection.info.id;
    const lapsed = sessions.of(uartConnection);
    assert.ok(lapsed, "the host's session is the UART connection's");
    lapsed.lastSeen = 0; // as if no heartbeat had come for ages
    await eventually("the motor stopped", () => duty() === 0, WINDOW_MS + 10_000);
    await eventually("another session", () => sessions.of(uartConnection) !== undefined, WINDOW_MS + 10_000);
    assert.notEqual(sessions.of(uartConnection)?.id, lapsed.id);
    await new MotorClient(client!, "esp:m1").setPower(0.3);
    await sleep(WINDOW_MS * 1.5);
    assert.ok(Math.abs(duty() - 0.3) < 0.01, "kept running under the new session");
  });

  it("the host closes: the part stops the motor within its window, though the UART never closed", async () => {
    assert.ok(duty() > 0, "still driven from the test before");
    await disconnectSdk(client!);
    client = undefined;
    await host!.close();
    host = undefined;
    await eventually("the motor stopped", () => duty() === 0, WINDOW_MS + 10_000);
    assert.deepEqual([sim.world.gpio.level(PINS.motor.a), sim.world.gpio.level(PINS.motor.b)], [0, 0]);
    const uart = sim.runtime.uart?.connection;
    assert.ok(uart && !uart.closed && uart.info.authenticated, "the part's UART connection is still open and authenticated");
    assert.equal(sim.runtime.machine.safety.sessions.size, 0);
    assert.equal(sim.runtime.tcp?.connections.size, 0, "nothing went over TCP");
  });
});
