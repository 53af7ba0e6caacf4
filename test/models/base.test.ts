// The wheeled base over recording motors (what each motor is told), its math against rdk's, and
// the fake base.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { JsonObject } from "@bufbuild/protobuf";
import { fakeBaseModel } from "../../host/components/base/fake.js";
import { differentialDrive, wheeledBaseModel, type WheeledBase } from "../../host/components/base/wheeled.js";
import { motorApi } from "../../host/components/motor/motor.js";
import { NotSupportedError } from "../../host/resource/resource.js";
import { build, call, MapDependencies, near, RecordingMotor, waitFor, type MotorCall } from "./support.js";

const WIDTH = 400;
const CIRCUMFERENCE = 200;

interface Rig {
  base: WheeledBase;
  l1: RecordingMotor;
  l2: RecordingMotor;
  r1: RecordingMotor;
  r2: RecordingMotor;
}

async function rig(extra: JsonObject = {}): Promise<Rig> {
  const [l1, l2, r1, r2] = ["l1", "l2", "r1", "r2"].map((n) => new RecordingMotor(n));
  const deps = new MapDependencies().add(motorApi, l1).add(motorApi, l2).add(motorApi, r1).add(motorApi, r2);
  const attributes = { left: ["l1", "l2"], right: ["r1", "r2"], width_mm: WIDTH, wheel_circumference_mm: CIRCUMFERENCE, ...extra };
  const base = await build(wheeledBaseModel, "base", attributes, deps);
  return { base, l1, l2, r1, r2 };
}

function nearCall(actual: MotorCall | undefined, expected: MotorCall, what: string): void {
  assert.ok(actual, `${what}: no call`);
  assert.equal(actual.method, expected.method, what);
  for (const [k, v] of Object.entries(expected)) {
    if (typeof v === "number") near((actual as unknown as Record<string, number>)[k], v, 1e-9, `${what} ${k}`);
  }
}

describe("wheeled base", () => {
  it("names its motors as required dependencies", () => {
    assert.deepEqual(
      wheeledBaseModel.validate!({ left: ["l1", "l2"], right: ["r1", "r2"], width_mm: 1, wheel_circumference_mm: 1 }),
      { required: ["l1", "l2", "r1", "r2"], optional: [] },
    );
  });

  it("MoveStraight: GoFor on every motor, rpm = 60 x mm/s / circumference, revolutions = distance / circumference", async () => {
    const { base, l1, l2, r1, r2 } = await rig();
    const moving = base.moveStraight(1000, 200, call);
    await waitFor("every motor told", () => [l1, l2, r1, r2].every((m) => m.calls.length === 1));
    for (const m of [l1, l2, r1, r2]) nearCall(m.last(), { method: "goFor", rpm: 60, revolutions: 5 }, m.name);
    assert.equal(await base.isMoving(), true);
    for (const m of [l1, l2, r1, r2]) m.finishGoFor();
    await moving;
    assert.equal(await base.isMoving(), false);

    const back = base.moveStraight(-400, 100, call);
    await waitFor("every motor told", () => [l1, l2, r1, r2].every((m) => m.calls.length === 2));
    for (const m of [l1, l2, r1, r2]) nearCall(m.last(), { method: "goFor", rpm: 30, revolutions: -2 }, m.name);
    await base.stop(call);
    await back;
    for (const m of [l1, l2, r1, r2]) assert.deepEqual(m.last(), { method: "stop" });
  });

  it("MoveStraight with no speed or no distance stops", async () => {
    const { base, l1, r2 } = await rig();
    await base.moveStraight(0, 100, call);
    await base.moveStraight(100, 0, call);
    assert.deepEqual(l1.calls, [{ method: "stop" }, { method: "stop" }]);
    assert.deepEqual(r2.calls, [{ method: "stop" }, { method: "stop" }]);
  });

  it("Spin: left backwards, right forwards, each wheel travelling slip x width x pi x angle / 360", async () => {
    const { base, l1, l2, r1, r2 } = await rig();
    const turning = base.spin(90, 45, call);
    await waitFor("every motor told", () => [l1, l2, r1, r2].every((m) => m.calls.length === 1));
    const revolutions = (WIDTH * Math.PI * 0.25) / CIRCUMFERENCE; // a quarter of the turning circle
    const rpm = (revolutions / 90) * 45 * 60;
    for (const m of [l1, l2]) nearCall(m.last(), { method: "goFor", rpm: -rpm, revolutions }, m.name);
    for (const m of [r1, r2]) nearCall(m.last(), { method: "goFor", rpm, revolutions }, m.name);
    await base.stop(call);
    await turning;

    const { base: slippy, l1: sl, r1: sr } = await rig({ spin_slip_factor: 2 });
    const right = slippy.spin(-90, 45, call);
    await waitFor("motors told", () => sl.calls.length === 1 && sr.calls.length === 1);
    nearCall(sl.last(), { method: "goFor", rpm: rpm * 2, revolutions: revolutions * 2 }, "slip 2, left");
    nearCall(sr.last(), { method: "goFor", rpm: -rpm * 2, revolutions: revolutions * 2 }, "slip 2, right");
    await slippy.stop(call);
    await right;
  });

  it("Spin refuses a zero angle; a zero speed stops", async () => {
    const { base, l1 } = await rig();
    await assert.rejects(base.spin(0, 10, call), /cannot move base base for an angle that is nearly 0/);
    await base.spin(90, 0, call);
    assert.deepEqual(l1.calls, [{ method: "stop" }]);
  });

  it("SetPower mixes linear.y and angular.z with rdk's differential drive", async () => {
    const { base, l1, l2, r1, r2 } = await rig();
    const powers = async (y: number, z: number) => {
      await base.setPower({ x: 0, y, z: 0 }, { x: 0, y: 0, z }, call);
      return [l1, l2, r1, r2].map((m) => {
        const c = m.last();
        assert.equal(c?.method, "setPower");
        return Math.round((c as { power: number }).power * 1e9) / 1e9;
      });
    };
    assert.deepEqual(await powers(1, 0), [1, 1, 1, 1]);
    assert.deepEqual(await powers(-1, 0), [-1, -1, -1, -1]);
    assert.deepEqual(await powers(0, 1), [-1, -1, 1, 1], "turning left in place");
    assert.deepEqual(await powers(0, -1), [1, 1, -1, -1]);
    assert.deepEqual(await powers(0.5, 0.5), [0, 0, 1, 1], "forward and left: the left side rests");
    assert.deepEqual(await powers(0.5, 0), [0.5, 0.5, 0.5, 0.5]);
    assert.equal(await base.isMoving(), true);
    await base.setPower({ x: 0, y: 0, z: 0 }, { x: 0, y: 0, z: 0 }, call);
    for (const m of [l1, l2, r1, r2]) assert.deepEqual(m.last(), { method: "stop" });
    assert.equal(await base.isMoving(), false);
  });

  it("differentialDrive keeps a small power on the inner side when turning right (rdk's atan2 fix)", () => {
    const { left, right } = differentialDrive(1, -1);
    assert.equal(left, 1);
    assert.ok(Math.abs(right) < 1e-15, `right ${right}`);
    const back = differentialDrive(-0.5, 0.5);
    near(back.left, 0, 1e-12, "reverse-left: left");
    near(back.right, -1, 1e-12, "reverse-left: right");
  });

  it("SetVelocity: per-side rpm from mm/s and deg/s (SetRPM)", async () => {
    const { base, l1, r1 } = await rig();
    await base.setVelocity({ x: 0, y: 100, z: 0 }, { x: 0, y: 0, z: 0 }, call);
    nearCall(l1.last(), { method: "setRpm", rpm: 30 }, "straight, left");
    nearCall(r1.last(), { method: "setRpm", rpm: 30 }, "straight, right");
    await base.setVelocity({ x: 0, y: 0, z: 0 }, { x: 0, y: 0, z: 90 }, call);
    // A quarter turn per second: each wheel travels width x pi / 4 mm per second.
    const rpm = ((WIDTH * Math.PI) / 4 / CIRCUMFERENCE) * 60;
    nearCall(l1.last(), { method: "setRpm", rpm: -rpm }, "spin, left");
    nearCall(r1.last(), { method: "setRpm", rpm }, "spin, right");
    await base.setVelocity({ x: 0, y: 0, z: 0 }, { x: 0, y: 0, z: 0 }, call);
    assert.deepEqual(l1.last(), { method: "stop" });
  });

  it("a motor failing a move stops them all and the call rejects with its error", async () => {
    const { base, l1, l2, r1, r2 } = await rig();
    r2.failNext = new Error("motor r2 is on fire");
    await assert.rejects(base.moveStraight(100, 100, call), /motor r2 is on fire/);
    for (const m of [l1, l2, r1, r2]) assert.deepEqual(m.last(), { method: "stop" }, m.name);
  });

  it("a caller going away stops every motor", async () => {
    const { base, l1, l2, r1, r2 } = await rig();
    const ac = new AbortController();
    const moving = base.moveStraight(1000, 100, { extra: {}, signal: ac.signal });
    await waitFor("every motor told", () => [l1, l2, r1, r2].every((m) => m.calls.length === 1));
    ac.abort(new Error("client gone"));
    await assert.rejects(moving, /client gone/);
    for (const m of [l1, l2, r1, r2]) assert.deepEqual(m.last(), { method: "stop" }, m.name);
    assert.equal(await base.isMoving(), false);
  });

  it("a newer command supersedes a move", async () => {
    const { base, l1, r1 } = await rig();
    const moving = base.moveStraight(1000, 100, call);
    await waitFor("motors told", () => l1.calls.length === 1 && r1.calls.length === 1);
    await base.setPower({ x: 0, y: 0.3, z: 0 }, { x: 0, y: 0, z: 0 }, call);
    await moving;
    nearCall(l1.last(), { method: "setPower", power: 0.3 }, "l1");
  });

  it("properties, DoCommand and close", async () => {
    const { base, l1 } = await rig();
    assert.deepEqual(await base.properties(call), { widthMeters: 0.4, turningRadiusMeters: 0, wheelCircumferenceMeters: 0.2 });
    await assert.rejects(base.doCommand(), NotSupportedError);
    await base.close();
    assert.deepEqual(l1.last(), { method: "stop" });
  });

  it("names bad attributes and missing motors", async () => {
    const ok = { left: ["l"], right: ["r"], width_mm: 300, wheel_circumference_mm: 200 };
    const v = (attributes: JsonObject) => () => wheeledBaseModel.validate!(attributes);
    assert.throws(v({ ...ok, width_mm: undefined as never }), /attribute width_mm is required/);
    assert.throws(v({ ...ok, wheel_circumference_mm: 0 }), /attribute wheel_circumference_mm is required/);
    assert.throws(v({ ...ok, width_mm: -3 }), /width_mm must be positive/);
    assert.throws(v({ ...ok, left: [] }), /attribute left is required/);
    assert.throws(v({ ...ok, right: "r" }), /attribute right must be a list of names/);
    assert.throws(v({ ...ok, left: ["a", "b"] }), /left and right need to have the same number of motors, not 2 vs 1/);
    assert.throws(v({ ...ok, right: ["l"] }), /motor l is named twice/);
    assert.throws(v({ ...ok, spin_slip_factor: -1 }), /spin_slip_factor must not be negative/);
    await assert.rejects(build(wheeledBaseModel, "b", ok), /no left motor named \(l\)/);
  });
});

describe("fake base", () => {
  it("takes every command, moves nothing, and reports rdk's fake properties", async () => {
    const base = await build(fakeBaseModel, "fb", {});
    await base.moveStraight(100, 50, call);
    assert.deepEqual(base.lastCommand(), { method: "moveStraight", distanceMm: 100, mmPerSec: 50 });
    await base.spin(-45, 10, call);
    assert.deepEqual(base.lastCommand(), { method: "spin", angleDeg: -45, degsPerSec: 10 });
    await base.setPower({ x: 0, y: 0.5, z: 0 }, { x: 0, y: 0, z: 0.1 }, call);
    assert.deepEqual(base.lastCommand(), { method: "setPower", linear: { x: 0, y: 0.5, z: 0 }, angular: { x: 0, y: 0, z: 0.1 } });
    await base.stop(call);
    assert.deepEqual(base.lastCommand(), { method: "stop" });
    assert.equal(await base.isMoving(), false);
    assert.deepEqual(await base.properties(call), { widthMeters: 0.6, turningRadiusMeters: 0, wheelCircumferenceMeters: 0 });
    await assert.rejects(base.moveStraight(Number.POSITIVE_INFINITY, 1, call), /distance must be a finite number/);
    assert.deepEqual(await base.doCommand({ a: 1 }, call), { a: 1 });
  });
});
