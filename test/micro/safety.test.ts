// Safety stop on a micro part: when the connection that last commanded an actuator drops, the
// actuator stops (the world's PWM duty goes to 0); actuators another connection commanded since,
// and connections that only read, change nothing.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MotorService } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { ServoService } from "../../proto/gen/component/servo/v1/servo_pb.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { PINS, connectAuthenticated, startMicro, until, type MicroSim } from "./harness.js";

let sim: MicroSim;

before(async () => {
  sim = await startMicro();
});

after(async () => {
  await sim?.stop();
});

const motorDuty = () => sim.world.pwm(PINS.motor.pwm)?.duty ?? 0;
const servoDuty = () => sim.world.pwm(PINS.servo)?.duty ?? 0;

test("dropping the connection that set the motor's power stops the motor", async () => {
  const a = await connectAuthenticated(sim);
  await a.call(MotorService.method.setPower, { name: "m1", powerPct: 0.6 });
  assert.ok(motorDuty() > 0);
  a.close();
  await until(() => motorDuty() === 0, 2000, "motor stopped");
  assert.equal(sim.world.gpio.level(PINS.motor.a), 0);
  assert.equal(sim.world.gpio.level(PINS.motor.b), 0);
});

test("the last commander counts: A's drop leaves B's command running; B's drop stops it", async () => {
  const a = await connectAuthenticated(sim);
  const b = await connectAuthenticated(sim);
  await a.call(MotorService.method.setPower, { name: "m1", powerPct: 0.3 });
  await b.call(MotorService.method.setRPM, { name: "m1", rpm: 40 });
  a.close();
  await a.closed;
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(motorDuty() > 0, "still running for B");
  b.close();
  await until(() => motorDuty() === 0, 2000, "motor stopped");
});

test("dropping the connection of a running GoFor stops the motor mid-move", async () => {
  const a = await connectAuthenticated(sim);
  const going = a.call(MotorService.method.goFor, { name: "m1", rpm: 30, revolutions: 20 });
  going.catch(() => undefined);
  await until(() => motorDuty() > 0, 2000, "motor running");
  a.close();
  await until(() => motorDuty() === 0, 2000, "motor stopped");
});

test("dropping the connection that moved the servo stops its pulses", async () => {
  const a = await connectAuthenticated(sim);
  await a.call(ServoService.method.move, { name: "servo", angleDeg: 120 });
  assert.ok(servoDuty() > 0);
  a.close();
  await until(() => servoDuty() === 0, 2000, "servo stopped");
});

test("a connection that only read drops without stopping anything", async () => {
  const commander = await connectAuthenticated(sim);
  await commander.call(MotorService.method.setPower, { name: "m1", powerPct: 0.4 });
  const reader = await connectAuthenticated(sim);
  await reader.call(SensorService.method.getReadings, { name: "env" });
  await reader.call(MotorService.method.isPowered, { name: "m1" });
  reader.close();
  await reader.closed;
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(motorDuty() > 0);
  commander.close();
  await until(() => motorDuty() === 0, 2000, "motor stopped");
});
