// A simulated micro part (the firmware on the Node engine, a real TCP port) as a remote of a host:
// the official SDK, connected once to the host, drives the part's resources through the host's
// forwarder (sensor readings from the BME280 model, GPIO levels and PWM duty in the part's World); a
// host gpio motor built on the part's board moves the part's pins; the part dying makes its
// resources UNHEALTHY and its return brings them (and the host motor) back; a lapsed session stops
// the part's motor it drove; a WebSocket link reaches the same part.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { BoardClient, EncoderClient, MotorClient, RobotClient, SensorClient, ServoClient, type Tick } from "@viamrobotics/sdk";
import type { Host } from "../../host/host.js";
import { MotorService } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { BoardService } from "../../proto/gen/component/board/v1/board_pb.js";
import { connectAuthenticated, PINS, startMicro, type MicroSim } from "../micro/harness.js";
import { disconnectSdk, tameSdk } from "../sdk/harness.js";
import { startTestHost } from "../support/host.js";
import { dialHost, eventually, microRemote, Relay, stateOf, WsBridge, entry } from "./support.js";

// The host's own gpio motor on the part's board.
const HOST_MOTOR_PINS = { a: 16, b: 17, pwm: 18 };

interface ResourceNameShape {
  namespace: string;
  type: string;
  subtype: string;
  name: string;
}

describe("a micro part as a remote (tcp://, ws://)", () => {
  let sim: MicroSim;
  let relay: Relay;
  let ws: WsBridge;
  let host: Host;
  let client: RobotClient;
  let untame: () => void;

  before(async () => {
    untame = tameSdk();
    sim = await startMicro();
    relay = await Relay.start(sim.port);
    ws = await WsBridge.start(sim.port, "/rpc");
    host = await startTestHost({
      remotes: [
        microRemote("esp", `tcp://127.0.0.1:${relay.port}`),
        microRemote("espws", `ws://127.0.0.1:${ws.port}/rpc`, { connection_check_interval: "10s" }),
      ],
      components: [
        {
          name: "hm",
          api: "rdk:component:motor",
          model: "gpio",
          attributes: { board: "esp:board", pins: { a: String(HOST_MOTOR_PINS.a), b: String(HOST_MOTOR_PINS.b), pwm: String(HOST_MOTOR_PINS.pwm) }, max_rpm: 100 },
        },
      ],
      network: { sessions: { heartbeat_window: "500ms" } },
    });
    client = await dialHost(host);
  });

  after(async () => {
    if (client) await disconnectSdk(client);
    await host?.close();
    await ws?.close();
    await relay?.close();
    await sim?.stop();
    untame?.();
  });

  it("ResourceNames lists the part's resources as esp:name; GetMachineStatus has the remote and them READY", async () => {
    const names = ((await client.resourceNames()) as ResourceNameShape[]).map((r) => `${r.subtype}/${r.name}`);
    for (const n of ["sensor/esp:env", "board/esp:board", "motor/esp:m1", "encoder/esp:enc", "servo/esp:servo", "motor/hm", "sensor/espws:env"]) {
      assert.ok(names.includes(n), `${n} in ${names.join(", ")}`);
    }
    assert.ok(!names.some((n) => n.startsWith("/")), "the remote's own node is not a resource name");
    const status = await client.getMachineStatus();
    const byName = new Map(
      (status.resources as { name?: ResourceNameShape; state: number; error: string }[]).map((r) => [
        `${r.name?.namespace}:${r.name?.type}:${r.name?.subtype}/${r.name?.name}`,
        r,
      ]),
    );
    assert.equal(byName.get("rdk-internal:remote:/esp")?.state, 3 /* READY */);
    assert.equal(byName.get("rdk:component:sensor/esp:env")?.state, 3);
    assert.equal(byName.get("rdk:component:motor/hm")?.state, 3, byName.get("rdk:component:motor/hm")?.error);
  });

  it("sensor readings come from the part's BME280 model", async () => {
    const r = await new SensorClient(client, "esp:env").getReadings();
    assert.ok(Math.abs((r.temperature as number) - 21.5) < 0.5, `temperature ${String(r.temperature)}`);
    assert.ok(Math.abs((r.humidity as number) - 40) < 1, `humidity ${String(r.humidity)}`);
    assert.ok(Math.abs((r.pressure as number) - 101_325) < 200, `pressure ${String(r.pressure)}`);
  });

  it("board GPIO moves a pin in the part's World and reads it back; analog readers go by board_name", async () => {
    const board = new BoardClient(client, "esp:board");
    await board.setGPIO(String(PINS.gpio), true);
    assert.equal(sim.world.gpio.level(PINS.gpio), 1);
    assert.equal(await board.getGPIO(String(PINS.gpio)), true);
    await board.setGPIO(String(PINS.gpio), false);
    assert.equal(sim.world.gpio.level(PINS.gpio), 0);
    const a = await board.readAnalogReader("a1");
    assert.ok(a.value > 0, `analog a1 read ${a.value}`);
    assert.equal(typeof (await board.getDigitalInterruptValue(String(PINS.interrupt))), "number");
  });

  it("board StreamTicks streams the part's interrupt edges through the host, and ends when aborted", async () => {
    const board = new BoardClient(client, "esp:board");
    const ticks: Tick[] = [];
    const abort = new AbortController();
    const streaming = board.streamTicks([String(PINS.interrupt)], ticks, {}, { signal: abort.signal }).catch(() => undefined);
    // Edges until one arrives (the stream may open on the part a little after the call returns).
    await eventually("a tick through the host", () => {
      sim.world.gpio.drive(PINS.interrupt, 1);
      sim.world.gpio.drive(PINS.interrupt, 0);
      return ticks.length > 0;
    });
    assert.equal(ticks[0].pinName, String(PINS.interrupt));
    abort.abort();
    await streaming;
  });

  it("motor SetPower drives the PWM duty on the part's pin; Stop ends it", async () => {
    const motor = new MotorClient(client, "esp:m1");
    await motor.setPower(0.5);
    assert.ok(Math.abs((sim.world.pwm(PINS.motor.pwm)?.dutyCycle ?? 0) - 0.5) < 0.01, `duty ${sim.world.pwm(PINS.motor.pwm)?.dutyCycle}`);
    assert.equal(await motor.isMoving(), true);
    await motor.stop();
    assert.equal(sim.world.pwm(PINS.motor.pwm)?.dutyCycle ?? 0, 0);
    assert.deepEqual(await new EncoderClient(client, "esp:enc").getProperties().then((p: { ticksCountSupported: boolean }) => p.ticksCountSupported), true);
    await new ServoClient(client, "esp:servo").move(90);
    assert.equal(await new ServoClient(client, "esp:servo").getPosition(), 90);
  });

  it("errors from the part keep their codes and messages (as the part answers them directly)", async () => {
    const direct = await connectAuthenticated(sim);
    try {
      let directErr: { code: number; message: string } | undefined;
      try {
        await direct.call(BoardService.method.readAnalogReader, { boardName: "board", analogReaderName: "nope" });
      } catch (err) {
        directErr = err as { code: number; message: string };
      }
      assert.ok(directErr, "the part refuses an unknown analog reader");
      await assert.rejects(new BoardClient(client, "esp:board").readAnalogReader("nope"), (err: Error & { code?: number; rawMessage?: string }) => {
        assert.equal(err.code, directErr.code);
        assert.equal(err.rawMessage, directErr.message);
        return true;
      });
    } finally {
      direct.close();
    }
  });

  it("a host gpio motor on esp:board moves the part's pins", async () => {
    const hm = new MotorClient(client, "hm");
    await hm.setPower(0.5);
    assert.equal(sim.world.gpio.level(HOST_MOTOR_PINS.a), 1);
    assert.equal(sim.world.gpio.level(HOST_MOTOR_PINS.b), 0);
    assert.ok(Math.abs((sim.world.pwm(HOST_MOTOR_PINS.pwm)?.dutyCycle ?? 0) - 0.5) < 0.01);
    await hm.setPower(-0.25);
    assert.equal(sim.world.gpio.level(HOST_MOTOR_PINS.a), 0);
    assert.equal(sim.world.gpio.level(HOST_MOTOR_PINS.b), 1);
    assert.ok(Math.abs((sim.world.pwm(HOST_MOTOR_PINS.pwm)?.dutyCycle ?? 0) - 0.25) < 0.01);
    await hm.stop();
    assert.equal(sim.world.pwm(HOST_MOTOR_PINS.pwm)?.dutyCycle ?? 0, 0);
  });

  it("the same part over a WebSocket link (ws://) answers the same readings", async () => {
    const r = await new SensorClient(client, "espws:env").getReadings();
    assert.ok(Math.abs((r.temperature as number) - 21.5) < 0.5);
    assert.equal(host.remotes.part("espws")?.connection?.kind, "micro");
  });

  it("a session that lapses stops the part's motor it drove (the host calls the part's Stop)", async () => {
    const transport = createGrpcTransport({ baseUrl: host.url });
    const robot = createClient(RobotService, transport);
    const motors = createClient(MotorService, transport);
    const { id } = await robot.startSession({});
    await motors.setPower({ name: "esp:m1", powerPct: 0.4 }, { headers: { "viam-sid": id } });
    assert.ok((sim.world.pwm(PINS.motor.pwm)?.dutyCycle ?? 0) > 0.3);
    // No heartbeats: the session lapses after its window and the host stops the motor on the part.
    await eventually("the part's motor to stop", () => (sim.world.pwm(PINS.motor.pwm)?.dutyCycle ?? 0) === 0);
  });

  it("the part dying makes its resources and dependents UNHEALTHY; its return brings them back", async () => {
    await sim.stop();
    await eventually("esp:env to go UNHEALTHY", () => stateOf(host, "rdk:component:sensor/esp:env") === "unhealthy");
    assert.equal(stateOf(host, "rdk-internal:remote:/esp"), "unhealthy");
    assert.ok(entry(host, "rdk-internal:remote:/esp")?.error, "the remote's node says why");
    await eventually("hm to go UNHEALTHY", () => stateOf(host, "rdk:component:motor/hm") === "unhealthy");
    assert.match(entry(host, "rdk:component:motor/hm")?.error ?? "", /esp:board/);
    const status = await client.getMachineStatus();
    const env = (status.resources as { name?: ResourceNameShape; state: number; error: string }[]).find((r) => r.name?.name === "esp:env");
    assert.equal(env?.state, 5 /* UNHEALTHY */);
    assert.notEqual(env?.error, "");
    await assert.rejects(new SensorClient(client, "esp:env").getReadings(), (err: Error & { code?: number }) => err.code === 14 /* UNAVAILABLE */);

    sim = await startMicro({ reboot: sim.world });
    relay.target = sim.port;
    await eventually("esp:env to be READY again", () => stateOf(host, "rdk:component:sensor/esp:env") === "ready");
    await eventually("hm to be READY again", () => stateOf(host, "rdk:component:motor/hm") === "ready");
    const r = await new SensorClient(client, "esp:env").getReadings();
    assert.ok(Math.abs((r.temperature as number) - 21.5) < 0.5);
    await new MotorClient(client, "hm").setPower(0.5);
    assert.ok(Math.abs((sim.world.pwm(HOST_MOTOR_PINS.pwm)?.dutyCycle ?? 0) - 0.5) < 0.01);
    await new MotorClient(client, "hm").stop();
  });
});
