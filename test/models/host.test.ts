// The real models in a running host: a fake board driven by a gpio motor with an incremental encoder,
// a gpio servo, and a wheeled base over two gpio motors, with broken resources beside them. Over
// gRPC (connect) and through the official Viam SDK's MotorClient and BaseClient.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { BaseClient, MotorClient, type RobotClient } from "@viamrobotics/sdk";
import { createGrpcTransport as createSdkGrpcTransport } from "sprocket-peer-connect-node-v1";
import { boardApi } from "../../host/components/board/board.js";
import type { FakeBoard } from "../../host/components/board/fake.js";
import type { Host } from "../../host/host.js";
import { BaseService } from "../../proto/gen/component/base/v1/base_pb.js";
import { MotorService } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { ServoService } from "../../proto/gen/component/servo/v1/servo_pb.js";
import { ResourceStatus_State, RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { Code, dialSdk, disconnectSdk, localhostUrl, rejectsWithCode, setViamGlobal, tameSdk, type SdkTransport } from "../sdk/harness.js";
import { startTestHost } from "../support/host.js";
import { MotorPhysics, near } from "./support.js";

const motor = "rdk:component:motor";
const TPR = 20;

function machineConfig(): Record<string, unknown> {
  return {
    components: [
      {
        name: "board1",
        api: "rdk:component:board",
        model: "fake",
        attributes: { digital_interrupts: [{ name: "ea", pin: "31" }, { name: "eb", pin: "33" }] },
      },
      { name: "header", api: "rdk:component:board", model: "fake", attributes: { pins: [1, 2, 3] } },
      { name: "enc1", api: "rdk:component:encoder", model: "incremental", attributes: { board: "board1", pins: { a: "ea", b: "eb" } } },
      {
        name: "m1",
        api: motor,
        model: "gpio",
        attributes: { board: "board1", pins: { a: "11", b: "13", pwm: "15" }, encoder: "enc1", ticks_per_rotation: TPR },
      },
      { name: "left", api: motor, model: "gpio", attributes: { board: "board1", pins: { a: "21", b: "23", pwm: "25" }, max_rpm: 100 } },
      { name: "right", api: motor, model: "gpio", attributes: { board: "board1", pins: { dir: "26", pwm: "27" }, max_rpm: 100 } },
      { name: "servo1", api: "rdk:component:servo", model: "gpio", attributes: { board: "board1", pin: "12" } },
      {
        name: "base1",
        api: "rdk:component:base",
        model: "wheeled",
        attributes: { left: ["left"], right: ["right"], width_mm: 300, wheel_circumference_mm: 200 },
      },
      { name: "sensor1", api: "rdk:component:sensor", model: "fake" },
      // Broken on purpose: the rest of the machine serves regardless.
      { name: "no_board", api: motor, model: "gpio", attributes: { pins: { a: "1", b: "2", pwm: "3" }, max_rpm: 100 } },
      { name: "ghost_board", api: motor, model: "gpio", attributes: { board: "ghost", pins: { dir: "1", pwm: "2" }, max_rpm: 100 } },
      { name: "bad_pin", api: motor, model: "gpio", attributes: { board: "header", pins: { a: 1, b: 2, pwm: 9 }, max_rpm: 100 } },
      { name: "bad_angle", api: "rdk:component:servo", model: "gpio", attributes: { board: "board1", pin: "40", starting_position_deg: 270 } },
      { name: "bad_interrupt", api: "rdk:component:encoder", model: "incremental", attributes: { board: "board1", pins: { a: "ea", b: "nope" } } },
    ],
  };
}

describe("real models in a host", () => {
  let host: Host;
  let transport: Transport;
  let board: FakeBoard;
  let physics: MotorPhysics;

  before(async () => {
    host = await startTestHost(machineConfig());
    transport = createGrpcTransport({ baseUrl: host.url });
    board = host.machine.get<FakeBoard>(boardApi, "board1");
    physics = new MotorPhysics({
      board,
      a: "ea",
      b: "eb",
      pwmPin: "15",
      direction: () => {
        const a = board.pinState("11").high;
        const b = board.pinState("13").high;
        return a && !b ? 1 : b && !a ? -1 : 0;
      },
      rpmAtFullDuty: 600,
      edgesPerRevolution: 2 * TPR,
    }).start();
  });

  after(async () => {
    physics?.stop();
    await host?.close();
  });

  it("GetMachineStatus: the real models are ready, the broken ones unhealthy with clear errors", async () => {
    const status = await createClient(RobotService, transport).getMachineStatus({});
    const byName = Object.fromEntries(status.resources.map((r) => [r.name?.name ?? "", r]));
    for (const name of ["board1", "header", "enc1", "m1", "left", "right", "servo1", "base1", "sensor1"]) {
      assert.equal(byName[name]?.state, ResourceStatus_State.READY, `${name}: ${byName[name]?.error}`);
    }
    const broken: Record<string, string> = {
      no_board: "resource config validation error: attribute board is required",
      ghost_board: "unresolved dependencies not found in machine config or connected remotes: [ghost]",
      bad_pin: "board header has no pin 9",
      bad_angle: "starting_position_deg should be between minimum (0.0) and maximum (180.0) positions, got 270",
      bad_interrupt: "cannot find pin (nope) for incremental encoder: can't find DigitalInterrupt (nope)",
    };
    for (const [name, text] of Object.entries(broken)) {
      const r = byName[name];
      assert.ok(r, `${name} in the status`);
      assert.notEqual(r.state, ResourceStatus_State.READY, name);
      assert.ok(r.error.includes(text), `${name}: "${text}" in "${r.error}"`);
    }
  });

  it("MotorService.SetPower drives the board's pins; Stop sets them low and the duty to 0", async () => {
    const motors = createClient(MotorService, transport);
    await motors.setPower({ name: "left", powerPct: -0.4 });
    assert.deepEqual(board.pinState("21"), { high: false, duty: 0, frequencyHz: 0 });
    assert.equal(board.pinState("23").high, true);
    assert.deepEqual(board.pinState("25"), { high: false, duty: 0.4, frequencyHz: 800 });
    assert.deepEqual(await motors.isPowered({ name: "left" }), { ...(await motors.isPowered({ name: "left" })), isOn: true, powerPct: -0.4 });
    await motors.stop({ name: "left" });
    assert.equal(board.pinState("23").high, false);
    assert.equal(board.pinState("25").duty, 0);
    const props = await motors.getProperties({ name: "left" });
    assert.equal(props.positionReporting, false);
    await assert.rejects(motors.getPosition({ name: "left" }), /GetPosition on motor left, which has no encoder, is not supported/);
  });

  it("ServoService.Move(90) sets 50 Hz and a duty cycle of 0.075; an angle out of range is refused", async () => {
    const servos = createClient(ServoService, transport);
    await servos.move({ name: "servo1", angleDeg: 90 });
    assert.deepEqual(board.pinState("12"), { high: false, duty: 0.075, frequencyHz: 50 });
    assert.equal((await servos.getPosition({ name: "servo1" })).positionDeg, 90);
    await assert.rejects(servos.move({ name: "servo1", angleDeg: 181 }), /servo servo1 angle must be between 0 and 180 degrees, got 181/);
    assert.equal(board.pinState("12").duty, 0.075);
  });

  it("BaseService.SetPower mixes into both sides' pins; Stop stops both", async () => {
    const bases = createClient(BaseService, transport);
    await bases.setPower({ name: "base1", linear: { y: 0 }, angular: { z: 1 } });
    // Turning left in place: the left motor (A/B) backwards, the right (dir + PWM) forwards.
    assert.equal(board.pinState("23").high, true);
    assert.equal(board.pinState("25").duty, 1);
    assert.equal(board.pinState("26").high, true);
    assert.equal(board.pinState("27").duty, 1);
    assert.equal((await bases.isMoving({ name: "base1" })).isMoving, true);
    await bases.stop({ name: "base1" });
    assert.equal(board.pinState("25").duty, 0);
    assert.equal(board.pinState("27").duty, 0);
    assert.equal((await bases.isMoving({ name: "base1" })).isMoving, false);
  });

  it("the other resources keep serving", async () => {
    const readings = await createClient(SensorService, transport).getReadings({ name: "sensor1" });
    assert.ok(Object.keys(readings.readings).length > 0);
    await assert.rejects(createClient(MotorService, transport).setPower({ name: "bad_pin", powerPct: 0.5 }), /bad_pin/);
  });

  describe("through the official SDK", () => {
    const sdkTransport: SdkTransport = {
      title: "native gRPC over HTTP/2",
      install: () => setViamGlobal({ GRPC_TRANSPORT_FACTORY: (opts) => createSdkGrpcTransport({ httpVersion: "2", ...opts }) }),
      expect: { httpVersion: "2.0", contentType: "application/grpc+proto" },
    };
    let client: RobotClient;
    let untame: () => void;

    before(async () => {
      untame = tameSdk();
      client = await dialSdk(sdkTransport, await localhostUrl(host));
    });

    after(async () => {
      if (client) await disconnectSdk(client);
      untame?.();
    });

    it("MotorClient: GoFor on the encoded motor turns the simulated shaft by the revolutions, then stops", async () => {
      const m1 = new MotorClient(client, "m1");
      const start = await m1.getPosition();
      await m1.goFor(240, 2);
      assert.equal(board.pinState("15").duty, 0, "stopped");
      assert.equal(await m1.isMoving(), false);
      near((await m1.getPosition()) - start, 2, 0.25, "revolutions turned");
      near(physics.revolutions(), await m1.getPosition(), 0.1, "shaft vs encoder");
      assert.equal((await m1.getProperties()).positionReporting, true);
      await m1.goTo(300, 0);
      near(await m1.getPosition(), 0, 0.3, "GoTo 0");
      await rejectsWithCode(m1.goFor(0, 1), Code.Unknown, "Cannot move motor at an RPM that is nearly 0");
    });

    it("BaseClient: properties, SetPower, MoveStraight and Spin on the wheeled base", async () => {
      const base = new BaseClient(client, "base1");
      const props = await base.getProperties();
      assert.equal(props.widthMeters, 0.3);
      assert.equal(props.wheelCircumferenceMeters, 0.2);
      assert.equal(props.turningRadiusMeters, 0);

      await base.setPower({ x: 0, y: 0.5, z: 0 }, { x: 0, y: 0, z: 0 });
      assert.equal(board.pinState("21").high, true, "left forwards");
      near(board.pinState("25").duty, 0.5, 1e-12, "left duty");
      assert.equal(board.pinState("26").high, true, "right forwards");
      near(board.pinState("27").duty, 0.5, 1e-12, "right duty");
      assert.equal(await base.isMoving(), true);
      await base.stop();
      assert.equal(await base.isMoving(), false);

      // 20 mm at 200 mm/s on a 200 mm wheel: 0.1 revolutions at 60 rpm (open loop, 100 ms).
      await base.moveStraight(20, 200);
      assert.equal(board.pinState("25").duty, 0);
      assert.equal(board.pinState("27").duty, 0);
      assert.equal(await base.isMoving(), false);
      // A 10 degree spin: each wheel 300 x pi / 36 mm, about 0.13 revolutions.
      await base.spin(10, 90);
      assert.equal(await base.isMoving(), false);
      await rejectsWithCode(base.spin(0, 90), Code.Unknown, "cannot move base base1 for an angle that is nearly 0");
    });
  });
});
