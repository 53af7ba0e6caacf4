// The official SDK, over WebRTC to a host, calls every component API a micro part serves, on the
// part's own resources (`esp:…`), for one way of reaching the part (tcp://, serial://, dial-in) on
// each firmware engine (Node, XS). Every answer is checked against the part's simulated World (PWM
// duty, pin levels, the BME280/INA219/MPU6050 models, the DC motor turning the encoder), and every
// method of the eight component services must really have been forwarded to the part: the host's
// RemotePart is watched for the method paths it carries. A host gpio motor built on `esp:board`
// moves the part's pins over the same link. Last, the part stops: its resources and the host motor
// go UNHEALTHY with the reason, and come back by themselves when the part boots again.
//
// The *.test.ts files next to this one only say how the part is reached.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  BoardClient,
  EncoderClient,
  EncoderPositionType,
  GenericComponentClient,
  MotorClient,
  MovementSensorClient,
  PowerMode,
  PowerSensorClient,
  RobotClient,
  SensorClient,
  ServoClient,
  sensorApi,
  type Tick,
} from "@viamrobotics/sdk";
import type { DescService } from "@bufbuild/protobuf";
import type { Host } from "../../host/host.js";
import { BoardService } from "../../proto/gen/component/board/v1/board_pb.js";
import { EncoderService } from "../../proto/gen/component/encoder/v1/encoder_pb.js";
import { GenericService } from "../../proto/gen/component/generic/v1/generic_pb.js";
import { MotorService } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { MovementSensorService } from "../../proto/gen/component/movementsensor/v1/movementsensor_pb.js";
import { PowerSensorService } from "../../proto/gen/component/powersensor/v1/powersensor_pb.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { ServoService } from "../../proto/gen/component/servo/v1/servo_pb.js";
import type { World } from "../../tools/sim/world.js";
import { ENGINES, PINS, TICKS_PER_ROTATION, type Engine, type MicroSim } from "../micro/harness.js";
import { startTestHost, withApiKey } from "../support/host.js";
import { dialWebRtc, quietSdk, struct, webrtcConf } from "../webrtc/wrtc-env.js";
import { entry, eventually, stateOf } from "./support.js";

const COMPONENT_SERVICES: readonly DescService[] = [
  BoardService,
  SensorService,
  PowerSensorService,
  MovementSensorService,
  MotorService,
  EncoderService,
  ServoService,
  GenericService,
];

/** The host's own gpio motor on the part's board (clear of the UART's pins 16/17). */
export const HOST_MOTOR_PINS = { a: 18, b: 19, pwm: 23 } as const;
/** A free pin for the board's PWM methods. */
const PWM_PIN = 14;

/** How a test reaches the part: it starts the part and gives the host's remote entry for it. */
export interface PartSetup {
  readonly title: string;
  /** The remote entry, when the part dials in: the host starts first and the part is given its URL. */
  readonly dialIn?: { remote: Record<string, unknown> };
  /** Starts the part on `engine`; `hostUrl` is the host's URL (dial-in parts only). */
  start(engine: Engine, hostUrl: string | undefined): Promise<StartedPart>;
}

export interface StartedPart {
  readonly sim: MicroSim;
  /** The host's remote entry for the part (unless it dials in). */
  readonly remote?: Record<string, unknown>;
  /** Boots the part again on its stopped world (a reboot: same NVS, devices and address). */
  restart(): Promise<MicroSim>;
  /** Closes what the setup opened besides the part (a relay, a pseudo-terminal). */
  close?(): Promise<void>;
}

const near = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance}`);

/** Over WebRTC the SDK reports every error as Unknown with the part's message only (spec §1.4). */
async function refused(call: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(call, (err: Error & { rawMessage?: string }) => {
    assert.match(err.rawMessage ?? err.message, message);
    return true;
  });
}

const dutyOf = (w: World, pin: number) => w.pwm(pin)?.dutyCycle ?? 0;

/** Records the method paths the host forwards to remote `name`, from now on. */
function watchForwarded(host: Host, name: string): Set<string> {
  const part = host.remotes.part(name);
  assert.ok(part, `remote ${name} configured`);
  const seen = new Set<string>();
  const call = part.call.bind(part);
  part.call = (method, request, options) => {
    seen.add(method.slice(1));
    return call(method, request, options);
  };
  return seen;
}

/** Runs the whole table for one way of reaching the part, on both engines. */
export function everyApiThroughHost(setup: PartSetup): void {
  for (const engine of ENGINES) {
    describe(`the SDK over WebRTC to a host, every component API on a micro part (${setup.title}, ${engine} engine)`, () => {
      let part: StartedPart;
      let sim: MicroSim;
      let host: Host;
      let client: RobotClient;
      let forwarded: Set<string>;
      let restore: () => void;
      const w = () => sim.world;

      before(async () => {
        restore = quietSdk();
        const hostConfig = (remote: Record<string, unknown>) =>
          withApiKey({
            remotes: [remote],
            components: [
              {
                name: "hm",
                api: "rdk:component:motor",
                model: "gpio",
                attributes: {
                  board: "esp:board",
                  pins: { a: String(HOST_MOTOR_PINS.a), b: String(HOST_MOTOR_PINS.b), pwm: String(HOST_MOTOR_PINS.pwm) },
                  max_rpm: 100,
                },
              },
            ],
          });
        if (setup.dialIn) {
          host = await startTestHost(hostConfig(setup.dialIn.remote));
          part = await setup.start(engine, host.url);
        } else {
          part = await setup.start(engine, undefined);
          assert.ok(part.remote, "a part that does not dial in names its remote entry");
          host = await startTestHost(hostConfig(part.remote));
        }
        sim = part.sim;
        await eventually("the part's resources ready on the host", () => stateOf(host, "rdk:component:motor/hm") === "ready", 30_000);
        forwarded = watchForwarded(host, "esp");
        client = await dialWebRtc(webrtcConf(host));
      });

      after(async () => {
        await client?.disconnect();
        await host?.close();
        await sim?.stop();
        await part?.close?.();
        restore?.();
      });

      it("the client reached the host over a data channel, and the part runs on the named engine", async () => {
        assert.equal(host.signaling.peerCount, 1);
        assert.equal(sim.engine, engine);
        if (engine === "xs") assert.ok(sim.fw?.xs?.alive, "the XS machine runs");
      });

      it("robot: the part's resources are listed as esp:name and READY", async () => {
        const names = ((await client.resourceNames()) as { subtype: string; name: string }[]).map((r) => `${r.subtype}/${r.name}`);
        for (const n of [
          "board/esp:board",
          "sensor/esp:env",
          "sensor/esp:heap",
          "power_sensor/esp:power",
          "movement_sensor/esp:imu",
          "encoder/esp:enc",
          "motor/esp:m1",
          "servo/esp:servo",
          "generic/esp:heap-generic",
          "motor/hm",
        ]) {
          assert.ok(names.includes(n), `${n} in ${names.join(", ")}`);
        }
        const status = await client.getMachineStatus();
        for (const r of status.resources as { name?: { name: string }; state: number; error: string }[]) {
          assert.equal(r.state, 3 /* READY */, `${r.name?.name}: ${r.error}`);
        }
      });

      it("board: GPIO, PWM and its frequency, analog reader, digital interrupt, ticks stream, power mode", async () => {
        const board = new BoardClient(client, "esp:board");
        await board.setGPIO(String(PINS.gpio), true);
        assert.equal(w().gpio.level(PINS.gpio), 1);
        assert.equal(await board.getGPIO(String(PINS.gpio)), true);
        await board.setGPIO(String(PINS.gpio), false);
        assert.equal(w().gpio.level(PINS.gpio), 0);
        assert.equal(await board.getGPIO(String(PINS.gpio)), false);

        await board.setPWMFrequency(String(PWM_PIN), 2000);
        await board.setPWM(String(PWM_PIN), 0.25);
        assert.equal(w().pwm(PWM_PIN)?.hz, 2000);
        near(dutyOf(w(), PWM_PIN), 0.25, 0.002, "duty on the part's pin");
        assert.equal(await board.getPWM(String(PWM_PIN)), 0.25);
        assert.equal(Number(await board.getPWMFrequency(String(PWM_PIN))), 2000);

        // 1.65 V on a 3.3 V, 10-bit ADC (a classic ESP32).
        assert.equal((await board.readAnalogReader("a1")).value, Math.trunc((1650 * 1023) / 3300));
        await refused(board.writeAnalog(String(PWM_PIN), 1), /WriteAnalog is not supported/);

        const pin = String(PINS.interrupt);
        const before = Number(await board.getDigitalInterruptValue(pin));
        for (let i = 0; i < 3; i++) {
          w().gpio.drive(PINS.interrupt, 1);
          await new Promise((r) => setTimeout(r, 2));
          w().gpio.drive(PINS.interrupt, 0);
          await new Promise((r) => setTimeout(r, 2));
        }
        await eventually("3 interrupt edges counted", async () => Number(await board.getDigitalInterruptValue(pin)) === before + 3);

        const ticks: Tick[] = [];
        const abort = new AbortController();
        const streaming = board.streamTicks([pin], ticks, {}, { signal: abort.signal }).catch(() => undefined);
        // The stream may open on the part a little after the call returns: edges until one arrives.
        await eventually("a tick through the host", () => {
          w().gpio.drive(PINS.interrupt, 1);
          w().gpio.drive(PINS.interrupt, 0);
          return ticks.length > 0;
        });
        assert.equal(ticks[0].pinName, pin);
        abort.abort();
        await streaming;

        await board.setPowerMode(PowerMode.NORMAL);
        await refused(board.doCommand(struct({})), /DoCommand is not implemented by board/);
        assert.deepEqual((await client.boardService.getGeometries({ name: "esp:board" })).geometries, []);
      });

      it("sensor: the BME280's readings, the free-heap sensor and its DoCommand", async () => {
        const env = new SensorClient(client, "esp:env");
        const r = await env.getReadings();
        near(r.temperature as number, 21.5, 0.05, "temperature");
        near(r.humidity as number, 40, 0.5, "humidity");
        near(r.pressure as number, 101_325, 50, "pressure");
        w().freeHeap = 123_456;
        const heap = new SensorClient(client, "esp:heap");
        assert.equal((await heap.getReadings()).bytes, 123_456);
        assert.deepEqual(await heap.doCommand(struct({})), { bytes: 123_456 });
        const sensors = client.createServiceClient(sensorApi.SensorService);
        assert.deepEqual((await sensors.getGeometries({ name: "esp:env" })).geometries, []);
      });

      it("power sensor: the INA219's volts, amps and watts", async () => {
        const power = new PowerSensorClient(client, "esp:power");
        const [volts, voltsAc] = await power.getVoltage();
        near(volts, 4.95, 0.01, "bus volts (5 V supply less the shunt's drop)");
        assert.equal(voltsAc, false);
        const [amps, ampsAc] = await power.getCurrent();
        near(amps, 0.5, 0.01, "amps");
        assert.equal(ampsAc, false);
        near(await power.getPower(), 2.475, 0.05, "watts");
        assert.deepEqual(Object.keys(await power.getReadings()).sort(), ["amps", "is_ac", "volts", "watts"]);
        await refused(power.doCommand(struct({})), /DoCommand is not implemented by power/);
      });

      it("movement sensor: the MPU6050's angular velocity and acceleration; what it lacks is refused", async () => {
        const imu = new MovementSensorClient(client, "esp:imu");
        const av = await imu.getAngularVelocity();
        assert.ok(Math.abs(av.x) < 0.1 && Math.abs(av.y) < 0.1 && Math.abs(av.z) < 0.1, JSON.stringify(av));
        const la = await imu.getLinearAcceleration();
        near(la.z, 9.80665, 0.05, "z acceleration at rest");
        const props = await imu.getProperties();
        assert.deepEqual([props.angularVelocitySupported, props.linearAccelerationSupported, props.positionSupported], [true, true, false]);
        await refused(imu.getLinearVelocity(), /linear velocity is not supported/);
        await refused(imu.getCompassHeading(), /compass heading is not supported/);
        await refused(imu.getOrientation(), /orientation is not supported/);
        await refused(imu.getPosition(), /position is not supported/);
        assert.deepEqual((await imu.getAccuracy()).accuracy, {});
        assert.ok("angular_velocity" in (await imu.getReadings()));
        await refused(imu.doCommand(struct({})), /DoCommand is not implemented by imu/);
        assert.deepEqual((await client.movementSensorService.getGeometries({ name: "esp:imu" })).geometries, []);
      });

      it("motor: power, RPM, stop, GoFor and GoTo on its encoder, position and properties", async () => {
        const motor = new MotorClient(client, "esp:m1");
        await motor.setPower(0.5);
        near(dutyOf(w(), PINS.motor.pwm), 0.5, 0.002, "duty");
        assert.deepEqual([w().gpio.level(PINS.motor.a), w().gpio.level(PINS.motor.b)], [1, 0]);
        assert.deepEqual(await motor.isPowered(), [true, 0.5]);
        assert.equal(await motor.isMoving(), true);
        await motor.setRPM(50);
        assert.ok(dutyOf(w(), PINS.motor.pwm) > 0, "SetRPM drives the motor");
        await motor.stop();
        assert.equal(w().pwm(PINS.motor.pwm)?.duty, 0);
        assert.equal(await motor.isMoving(), false);
        await motor.resetZeroPosition(0);
        assert.equal(await motor.getPosition(), 0);
        assert.equal((await motor.getProperties()).positionReporting, true);
        await motor.goFor(100, 0.5);
        assert.equal(w().pwm(PINS.motor.pwm)?.duty, 0, "stopped at the target");
        const pos = await motor.getPosition();
        assert.ok(pos >= 0.5 && pos < 0.7, `position ${pos}`);
        await motor.goTo(100, 0);
        const back = await motor.getPosition();
        assert.ok(back <= 0 && back > -0.2, `position ${back}`);
        await refused(motor.doCommand(struct({})), /DoCommand is not implemented by m1/);
        assert.deepEqual((await client.motorService.getGeometries({ name: "esp:m1" })).geometries, []);
      });

      it("encoder: reset, ticks counted while the motor turns it, properties", async () => {
        const enc = new EncoderClient(client, "esp:enc");
        await enc.resetPosition();
        const [zero] = await enc.getPosition(EncoderPositionType.TICKS_COUNT);
        assert.equal(zero, 0);
        await new MotorClient(client, "esp:m1").goFor(100, 0.25);
        const [ticks, type] = await enc.getPosition(EncoderPositionType.TICKS_COUNT);
        assert.equal(type, EncoderPositionType.TICKS_COUNT);
        assert.ok(ticks >= 0.25 * TICKS_PER_ROTATION && ticks <= 0.25 * TICKS_PER_ROTATION + 3, `ticks ${ticks}`);
        const props = await enc.getProperties();
        assert.deepEqual([props.ticksCountSupported, props.angleDegreesSupported], [true, false]);
        await refused(enc.getPosition(EncoderPositionType.ANGLE_DEGREES), /only ticks_count/);
        await refused(enc.doCommand(struct({})), /DoCommand is not implemented by enc/);
        assert.deepEqual((await client.encoderService.getGeometries({ name: "esp:enc" })).geometries, []);
      });

      it("servo: move sets the pulse on the part's pin, position, stop", async () => {
        const servo = new ServoClient(client, "esp:servo");
        await servo.move(90);
        near(dutyOf(w(), PINS.servo), 0.075, 0.002, "1.5 ms of a 20 ms period");
        assert.equal(await servo.getPosition(), 90);
        assert.equal(await servo.isMoving(), true);
        await servo.stop();
        assert.equal(w().pwm(PINS.servo)?.duty, 0);
        await refused(servo.doCommand(struct({})), /DoCommand is not implemented by servo/);
        assert.deepEqual((await client.servoService.getGeometries({ name: "esp:servo" })).geometries, []);
      });

      it("generic: the free-heap component's DoCommand and geometries", async () => {
        w().freeHeap = 98_765;
        const generic = new GenericComponentClient(client, "esp:heap-generic");
        assert.deepEqual(await generic.doCommand(struct({})), { bytes: 98_765 });
        assert.deepEqual(await generic.getGeometries(), []);
      });

      it("a host gpio motor on esp:board moves the part's pins", async () => {
        const hm = new MotorClient(client, "hm");
        await hm.setPower(0.5);
        assert.deepEqual([w().gpio.level(HOST_MOTOR_PINS.a), w().gpio.level(HOST_MOTOR_PINS.b)], [1, 0]);
        near(dutyOf(w(), HOST_MOTOR_PINS.pwm), 0.5, 0.002, "host motor duty");
        await hm.setPower(-0.25);
        assert.deepEqual([w().gpio.level(HOST_MOTOR_PINS.a), w().gpio.level(HOST_MOTOR_PINS.b)], [0, 1]);
        near(dutyOf(w(), HOST_MOTOR_PINS.pwm), 0.25, 0.002, "host motor duty");
        await hm.stop();
        assert.equal(dutyOf(w(), HOST_MOTOR_PINS.pwm), 0);
      });

      it("every method of the eight component services was forwarded to the part", () => {
        const expected = COMPONENT_SERVICES.flatMap((s) => s.methods.map((m) => `${s.typeName}/${m.name}`));
        assert.deepEqual(
          expected.filter((m) => !forwarded.has(m)),
          [],
        );
      });

      it("the part stopping makes its resources and the host motor UNHEALTHY; its reboot brings them back by itself", async () => {
        await sim.stop();
        await eventually("esp:env UNHEALTHY", () => stateOf(host, "rdk:component:sensor/esp:env") === "unhealthy", 15_000);
        assert.equal(stateOf(host, "rdk-internal:remote:/esp"), "unhealthy");
        assert.match(entry(host, "rdk-internal:remote:/esp")?.error ?? "", /closed|no answer/, "the remote's node says why");
        await eventually("hm UNHEALTHY", () => stateOf(host, "rdk:component:motor/hm") === "unhealthy", 15_000);
        await refused(new SensorClient(client, "esp:env").getReadings(), /not connected|unavailable|closed/i);

        sim = await part.restart();
        await eventually("esp:env READY again", () => stateOf(host, "rdk:component:sensor/esp:env") === "ready", 30_000);
        await eventually("hm READY again", () => stateOf(host, "rdk:component:motor/hm") === "ready", 30_000);
        near((await new SensorClient(client, "esp:env").getReadings()).temperature as number, 21.5, 0.05, "temperature after the reboot");
        await new MotorClient(client, "hm").setPower(0.5);
        near(dutyOf(w(), HOST_MOTOR_PINS.pwm), 0.5, 0.002, "host motor duty after the reboot");
        await new MotorClient(client, "hm").stop();
      });
    });
  }
}
