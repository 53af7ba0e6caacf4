// The micro runtime end to end: the firmware booted on a simulated ESP32 (BME280, INA219 and
// MPU-6050 on i2c0, a gpio motor with an incremental encoder, a servo), a host-side client
// (ChannelClient + protobuf-es + length-prefix framing over a real TCP socket) calling every
// method the part serves.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { DescService } from "@bufbuild/protobuf";
import { ChannelError, Code } from "../../proto/channel/frames.js";
import { BoardService, PowerMode } from "../../proto/gen/component/board/v1/board_pb.js";
import { EncoderService, PositionType } from "../../proto/gen/component/encoder/v1/encoder_pb.js";
import { GenericService } from "../../proto/gen/component/generic/v1/generic_pb.js";
import { MotorService } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { MovementSensorService } from "../../proto/gen/component/movementsensor/v1/movementsensor_pb.js";
import { PowerSensorService } from "../../proto/gen/component/powersensor/v1/powersensor_pb.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { ServoService } from "../../proto/gen/component/servo/v1/servo_pb.js";
import { GetMachineStatusResponse_State, ResourceStatus_State, RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { ConfigService } from "../../proto/gen/sprocket/micro/v1/config_pb.js";
import { MicroClient, PINS, TICKS_PER_ROTATION, connectAuthenticated, startMicro, until, type MicroSim, type Wiring } from "./harness.js";

let sim: MicroSim;
let client: MicroClient;

before(async () => {
  sim = await startMicro();
  client = await connectAuthenticated(sim);
});

after(async () => {
  client?.close();
  await sim?.stop();
});

async function rejects(promise: Promise<unknown>, code: number, message?: RegExp): Promise<ChannelError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ChannelError, "expected a ChannelError, got " + String(error));
    assert.equal(error.code, code, "code of " + error.message);
    if (message) assert.match(error.message, message);
    return error;
  }
  assert.fail("expected the call to fail with code " + code);
}

const wiring = () => sim.wiring as Wiring;

// Every method of every component service the part serves gets a call below; this list is checked
// against the generated service descriptors so a method added upstream cannot be missed.
const called = new Set<string>();
function mark(service: DescService, method: string): void {
  called.add(service.typeName + "/" + method);
}

test("board: GPIO, PWM, frequency, analog, interrupts, power mode, DoCommand, geometries", async () => {
  await client.call(BoardService.method.setGPIO, { name: "board", pin: String(PINS.gpio), high: true });
  assert.equal(sim.world.gpio.level(PINS.gpio), 1);
  assert.equal((await client.call(BoardService.method.getGPIO, { name: "board", pin: String(PINS.gpio) })).high, true);
  await client.call(BoardService.method.setGPIO, { name: "board", pin: String(PINS.gpio), high: false });
  assert.equal(sim.world.gpio.level(PINS.gpio), 0);
  // An input nobody drives reads the outside world.
  sim.world.gpio.drive(5, 1);
  assert.equal((await client.call(BoardService.method.getGPIO, { name: "board", pin: "5" })).high, true);
  mark(BoardService, "SetGPIO");
  mark(BoardService, "GetGPIO");

  await client.call(BoardService.method.setPWMFrequency, { name: "board", pin: "18", frequencyHz: 2000n });
  await client.call(BoardService.method.setPWM, { name: "board", pin: "18", dutyCyclePct: 0.25 });
  const pwm = sim.world.pwm(18);
  assert.ok(pwm);
  assert.equal(pwm.hz, 2000);
  assert.ok(Math.abs(pwm.dutyCycle - 0.25) < 0.002, String(pwm.dutyCycle));
  assert.equal((await client.call(BoardService.method.pWM, { name: "board", pin: "18" })).dutyCyclePct, 0.25);
  assert.equal((await client.call(BoardService.method.pWMFrequency, { name: "board", pin: "18" })).frequencyHz, 2000n);
  await rejects(client.call(BoardService.method.setPWM, { name: "board", pin: "18", dutyCyclePct: 1.5 }), Code.INVALID_ARGUMENT, /between 0 and 1/);
  mark(BoardService, "SetPWM");
  mark(BoardService, "PWM");
  mark(BoardService, "SetPWMFrequency");
  mark(BoardService, "PWMFrequency");

  const analog = await client.call(BoardService.method.readAnalogReader, { boardName: "board", analogReaderName: "a1" });
  assert.equal(analog.value, Math.trunc((1650 * 1023) / 3300));
  assert.ok(Math.abs(analog.maxRange - 3.3) < 1e-6); // a float on the wire
  await rejects(client.call(BoardService.method.readAnalogReader, { boardName: "board", analogReaderName: "nope" }), Code.NOT_FOUND);
  mark(BoardService, "ReadAnalogReader");
  await rejects(client.call(BoardService.method.writeAnalog, { name: "board", pin: "25", value: 1 }), Code.UNIMPLEMENTED);
  mark(BoardService, "WriteAnalog");

  for (let i = 0; i < 3; i++) {
    sim.world.gpio.drive(PINS.interrupt, 1);
    await new Promise((r) => setImmediate(r));
    sim.world.gpio.drive(PINS.interrupt, 0);
    await new Promise((r) => setImmediate(r));
  }
  await until(() => true);
  const ticks = await client.call(BoardService.method.getDigitalInterruptValue, { boardName: "board", digitalInterruptName: String(PINS.interrupt) });
  assert.equal(ticks.value, 3n);
  mark(BoardService, "GetDigitalInterruptValue");

  await client.call(BoardService.method.setPowerMode, { name: "board", powerMode: PowerMode.NORMAL });
  await rejects(client.call(BoardService.method.setPowerMode, { name: "board", powerMode: PowerMode.UNSPECIFIED }), Code.INVALID_ARGUMENT);
  await rejects(client.call(BoardService.method.setPowerMode, { name: "board", powerMode: PowerMode.OFFLINE_DEEP }), Code.UNIMPLEMENTED);
  mark(BoardService, "SetPowerMode");
  await rejects(client.call(BoardService.method.doCommand, { name: "board", command: {} }), Code.UNIMPLEMENTED);
  mark(BoardService, "DoCommand");
  assert.deepEqual((await client.call(BoardService.method.getGeometries, { name: "board" })).geometries, []);
  mark(BoardService, "GetGeometries");
});

test("board: StreamTicks streams interrupt edges until cancelled", async () => {
  const path = "/viam.component.board.v1.BoardService/StreamTicks";
  const { StreamTicksRequestSchema, StreamTicksResponseSchema } = await import("../../proto/gen/component/board/v1/board_pb.js");
  const { create, toBinary, fromBinary } = await import("@bufbuild/protobuf");
  const call = client.client.call(path, {}, toBinary(StreamTicksRequestSchema, create(StreamTicksRequestSchema, { name: "board", pinNames: [String(PINS.interrupt)] })));
  await call.headers.catch(() => undefined);
  await new Promise((r) => setTimeout(r, 20));
  sim.world.gpio.drive(PINS.interrupt, 1);
  const got: { pinName: string; high: boolean }[] = [];
  for await (const m of call.responses) {
    const t = fromBinary(StreamTicksResponseSchema, m);
    got.push({ pinName: t.pinName, high: t.high });
    assert.ok(t.time > 0n);
    if (got.length === 1) sim.world.gpio.drive(PINS.interrupt, 0);
    if (got.length === 2) break;
  }
  assert.deepEqual(got, [
    { pinName: String(PINS.interrupt), high: true },
    { pinName: String(PINS.interrupt), high: false },
  ]);
  call.cancel();
  const { status } = await call.trailers;
  assert.equal(status.code, Code.CANCELLED);
  mark(BoardService, "StreamTicks");
});

test("sensor: BME280 readings, free-heap readings", async () => {
  const r = await client.call(SensorService.method.getReadings, { name: "env" });
  const temperature = r.readings.temperature.kind.value as number;
  const pressure = r.readings.pressure.kind.value as number;
  const humidity = r.readings.humidity.kind.value as number;
  assert.ok(Math.abs(temperature - 21.5) < 0.05, String(temperature));
  assert.ok(Math.abs(pressure - 101_325) < 50, String(pressure));
  assert.ok(Math.abs(humidity - 40) < 0.5, String(humidity));
  sim.world.freeHeap = 123_456;
  const heap = await client.call(SensorService.method.getReadings, { name: "heap" });
  assert.equal(heap.readings.bytes.kind.value, 123_456);
  mark(SensorService, "GetReadings");
  await rejects(client.call(SensorService.method.doCommand, { name: "env", command: {} }), Code.UNIMPLEMENTED);
  assert.deepEqual((await client.call(SensorService.method.doCommand, { name: "heap", command: {} })).result, { bytes: 123_456 });
  mark(SensorService, "DoCommand");
  assert.deepEqual((await client.call(SensorService.method.getGeometries, { name: "env" })).geometries, []);
  mark(SensorService, "GetGeometries");
  await rejects(client.call(SensorService.method.getReadings, { name: "nope" }), Code.NOT_FOUND, /resource "rdk:component:sensor\/nope" not found/);
});

test("power sensor: INA219 voltage, current, power, readings", async () => {
  const v = await client.call(PowerSensorService.method.getVoltage, { name: "power" });
  assert.ok(Math.abs(v.volts - 4.95) < 0.01, String(v.volts)); // 5 V less 0.5 A × 0.1 Ω
  assert.equal(v.isAc, false);
  const c = await client.call(PowerSensorService.method.getCurrent, { name: "power" });
  assert.ok(Math.abs(c.amperes - 0.5) < 0.01, String(c.amperes));
  const p = await client.call(PowerSensorService.method.getPower, { name: "power" });
  assert.ok(Math.abs(p.watts - 2.475) < 0.05, String(p.watts));
  const r = await client.call(PowerSensorService.method.getReadings, { name: "power" });
  assert.deepEqual(Object.keys(r.readings).sort(), ["amps", "is_ac", "volts", "watts"]);
  await rejects(client.call(PowerSensorService.method.doCommand, { name: "power", command: {} }), Code.UNIMPLEMENTED);
  for (const m of ["GetVoltage", "GetCurrent", "GetPower", "GetReadings", "DoCommand"]) mark(PowerSensorService, m);
});

test("movement sensor: MPU-6050 angular velocity and acceleration; the rest unimplemented", async () => {
  wiring().mpu6050.setMotion({ angularVelocity: { x: 10, y: -20, z: 30 } });
  const av = (await client.call(MovementSensorService.method.getAngularVelocity, { name: "imu" })).angularVelocity;
  assert.ok(av && Math.abs(av.x - 10) < 0.1 && Math.abs(av.y + 20) < 0.1 && Math.abs(av.z - 30) < 0.1, JSON.stringify(av));
  const la = await client.call(MovementSensorService.method.getLinearAcceleration, { name: "imu" });
  assert.ok(la.linearAcceleration && Math.abs(la.linearAcceleration.z - 9.80665) < 0.05, JSON.stringify(la.linearAcceleration));
  const props = await client.call(MovementSensorService.method.getProperties, { name: "imu" });
  assert.equal(props.angularVelocitySupported, true);
  assert.equal(props.linearAccelerationSupported, true);
  assert.equal(props.positionSupported, false);
  for (const m of [
    MovementSensorService.method.getLinearVelocity,
    MovementSensorService.method.getCompassHeading,
    MovementSensorService.method.getOrientation,
    MovementSensorService.method.getPosition,
  ]) {
    await rejects(client.call(m as never, { name: "imu" } as never), Code.UNIMPLEMENTED);
    mark(MovementSensorService, m.name);
  }
  const acc = await client.call(MovementSensorService.method.getAccuracy, { name: "imu" });
  assert.deepEqual(acc.accuracy, {});
  const r = await client.call(MovementSensorService.method.getReadings, { name: "imu" });
  assert.ok("angular_velocity" in r.readings && "linear_acceleration" in r.readings);
  await rejects(client.call(MovementSensorService.method.doCommand, { name: "imu", command: {} }), Code.UNIMPLEMENTED);
  assert.deepEqual((await client.call(MovementSensorService.method.getGeometries, { name: "imu" })).geometries, []);
  for (const m of ["GetAngularVelocity", "GetLinearAcceleration", "GetProperties", "GetAccuracy", "GetReadings", "DoCommand", "GetGeometries"]) {
    mark(MovementSensorService, m);
  }
});

test("motor: power, direction pins, RPM, encoder-driven GoFor and GoTo, position, stop", async () => {
  const w = sim.world;
  await client.call(MotorService.method.setPower, { name: "m1", powerPct: 0.5 });
  assert.ok(Math.abs((w.pwm(PINS.motor.pwm)?.dutyCycle ?? 0) - 0.5) < 0.002);
  assert.equal(w.gpio.level(PINS.motor.a), 1);
  assert.equal(w.gpio.level(PINS.motor.b), 0);
  let powered = await client.call(MotorService.method.isPowered, { name: "m1" });
  assert.deepEqual([powered.isOn, powered.powerPct], [true, 0.5]);
  assert.equal((await client.call(MotorService.method.isMoving, { name: "m1" })).isMoving, true);
  await client.call(MotorService.method.setPower, { name: "m1", powerPct: -0.25 });
  assert.equal(w.gpio.level(PINS.motor.a), 0);
  assert.equal(w.gpio.level(PINS.motor.b), 1);
  await rejects(client.call(MotorService.method.setPower, { name: "m1", powerPct: 2 }), Code.INVALID_ARGUMENT);
  await client.call(MotorService.method.setRPM, { name: "m1", rpm: 50 });
  assert.ok(Math.abs((w.pwm(PINS.motor.pwm)?.dutyCycle ?? 0) - 0.5) < 0.002);
  await client.call(MotorService.method.stop, { name: "m1" });
  assert.equal(w.pwm(PINS.motor.pwm)?.duty, 0);
  powered = await client.call(MotorService.method.isPowered, { name: "m1" });
  assert.equal(powered.isOn, false);

  await client.call(MotorService.method.resetZeroPosition, { name: "m1", offset: 0 });
  assert.equal((await client.call(MotorService.method.getPosition, { name: "m1" })).position, 0);
  assert.equal((await client.call(MotorService.method.getProperties, { name: "m1" })).positionReporting, true);

  // 0.5 revolution at 100 rpm: ~300 ms of turning, measured by the encoder.
  const started = Date.now();
  await client.call(MotorService.method.goFor, { name: "m1", rpm: 100, revolutions: 0.5 });
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 250, "GoFor returned after " + elapsed + " ms");
  assert.equal(w.pwm(PINS.motor.pwm)?.duty, 0, "stopped at the target");
  const pos = (await client.call(MotorService.method.getPosition, { name: "m1" })).position;
  assert.ok(pos >= 0.5 && pos < 0.7, "position " + pos);

  await client.call(MotorService.method.goTo, { name: "m1", rpm: 100, positionRevolutions: 0 });
  const back = (await client.call(MotorService.method.getPosition, { name: "m1" })).position;
  assert.ok(back <= 0 && back > -0.2, "position " + back);
  assert.equal(w.pwm(PINS.motor.pwm)?.duty, 0);

  // A newer command interrupts a running GoFor, which ends CANCELLED.
  const going = client.call(MotorService.method.goFor, { name: "m1", rpm: 60, revolutions: 10 });
  await until(() => (w.pwm(PINS.motor.pwm)?.duty ?? 0) > 0, 2000, "motor running");
  const ops = await client.call(RobotService.method.getOperations, {});
  assert.ok(ops.operations.some((o) => o.method === "/viam.component.motor.v1.MotorService/GoFor"), JSON.stringify(ops.operations.map((o) => o.method)));
  await client.call(MotorService.method.stop, { name: "m1" });
  await rejects(going, Code.CANCELLED, /stopped/);
  assert.equal(w.pwm(PINS.motor.pwm)?.duty, 0);
  await rejects(client.call(MotorService.method.goFor, { name: "m1", rpm: 0, revolutions: 1 }), Code.INVALID_ARGUMENT);

  await rejects(client.call(MotorService.method.doCommand, { name: "m1", command: {} }), Code.UNIMPLEMENTED);
  assert.deepEqual((await client.call(MotorService.method.getGeometries, { name: "m1" })).geometries, []);
  for (const m of MotorService.methods) mark(MotorService, m.name);
});

test("encoder: ticks, reset, properties; degrees unsupported", async () => {
  await client.call(EncoderService.method.resetPosition, { name: "enc" });
  await client.call(MotorService.method.goFor, { name: "m1", rpm: 100, revolutions: 0.25 });
  const p = await client.call(EncoderService.method.getPosition, { name: "enc", positionType: PositionType.TICKS_COUNT });
  assert.equal(p.positionType, PositionType.TICKS_COUNT);
  assert.ok(p.value >= 0.25 * TICKS_PER_ROTATION && p.value <= 0.25 * TICKS_PER_ROTATION + 3, String(p.value));
  const unspecified = await client.call(EncoderService.method.getPosition, { name: "enc" });
  assert.equal(unspecified.value, p.value);
  await rejects(client.call(EncoderService.method.getPosition, { name: "enc", positionType: PositionType.ANGLE_DEGREES }), Code.UNIMPLEMENTED);
  const props = await client.call(EncoderService.method.getProperties, { name: "enc" });
  assert.deepEqual([props.ticksCountSupported, props.angleDegreesSupported], [true, false]);
  await client.call(EncoderService.method.resetPosition, { name: "enc" });
  assert.equal((await client.call(EncoderService.method.getPosition, { name: "enc" })).value, 0);
  await rejects(client.call(EncoderService.method.doCommand, { name: "enc", command: {} }), Code.UNIMPLEMENTED);
  assert.deepEqual((await client.call(EncoderService.method.getGeometries, { name: "enc" })).geometries, []);
  for (const m of EncoderService.methods) mark(EncoderService, m.name);
});

test("servo: move sets the pulse width, position reads back, stop", async () => {
  await client.call(ServoService.method.move, { name: "servo", angleDeg: 90 });
  const pwm = sim.world.pwm(PINS.servo);
  assert.ok(pwm);
  assert.equal(pwm.hz, 50);
  // 1500 µs of a 20 ms period.
  assert.ok(Math.abs(pwm.dutyCycle - 0.075) < 0.002, String(pwm.dutyCycle));
  assert.equal((await client.call(ServoService.method.getPosition, { name: "servo" })).positionDeg, 90);
  assert.equal((await client.call(ServoService.method.isMoving, { name: "servo" })).isMoving, true);
  await client.call(ServoService.method.move, { name: "servo", angleDeg: 500 }); // clamped to 180
  assert.equal((await client.call(ServoService.method.getPosition, { name: "servo" })).positionDeg, 180);
  await client.call(ServoService.method.stop, { name: "servo" });
  assert.equal(sim.world.pwm(PINS.servo)?.duty, 0);
  assert.equal((await client.call(ServoService.method.isMoving, { name: "servo" })).isMoving, false);
  await rejects(client.call(ServoService.method.doCommand, { name: "servo", command: {} }), Code.UNIMPLEMENTED);
  assert.deepEqual((await client.call(ServoService.method.getGeometries, { name: "servo" })).geometries, []);
  for (const m of ServoService.methods) mark(ServoService, m.name);
});

test("generic: free-heap answers DoCommand", async () => {
  sim.world.freeHeap = 99_000;
  assert.deepEqual((await client.call(GenericService.method.doCommand, { name: "heap-generic", command: { what: "heap" } })).result, { bytes: 99_000 });
  assert.deepEqual((await client.call(GenericService.method.getGeometries, { name: "heap-generic" })).geometries, []);
  for (const m of GenericService.methods) mark(GenericService, m.name);
});

test("robot: resource names, RPC subtypes, machine status, version, stop all", async () => {
  const names = await client.call(RobotService.method.resourceNames, {});
  assert.deepEqual(names.resources.map((r) => r.subtype + "/" + r.name).sort(), [
    "board/board",
    "encoder/enc",
    "generic/heap-generic",
    "motor/m1",
    "movement_sensor/imu",
    "power_sensor/power",
    "sensor/env",
    "sensor/heap",
    "servo/servo",
  ]);
  const subtypes = await client.call(RobotService.method.resourceRPCSubtypes, {});
  assert.deepEqual(subtypes.resourceRpcSubtypes.map((s) => s.protoService).sort(), [
    "viam.component.board.v1.BoardService",
    "viam.component.encoder.v1.EncoderService",
    "viam.component.generic.v1.GenericService",
    "viam.component.motor.v1.MotorService",
    "viam.component.movementsensor.v1.MovementSensorService",
    "viam.component.powersensor.v1.PowerSensorService",
    "viam.component.sensor.v1.SensorService",
    "viam.component.servo.v1.ServoService",
  ]);
  const status = await client.call(RobotService.method.getMachineStatus, {});
  assert.equal(status.state, GetMachineStatusResponse_State.RUNNING);
  assert.equal(status.resources.length, 9);
  assert.ok(status.resources.every((r) => r.state === ResourceStatus_State.READY && r.error === ""));
  assert.match(status.config?.revision ?? "", /^[0-9a-f]{8}$/);
  const version = await client.call(RobotService.method.getVersion, {});
  assert.equal(version.platform, "sprocket-micro");
  assert.match(version.version, /^\d+\.\d+\.\d+$/);

  await client.call(MotorService.method.setPower, { name: "m1", powerPct: 0.7 });
  await client.call(ServoService.method.move, { name: "servo", angleDeg: 45 });
  await client.call(RobotService.method.stopAll, {});
  assert.equal(sim.world.pwm(PINS.motor.pwm)?.duty, 0);
  assert.equal(sim.world.pwm(PINS.servo)?.duty, 0);
  assert.deepEqual((await client.call(RobotService.method.getOperations, {})).operations.map((o) => o.method), [
    "/viam.robot.v1.RobotService/GetOperations",
  ]);
  await rejects(client.call(RobotService.method.getCloudMetadata, {}), Code.UNIMPLEMENTED, /unknown method GetCloudMetadata for service viam.robot.v1.RobotService/);
});

test("config service: GetConfig returns what was stored", async () => {
  const cfg = await client.call(ConfigService.method.getConfig, {});
  assert.equal(JSON.parse(cfg.configJson).components.length, 9);
  const status = await client.call(RobotService.method.getMachineStatus, {});
  assert.equal(cfg.revision, status.config?.revision);
});

test("unknown services and methods answer UNIMPLEMENTED", async () => {
  await rejects(client.client.unary("/viam.component.arm.v1.ArmService/GetEndPosition", {}, new Uint8Array(0)), Code.UNIMPLEMENTED, /unknown service viam.component.arm.v1.ArmService/);
  await rejects(client.client.unary("/viam.component.motor.v1.MotorService/Fly", {}, new Uint8Array(0)), Code.UNIMPLEMENTED, /unknown method Fly/);
  await rejects(client.client.unary("/viam.component.motor.v1.MotorService/SetPower", {}, Uint8Array.of(0x0a, 0x05, 0x41)), Code.INVALID_ARGUMENT, /malformed request/);
});

test("every method of every served component service was called", () => {
  const services = [BoardService, SensorService, PowerSensorService, MovementSensorService, MotorService, EncoderService, ServoService, GenericService];
  const missing = services.flatMap((s) => s.methods.map((m) => s.typeName + "/" + m.name)).filter((name) => !called.has(name));
  assert.deepEqual(missing, []);
});
