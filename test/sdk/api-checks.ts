// What the official SDK must be able to do against a Sprocket host, whatever the transport: one table
// of checks, each calling SDK client methods and asserting what the fakes really do, plus the suite
// that runs the table over one transport (the *.test.ts files only say how to dial).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { DescService, JsonValue } from "@bufbuild/protobuf";
import {
  BoardClient,
  EncoderClient,
  EncoderPositionType,
  GenericComponentClient,
  MachineConnectionEvent,
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
import { boardApi } from "../../host/components/board/board.js";
import type { FakeBoard } from "../../host/components/board/fake.js";
import {
  FAKE_ANGULAR_VELOCITY,
  FAKE_COMPASS_HEADING,
  FAKE_LINEAR_ACCELERATION,
  FAKE_LINEAR_VELOCITY,
  FAKE_ORIENTATION,
  FAKE_POSITION,
} from "../../host/components/movement_sensor/fake.js";
import { NOMINAL_AMPS, NOMINAL_VOLTS } from "../../host/components/power_sensor/fake.js";
import { sprocketVersion, type Host } from "../../host/host.js";
import { BoardService } from "../../proto/gen/component/board/v1/board_pb.js";
import { EncoderService } from "../../proto/gen/component/encoder/v1/encoder_pb.js";
import { GenericService } from "../../proto/gen/component/generic/v1/generic_pb.js";
import { MotorService } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { MovementSensorService } from "../../proto/gen/component/movementsensor/v1/movementsensor_pb.js";
import { PowerSensorService } from "../../proto/gen/component/powersensor/v1/powersensor_pb.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { ServoService } from "../../proto/gen/component/servo/v1/servo_pb.js";
import { allFakesConfig, startTestHost, testKeyId, testKeySecret, withApiKey } from "../support/host.js";
import {
  Code,
  dialConf,
  Duration,
  dialRefused,
  dialSdk,
  disconnectSdk,
  localhostUrl,
  rejectsWithCode,
  RequestLog,
  sleep,
  Struct,
  tameSdk,
  waitFor,
  type SdkTransport,
} from "./harness.js";

// The SDK's types come through as `any` (see harness.ts); these are the shapes the checks read.
interface Operation {
  id: string;
  method: string;
  arguments?: { toJson(): unknown };
  started?: { toDate(): Date };
}
interface ResourceName {
  namespace: string;
  type: string;
  subtype: string;
  name: string;
}

export interface CheckContext {
  readonly client: RobotClient;
  readonly host: Host;
}

export interface ApiCheck {
  readonly name: string;
  run(ctx: CheckContext): Promise<void>;
}

const goForPath = "/viam.component.motor.v1.MotorService/GoFor";
/** motor1 in allFakesConfig: max_rpm 600 and encoder1 with 100 ticks per rotation. */
const MAX_RPM = 600;
const TICKS_PER_ROTATION = 100;

const struct = (json: Record<string, JsonValue>) => Struct.fromJson(json);
const fakeBoard = (host: Host) => host.machine.get<FakeBoard>(boardApi, "board1");
const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance}`);

/** A motor at rest, whatever an earlier check left running. */
async function restingMotor(client: RobotClient): Promise<MotorClient> {
  const motor = new MotorClient(client, "motor1");
  await motor.stop();
  return motor;
}

async function operationFor(client: RobotClient, method: string): Promise<Operation> {
  let op: Operation | undefined;
  await waitFor(`an operation ${method}`, async () => {
    op = ((await client.getOperations()) as Operation[]).find((o) => o.method === method);
    return op !== undefined;
  });
  return op!;
}

export const apiChecks: readonly ApiCheck[] = [
  // ---- RobotService ------------------------------------------------------------------------------
  {
    name: "robot: resourceNames lists every configured component",
    async run({ client }) {
      const names = ((await client.resourceNames()) as ResourceName[]).map((r) => `${r.namespace}:${r.type}:${r.subtype}/${r.name}`);
      assert.deepEqual(names.sort(), [
        "rdk:component:board/board1",
        "rdk:component:encoder/encoder1",
        "rdk:component:generic/generic1",
        "rdk:component:motor/motor1",
        "rdk:component:movement_sensor/imu1",
        "rdk:component:power_sensor/power1",
        "rdk:component:sensor/sensor1",
        "rdk:component:servo/servo1",
      ]);
    },
  },
  {
    name: "robot: resourceRPCSubtypes maps each API to its proto service",
    async run({ client }) {
      const subtypes = await client.resourceRPCSubtypes();
      const bySubtype = Object.fromEntries(
        (subtypes as { subtype?: ResourceName; protoService: string }[]).map((s) => [s.subtype?.subtype ?? "", s.protoService]),
      );
      assert.deepEqual(bySubtype, {
        board: "viam.component.board.v1.BoardService",
        encoder: "viam.component.encoder.v1.EncoderService",
        generic: "viam.component.generic.v1.GenericService",
        motor: "viam.component.motor.v1.MotorService",
        movement_sensor: "viam.component.movementsensor.v1.MovementSensorService",
        power_sensor: "viam.component.powersensor.v1.PowerSensorService",
        sensor: "viam.component.sensor.v1.SensorService",
        servo: "viam.component.servo.v1.ServoService",
      });
    },
  },
  {
    name: "robot: getMachineStatus says RUNNING with every resource READY",
    async run({ client }) {
      const status = await client.getMachineStatus();
      assert.equal(status.state, 2 /* RUNNING */);
      assert.equal(status.resources.length, 8);
      for (const r of status.resources) {
        assert.equal(r.state, 3 /* READY */, `${r.name?.name}: state ${r.state}, error "${r.error}"`);
        assert.equal(r.error, "");
        assert.ok(r.lastUpdated !== undefined && r.lastUpdated.toDate().getTime() <= Date.now());
      }
      assert.ok(status.config?.lastUpdated !== undefined);
    },
  },
  {
    name: "robot: getVersion names Sprocket, its version and the API version the SDK speaks",
    async run({ client }) {
      const v = await client.getVersion();
      assert.deepEqual({ platform: v.platform, version: v.version, apiVersion: v.apiVersion }, { platform: "sprocket", version: sprocketVersion, apiVersion: "v0.1.512" });
    },
  },
  {
    name: "robot: getCloudMetadata answers empty ids for a machine without a cloud config",
    async run({ client }) {
      const m = await client.getCloudMetadata();
      assert.deepEqual(
        { primaryOrgId: m.primaryOrgId, locationId: m.locationId, machineId: m.machineId, machinePartId: m.machinePartId },
        { primaryOrgId: "", locationId: "", machineId: "", machinePartId: "" },
      );
    },
  },
  {
    name: "robot: getOperations lists an in-flight GoFor with its arguments; blockForOperation waits for it",
    async run({ client }) {
      const motor = await restingMotor(client);
      const started = Date.now();
      const move = motor.goFor(MAX_RPM, 3); // 300 ms
      const op = await operationFor(client, goForPath);
      assert.deepEqual(op.arguments?.toJson(), { name: "motor1", rpm: MAX_RPM, revolutions: 3, extra: {} });
      const startedAt = op.started?.toDate().getTime() ?? 0;
      assert.ok(Math.abs(startedAt - started) < 1000, `operation started at ${startedAt}, call at ${started}`);
      assert.equal(await motor.isMoving(), true);
      await client.blockForOperation(op.id);
      assert.equal(await motor.isMoving(), false, "BlockForOperation returned before the move ended");
      assert.ok(Date.now() - started >= 250, `blockForOperation returned after ${Date.now() - started} ms`);
      await move;
      assert.equal(((await client.getOperations()) as Operation[]).some((o) => o.id === op.id), false, "the finished operation is still listed");
    },
  },
  {
    name: "robot: cancelOperation aborts an in-flight GoFor and the motor stops short",
    async run({ client }) {
      const motor = await restingMotor(client);
      const start = await motor.getPosition();
      const move = motor.goFor(60, 10); // 10 s
      const moveFailed = rejectsWithCode(move, Code.Canceled, "cancelled");
      const op = await operationFor(client, goForPath);
      await client.cancelOperation(op.id);
      await moveFailed;
      assert.equal(await motor.isMoving(), false);
      const moved = (await motor.getPosition()) - start;
      assert.ok(moved > 0 && moved < 1, `moved ${moved} revolutions before the cancel`);
    },
  },
  {
    name: "robot: stopAll stops a powered motor and ends an in-flight GoFor",
    async run({ client }) {
      const motor = await restingMotor(client);
      await motor.setPower(0.3);
      assert.equal(await motor.isMoving(), true);
      await client.stopAll();
      assert.equal(await motor.isMoving(), false);
      const move = motor.goFor(60, 10);
      await operationFor(client, goForPath);
      await client.stopAll();
      await move; // a stopped GoFor returns without error, as in rdk
      assert.deepEqual(await motor.isPowered(), [false, 0]);
    },
  },

  // ---- sensor ------------------------------------------------------------------------------------
  {
    name: "sensor: getReadings has rdk's fixed values plus readings that change; doCommand echoes; no geometries",
    async run({ client }) {
      const sensor = new SensorClient(client, "sensor1");
      const r1 = await sensor.getReadings();
      await sleep(20);
      const r2 = await sensor.getReadings();
      for (const r of [r1, r2]) {
        assert.deepEqual([r.a, r.b, r.c], [1, 2, 3]);
        assert.equal(typeof r.sine, "number");
        assert.ok(Math.abs(r.sine as number) <= 1);
      }
      assert.equal(r2.count, (r1.count as number) + 1);
      assert.ok((r2.uptime_s as number) > (r1.uptime_s as number), "uptime_s did not advance");
      assert.notEqual(r2.sine, r1.sine);
      const command = { ping: "sensor", n: [1, 2, { deep: true }], none: null };
      assert.deepEqual(await sensor.doCommand(struct(command)), command);
      const sensors = client.createServiceClient(sensorApi.SensorService);
      assert.deepEqual((await sensors.getGeometries({ name: "sensor1" })).geometries, []);
    },
  },

  // ---- board -------------------------------------------------------------------------------------
  {
    name: "board: setGPIO then getGPIO round-trips the level",
    async run({ client }) {
      const board = new BoardClient(client, "board1");
      assert.equal(await board.getGPIO("7"), false, "a pin never set reads low");
      await board.setGPIO("7", true);
      assert.equal(await board.getGPIO("7"), true);
      await board.setGPIO("7", false);
      assert.equal(await board.getGPIO("7"), false);
    },
  },
  {
    name: "board: PWM duty cycle and frequency round-trip; bad duty refused; setGPIO turns PWM off",
    async run({ client }) {
      const board = new BoardClient(client, "board1");
      await board.setPWM("12", 0.25);
      await board.setPWMFrequency("12", 1600);
      assert.equal(await board.getPWM("12"), 0.25);
      assert.equal(await board.getPWMFrequency("12"), 1600);
      await board.setPWM("12", 0.75);
      assert.equal(await board.getPWM("12"), 0.75);
      await rejectsWithCode(board.setPWM("12", 1.5), Code.Unknown, "between 0 and 1");
      assert.equal(await board.getPWM("12"), 0.75, "a refused duty cycle changed the pin");
      await board.setGPIO("12", true);
      assert.equal(await board.getPWM("12"), 0);
    },
  },
  {
    name: "board: readAnalogReader steps through the range; writeAnalog to its pin is read back",
    async run({ client }) {
      const board = new BoardClient(client, "board1");
      const a = await board.readAnalogReader("a1");
      const b = await board.readAnalogReader("a1");
      assert.deepEqual([a.minRange, a.maxRange, a.stepSize], [0, 1000, 1]);
      assert.equal(b.value, a.value >= 1000 ? 0 : a.value + 1);
      await board.writeAnalog("32", 321); // a1 is on pin 32
      assert.equal((await board.readAnalogReader("a1")).value, 321);
      await rejectsWithCode(board.readAnalogReader("nope"), Code.Unknown, "AnalogReader (nope)");
    },
  },
  {
    name: "board: getDigitalInterruptValue counts the rising edges ticked on the fake board",
    async run({ client, host }) {
      const board = new BoardClient(client, "board1");
      const before = await board.getDigitalInterruptValue("di1");
      const fake = fakeBoard(host);
      fake.tick("di1", true);
      fake.tick("di1", false);
      fake.tick("di1", true);
      fake.tick("di1", true);
      assert.equal(await board.getDigitalInterruptValue("di1"), before + 3);
      await rejectsWithCode(board.getDigitalInterruptValue("nope"), Code.Unknown, "DigitalInterrupt (nope)");
    },
  },
  {
    name: "board: streamTicks yields the ticks given to tick(), in order, until aborted",
    async run({ client, host }) {
      const board = new BoardClient(client, "board1");
      const fake = fakeBoard(host);
      const queue: Tick[] = [];
      const abort = new AbortController();
      const streaming = board.streamTicks(["di1"], queue, {}, { signal: abort.signal });
      await waitFor("the tick stream to open on the board", () => fake.openStreams() === 1);
      fake.tick("di1", true, 1_000_000n);
      fake.tick("di1", false, 2_000_000n);
      fake.tick("di1", true, 3_000_000n);
      await waitFor("three ticks", () => queue.length === 3);
      assert.deepEqual(queue, [
        { pinName: "di1", high: true, time: 1_000_000 },
        { pinName: "di1", high: false, time: 2_000_000 },
        { pinName: "di1", high: true, time: 3_000_000 },
      ]);
      abort.abort();
      await rejectsWithCode(streaming, Code.Canceled);
      await waitFor("the board to drop the stream", () => fake.openStreams() === 0);
      // An unknown interrupt fails the stream, naming it.
      await rejectsWithCode(board.streamTicks(["nope"], []), Code.Unknown, "DigitalInterrupt (nope)");
    },
  },
  {
    name: "board: setPowerMode reaches the board; doCommand echoes; no geometries",
    async run({ client, host }) {
      const board = new BoardClient(client, "board1");
      await board.setPowerMode(PowerMode.OFFLINE_DEEP, new Duration({ seconds: 60n }));
      assert.equal(fakeBoard(host).powerMode(), "offline_deep");
      await board.setPowerMode(PowerMode.NORMAL);
      assert.equal(fakeBoard(host).powerMode(), "normal");
      await rejectsWithCode(board.setPowerMode(PowerMode.UNSPECIFIED), Code.InvalidArgument, "UNSPECIFIED");
      assert.deepEqual(await board.doCommand(struct({ blink: 3 })), { blink: 3 });
      assert.deepEqual((await client.boardService.getGeometries({ name: "board1" })).geometries, []);
    },
  },

  // ---- motor -------------------------------------------------------------------------------------
  {
    name: "motor: goFor blocks for the move and advances the position by the revolutions; goTo returns",
    async run({ client }) {
      const motor = await restingMotor(client);
      const start = await motor.getPosition();
      const t0 = performance.now();
      await motor.goFor(MAX_RPM, 2); // 200 ms at max_rpm
      const elapsed = performance.now() - t0;
      close(await motor.getPosition(), start + 2, 0.01, "position after goFor(600, 2)");
      assert.ok(elapsed >= 150, `goFor(600 rpm, 2 rev) returned after ${elapsed.toFixed(0)} ms`);
      assert.equal(await motor.isMoving(), false);
      await motor.goFor(-MAX_RPM, 0.5); // negative rpm: backwards
      close(await motor.getPosition(), start + 1.5, 0.01, "position after goFor(-600, 0.5)");
      await motor.goTo(MAX_RPM, start);
      close(await motor.getPosition(), start, 0.01, "position after goTo(start)");
      await rejectsWithCode(motor.goFor(0, 1), Code.Unknown, "RPM that is nearly 0");
    },
  },
  {
    name: "motor: setPower runs it (isPowered, isMoving, position grows at power × max_rpm); stop stops it",
    async run({ client }) {
      const motor = await restingMotor(client);
      await motor.setPower(0.5);
      assert.deepEqual(await motor.isPowered(), [true, 0.5]);
      assert.equal(await motor.isMoving(), true);
      const p1 = await motor.getPosition();
      const t1 = performance.now();
      await sleep(100);
      const p2 = await motor.getPosition();
      const dt = (performance.now() - t1) / 60_000;
      const expected = 0.5 * MAX_RPM * dt; // ~0.5 revolutions
      close(p2 - p1, expected, 0.15 + 0.2 * expected, "revolutions in ~100 ms at half power");
      await motor.stop();
      assert.equal(await motor.isMoving(), false);
      assert.deepEqual(await motor.isPowered(), [false, 0]);
      const p3 = await motor.getPosition();
      await sleep(30);
      assert.equal(await motor.getPosition(), p3, "a stopped motor moved");
    },
  },
  {
    name: "motor: setRPM, resetZeroPosition, getProperties, doCommand, no geometries",
    async run({ client }) {
      const motor = await restingMotor(client);
      await motor.setRPM(-120);
      assert.equal(await motor.isMoving(), true);
      assert.deepEqual(await motor.isPowered(), [true, -0.2]);
      await motor.resetZeroPosition(0.25); // stops, and here becomes -0.25
      assert.equal(await motor.isMoving(), false);
      assert.equal(await motor.getPosition(), -0.25);
      await motor.resetZeroPosition(0);
      assert.equal(await motor.getPosition(), 0);
      assert.deepEqual(await motor.getProperties(), { positionReporting: true });
      assert.deepEqual(await motor.doCommand(struct({ home: true })), { home: true });
      assert.deepEqual((await client.motorService.getGeometries({ name: "motor1" })).geometries, []);
    },
  },

  // ---- encoder -----------------------------------------------------------------------------------
  {
    name: "encoder: position follows motor1 in ticks and degrees; resetPosition; getProperties; doCommand",
    async run({ client }) {
      const motor = await restingMotor(client);
      const encoder = new EncoderClient(client, "encoder1");
      await motor.resetZeroPosition(0);
      assert.deepEqual(await encoder.getPosition(), [0, EncoderPositionType.TICKS_COUNT]);
      await motor.goFor(MAX_RPM, 1.5);
      assert.deepEqual(await encoder.getPosition(EncoderPositionType.TICKS_COUNT), [1.5 * TICKS_PER_ROTATION, EncoderPositionType.TICKS_COUNT]);
      assert.deepEqual(await encoder.getPosition(EncoderPositionType.ANGLE_DEGREES), [540, EncoderPositionType.ANGLE_DEGREES]);
      await encoder.resetPosition();
      assert.deepEqual(await encoder.getPosition(), [0, EncoderPositionType.TICKS_COUNT]);
      assert.equal(await motor.getPosition(), 0, "the motor reads its encoder");
      const props = await encoder.getProperties();
      assert.deepEqual({ ticks: props.ticksCountSupported, degrees: props.angleDegreesSupported }, { ticks: true, degrees: true });
      assert.deepEqual(await encoder.doCommand(struct({ set_position: 42 })), { position_ticks: 42, speed_ticks_per_min: 0 });
      assert.deepEqual(await encoder.getPosition(), [42, EncoderPositionType.TICKS_COUNT]);
      assert.equal(await motor.getPosition(), 0.42);
      await rejectsWithCode(encoder.doCommand(struct({ spin: 1 })), Code.Unimplemented);
      assert.deepEqual((await client.encoderService.getGeometries({ name: "encoder1" })).geometries, []);
    },
  },

  // ---- movement sensor ---------------------------------------------------------------------------
  {
    name: "movement sensor: every getter answers the fake's values; readings carry them all",
    async run({ client }) {
      const imu = new MovementSensorClient(client, "imu1");
      const xyz = (v: { x: number; y: number; z: number }) => ({ x: v.x, y: v.y, z: v.z });
      assert.deepEqual(xyz(await imu.getLinearVelocity()), FAKE_LINEAR_VELOCITY);
      assert.deepEqual(xyz(await imu.getAngularVelocity()), FAKE_ANGULAR_VELOCITY);
      assert.deepEqual(xyz(await imu.getLinearAcceleration()), FAKE_LINEAR_ACCELERATION);
      assert.equal(await imu.getCompassHeading(), FAKE_COMPASS_HEADING);
      const o = await imu.getOrientation();
      assert.deepEqual({ oX: o.oX, oY: o.oY, oZ: o.oZ, theta: o.theta }, FAKE_ORIENTATION);
      const pos = await imu.getPosition();
      assert.deepEqual(
        { latitude: pos.coordinate?.latitude, longitude: pos.coordinate?.longitude, altitudeM: pos.altitudeM },
        FAKE_POSITION,
      );
      const props = await imu.getProperties();
      assert.deepEqual(
        [
          props.linearVelocitySupported,
          props.angularVelocitySupported,
          props.orientationSupported,
          props.positionSupported,
          props.compassHeadingSupported,
          props.linearAccelerationSupported,
        ],
        [true, true, true, true, true, true],
      );
      const acc = await imu.getAccuracy();
      assert.deepEqual(
        {
          accuracy: acc.accuracy,
          hdop: acc.positionHdop,
          vdop: acc.positionVdop,
          fix: acc.positionNmeaGgaFix,
          compass: acc.compassDegreesError,
        },
        { accuracy: {}, hdop: 0, vdop: 0, fix: 4, compass: 0 },
      );
      const r = await imu.getReadings();
      assert.deepEqual(r.position, { lat: FAKE_POSITION.latitude, lng: FAKE_POSITION.longitude, _type: "geopoint" });
      assert.equal(r.altitude, FAKE_POSITION.altitudeM);
      assert.equal(r.compass, FAKE_COMPASS_HEADING);
      assert.deepEqual(r.linear_velocity, { ...FAKE_LINEAR_VELOCITY, _type: "vector3" });
      assert.deepEqual(r.linear_acceleration, { ...FAKE_LINEAR_ACCELERATION, _type: "vector3" });
      assert.deepEqual(r.angular_velocity, { ...FAKE_ANGULAR_VELOCITY, _type: "angular_velocity" });
      assert.deepEqual(r.orientation, { ox: 0, oy: 0, oz: 1, theta: 0, _type: "orientation_vector_degrees" });
      assert.deepEqual(await imu.doCommand(struct({ calibrate: true })), {});
      assert.deepEqual((await client.movementSensorService.getGeometries({ name: "imu1" })).geometries, []);
    },
  },

  // ---- power sensor ------------------------------------------------------------------------------
  {
    name: "power sensor: DC volts and amps near nominal, drifting; power is volts × amps",
    async run({ client }) {
      const power = new PowerSensorClient(client, "power1");
      const [volts, voltsAc] = await power.getVoltage();
      const [amps, ampsAc] = await power.getCurrent();
      const watts = await power.getPower();
      assert.deepEqual([voltsAc, ampsAc], [false, false]);
      close(volts, NOMINAL_VOLTS, 0.2, "volts");
      close(amps, NOMINAL_AMPS, 0.3, "amperes");
      // Three calls a few ms apart sample a slowly drifting supply: within 1 %.
      close(watts, volts * amps, 0.01 * volts * amps, "watts vs volts × amperes");
      const r1 = await power.getReadings();
      await sleep(20);
      const r2 = await power.getReadings();
      for (const r of [r1, r2]) {
        assert.equal(r.is_ac, false);
        close(r.watts as number, (r.volts as number) * (r.amps as number), 1e-9, "readings: watts vs volts × amps");
      }
      assert.notEqual(r2.volts, r1.volts, "volts did not change");
      assert.notEqual(r2.amps, r1.amps, "amps did not change");
      assert.deepEqual(await power.doCommand(struct({ reset: true })), {});
    },
  },

  // ---- servo -------------------------------------------------------------------------------------
  {
    name: "servo: move then getPosition; never moving; stop; out-of-range angle refused",
    async run({ client }) {
      const servo = new ServoClient(client, "servo1");
      await servo.move(90);
      assert.equal(await servo.getPosition(), 90);
      await servo.move(180);
      assert.equal(await servo.getPosition(), 180);
      await rejectsWithCode(servo.move(181), Code.Unknown, "from 0 to 180, got 181");
      assert.equal(await servo.getPosition(), 180, "a refused move changed the angle");
      assert.equal(await servo.isMoving(), false);
      await servo.stop();
      await servo.move(0);
      assert.equal(await servo.getPosition(), 0);
      assert.deepEqual(await servo.doCommand(struct({ sweep: [0, 180] })), { sweep: [0, 180] });
      assert.deepEqual((await client.servoService.getGeometries({ name: "servo1" })).geometries, []);
    },
  },

  // ---- generic -----------------------------------------------------------------------------------
  {
    name: "generic: doCommand echoes any JSON; getGeometries is empty",
    async run({ client }) {
      const generic = new GenericComponentClient(client, "generic1");
      const command = { cmd: "echo", nested: { list: [1, "two", true, null, { x: 1.5 }] }, n: -3 };
      assert.deepEqual(await generic.doCommand(struct(command)), command);
      assert.deepEqual(await generic.getGeometries(), []);
    },
  },

  // ---- errors ------------------------------------------------------------------------------------
  {
    name: "an unknown resource name fails NotFound, naming the resource, on every API",
    async run({ client }) {
      const cases: [string, () => Promise<unknown>][] = [
        ["rdk:component:sensor/nope", () => new SensorClient(client, "nope").getReadings()],
        ["rdk:component:board/nope", () => new BoardClient(client, "nope").getGPIO("1")],
        // board_name, not name, carries the board in these two requests
        ["rdk:component:board/nope", () => new BoardClient(client, "nope").readAnalogReader("a1")],
        ["rdk:component:board/nope", () => new BoardClient(client, "nope").getDigitalInterruptValue("di1")],
        ["rdk:component:board/nope", () => new BoardClient(client, "nope").streamTicks(["di1"], [])],
        ["rdk:component:motor/nope", () => new MotorClient(client, "nope").goFor(60, 1)],
        ["rdk:component:encoder/nope", () => new EncoderClient(client, "nope").getPosition()],
        ["rdk:component:movement_sensor/nope", () => new MovementSensorClient(client, "nope").getCompassHeading()],
        ["rdk:component:power_sensor/nope", () => new PowerSensorClient(client, "nope").getVoltage()],
        ["rdk:component:servo/nope", () => new ServoClient(client, "nope").move(10)],
        ["rdk:component:generic/nope", () => new GenericComponentClient(client, "nope").doCommand(struct({}))],
        // the right name under the wrong API is unknown too
        ["rdk:component:sensor/motor1", () => new SensorClient(client, "motor1").getReadings()],
      ];
      for (const [resource, call] of cases) await rejectsWithCode(call(), Code.NotFound, `"${resource}"`, "not found");
    },
  },
];

/** Every RPC the checks above make; the suite asserts each one reached the server. */
const componentServices: readonly DescService[] = [
  BoardService,
  EncoderService,
  GenericService,
  MotorService,
  MovementSensorService,
  PowerSensorService,
  SensorService,
  ServoService,
];
const robotCalls = [
  "ResourceNames",
  "ResourceRPCSubtypes",
  "GetMachineStatus",
  "GetVersion",
  "GetCloudMetadata",
  "GetOperations",
  "BlockForOperation",
  "CancelOperation",
  "StopAll",
].map((m) => `/viam.robot.v1.RobotService/${m}`);
const expectedPaths = [
  "/proto.rpc.v1.AuthService/Authenticate",
  ...robotCalls,
  ...componentServices.flatMap((s) => s.methods.map((m) => `/${s.typeName}/${m.name}`)),
];

/** The whole suite over one transport: the API checks, heartbeats, auth, and what the server saw. */
export function sdkSuite(transport: SdkTransport): void {
  describe(`Viam SDK RobotClient.dial, direct, ${transport.title}`, () => {
    const log = new RequestLog();
    const credentials = { type: "api-key", authEntity: testKeyId, payload: testKeySecret } as const;
    let host: Host;
    let url: string;
    let client: RobotClient;
    let untame: () => void;

    before(async () => {
      untame = tameSdk();
      host = await startTestHost(withApiKey({ ...allFakesConfig(), network: { bind_address: "127.0.0.1:0" } }), { onRequest: log.record });
      url = await localhostUrl(host);
      client = await dialSdk(transport, url, credentials);
    });

    after(async () => {
      if (client) await disconnectSdk(client);
      await host?.close();
      untame?.();
    });

    it("dials with an api key: Authenticate, then the GetOperations probe; globalThis.VIAM is restored", () => {
      const paths = log.rpcs().map((r) => r.path);
      assert.deepEqual(paths.slice(0, 2), ["/proto.rpc.v1.AuthService/Authenticate", "/viam.robot.v1.RobotService/GetOperations"]);
      assert.equal(Object.hasOwn(globalThis, "VIAM"), false);
    });

    for (const check of apiChecks) it(check.name, () => check.run({ client, host }));

    it("heartbeat: GetOperations succeeds on every beat while connected, and stops after disconnectSdk", async () => {
      // A host of its own, so that only this client's heartbeats are counted.
      const beats = new RequestLog();
      const hbHost = await startTestHost(withApiKey(allFakesConfig()), { onRequest: beats.record });
      try {
        const hbClient = new RobotClient();
        // The SDK beats every 10 s; shorten that (it is a plain field) so the test sees many beats.
        Reflect.set(Reflect.get(hbClient, "gRPCConnectionManager") as object, "heartbeatIntervalMs", 20);
        const events: string[] = [];
        hbClient.on(MachineConnectionEvent.DISCONNECTED, () => events.push("disconnected"));
        const restore = transport.install();
        try {
          await hbClient.dial(dialConf(await localhostUrl(hbHost), credentials));
        } finally {
          restore();
        }
        const path = "/viam.robot.v1.RobotService/GetOperations";
        await waitFor("10 heartbeats", () => beats.count(path) >= 10);
        assert.deepEqual(events, [], "a heartbeat failed: the client saw a disconnect");
        await disconnectSdk(hbClient);
        await sleep(50); // one in-flight beat may still land
        const after = beats.count(path);
        await sleep(200);
        assert.equal(beats.count(path), after, "heartbeats went on after disconnect");
      } finally {
        await hbHost.close();
      }
    });

    describe("auth", () => {
      it("a wrong api key secret is refused: Unauthenticated, invalid credentials", async () => {
        await dialRefused(dialSdk(transport, url, { ...credentials, payload: "not-the-secret" }), Code.Unauthenticated, "invalid credentials");
      });

      it("an unknown api key id is refused: Unauthenticated, invalid credentials", async () => {
        await dialRefused(dialSdk(transport, url, { ...credentials, authEntity: "who-is-this" }), Code.Unauthenticated, "invalid credentials");
      });

      it("without credentials calls are refused: Unauthenticated, authentication required", async () => {
        await dialRefused(dialSdk(transport, url), Code.Unauthenticated, "authentication required");
      });

      it("a made-up access token is refused: Unauthenticated", async () => {
        await dialRefused(dialSdk(transport, url, { type: "access-token", payload: "made.up.token" }), Code.Unauthenticated);
      });
    });

    it(`the server received every call as ${transport.expect.contentType} over HTTP/${transport.expect.httpVersion}`, () => {
      const { httpVersion, contentType } = transport.expect;
      assert.ok(log.all.length > 0);
      for (const r of log.all) {
        assert.equal(`${r.method} ${r.path} HTTP/${r.httpVersion} ${r.contentType}`, `POST ${r.path} HTTP/${httpVersion} ${contentType}`);
      }
      // The SDK names itself on every call through the client, except Authenticate.
      for (const r of log.rpcs().filter((r) => r.headers.authorization !== undefined)) {
        assert.match(String(r.headers.viam_client), /^typescript;v0\.61\.1;v0\.1\.512$/, `viam_client on ${r.path}`);
      }
      const seen = new Set(log.rpcs().map((r) => r.path));
      const missing = expectedPaths.filter((p) => !seen.has(p));
      assert.deepEqual(missing, [], "RPCs the checks should have made but the server never received");
    });
  });
}
