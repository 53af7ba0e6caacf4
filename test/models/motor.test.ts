// The gpio motor over a fake board: the pins and duty cycles of each wiring, open-loop GoFor, and the
// encoded motor's speed loop against a simulated motor that ticks the board's interrupts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { JsonObject } from "@bufbuild/protobuf";
import { boardApi } from "../../host/components/board/board.js";
import { fakeBoardModel, type FakeBoard } from "../../host/components/board/fake.js";
import { encoderApi } from "../../host/components/encoder/encoder.js";
import { incrementalEncoderModel } from "../../host/components/encoder/incremental.js";
import { singleEncoderModel } from "../../host/components/encoder/single.js";
import { gpioMotorModel, parseGpioMotorConfig } from "../../host/components/motor/gpio.js";
import type { Motor } from "../../host/components/motor/motor.js";
import { NotSupportedError, type Resource } from "../../host/resource/resource.js";
import { build, call, MapDependencies, MotorPhysics, near, sleep, waitFor } from "./support.js";

interface Rig {
  board: FakeBoard;
  motor: Motor;
  close(): Promise<void>;
}

async function rig(attributes: JsonObject, boardAttributes: JsonObject = {}): Promise<Rig> {
  const board = await build(fakeBoardModel, "b", boardAttributes);
  const deps = new MapDependencies().add(boardApi, board);
  const motor = await build(gpioMotorModel, "m", { board: "b", ...attributes }, deps);
  return {
    board,
    motor,
    async close() {
      await motor.close();
      await board.close();
    },
  };
}

async function using(r: Rig | Promise<Rig>, fn: (r: Rig) => Promise<void>): Promise<void> {
  const x = await r;
  try {
    await fn(x);
  } finally {
    await x.close();
  }
}

/** Level and duty of each pin, compactly: "H", "L", or the duty cycle. */
function pins(board: FakeBoard, ...names: string[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const n of names) {
    const s = board.pinState(n);
    out[n] = s.duty > 0 ? s.duty : s.high ? "H" : "L";
  }
  return out;
}

const AB_PWM = { pins: { a: "11", b: "13", pwm: "15" }, max_rpm: 100 };

describe("gpio motor: pins", () => {
  it("A/B + PWM: direction on A and B, power as the PWM duty at pwm_freq (800 Hz default)", async () => {
    await using(rig(AB_PWM), async ({ board, motor }) => {
      assert.deepEqual(pins(board, "11", "13", "15"), { 11: "L", 13: "L", 15: "L" }, "built stopped");
      await motor.setPower(0.5, call);
      assert.deepEqual(pins(board, "11", "13", "15"), { 11: "H", 13: "L", 15: 0.5 });
      assert.equal(board.pinState("15").frequencyHz, 800);
      assert.deepEqual(await motor.isPowered(call), { isOn: true, powerPct: 0.5 });
      assert.equal(await motor.isMoving(), true);
      await motor.setPower(-0.25, call);
      assert.deepEqual(pins(board, "11", "13", "15"), { 11: "L", 13: "H", 15: 0.25 });
      assert.deepEqual(await motor.isPowered(call), { isOn: true, powerPct: -0.25 });
      await motor.stop(call);
      assert.deepEqual(pins(board, "11", "13", "15"), { 11: "L", 13: "L", 15: "L" });
      assert.equal(board.pinState("15").duty, 0);
      assert.deepEqual(await motor.isPowered(call), { isOn: false, powerPct: 0 });
      assert.equal(await motor.isMoving(), false);
    });
  });

  it("dir_flip swaps A and B; |power| <= 0.01 is a stop", async () => {
    await using(rig({ ...AB_PWM, dir_flip: true, pwm_freq: 20000 }), async ({ board, motor }) => {
      await motor.setPower(0.5, call);
      assert.deepEqual(pins(board, "11", "13", "15"), { 11: "L", 13: "H", 15: 0.5 });
      assert.equal(board.pinState("15").frequencyHz, 20000);
      await motor.setPower(0.005, call);
      assert.deepEqual(pins(board, "11", "13", "15"), { 11: "L", 13: "L", 15: "L" });
    });
  });

  it("direction + PWM: the direction pin's level, flipped by dir_flip", async () => {
    await using(rig({ pins: { dir: "16", pwm: "18" }, max_rpm: 100 }), async ({ board, motor }) => {
      await motor.setPower(0.3, call);
      assert.deepEqual(pins(board, "16", "18"), { 16: "H", 18: 0.3 });
      await motor.setPower(-0.3, call);
      assert.deepEqual(pins(board, "16", "18"), { 16: "L", 18: 0.3 });
      await motor.stop(call);
      assert.equal(board.pinState("18").duty, 0);
    });
    await using(rig({ pins: { dir: "16", pwm: "18" }, max_rpm: 100, dir_flip: true }), async ({ board, motor }) => {
      await motor.setPower(0.3, call);
      assert.deepEqual(pins(board, "16", "18"), { 16: "L", 18: 0.3 });
    });
  });

  it("A/B only: the PWM goes on the low pin, inverted (rdk)", async () => {
    await using(rig({ pins: { a: "21", b: "23" }, max_rpm: 100 }), async ({ board, motor }) => {
      await motor.setPower(0.3, call);
      assert.equal(board.pinState("21").high, true);
      near(board.pinState("23").duty, 0.7, 1e-12, "B's duty");
      await motor.setPower(-0.3, call);
      assert.equal(board.pinState("23").high, true);
      near(board.pinState("21").duty, 0.7, 1e-12, "A's duty");
      await motor.stop(call);
      assert.deepEqual(pins(board, "21", "23"), { 21: "L", 23: "L" });
    });
  });

  it("enable pins: en_high high and en_low low while driving, the other way round when stopped", async () => {
    await using(rig({ ...AB_PWM, pins: { ...AB_PWM.pins, en_high: "30", en_low: "31" } }), async ({ board, motor }) => {
      assert.deepEqual(pins(board, "30", "31"), { 30: "L", 31: "H" });
      await motor.setPower(1, call);
      assert.deepEqual(pins(board, "30", "31"), { 30: "H", 31: "L" });
      await motor.stop(call);
      assert.deepEqual(pins(board, "30", "31"), { 30: "L", 31: "H" });
    });
  });

  it("max_power_pct caps the power; min_power_pct raises a small one", async () => {
    await using(rig({ ...AB_PWM, max_power_pct: 0.5, min_power_pct: 0.2 }), async ({ board, motor }) => {
      await motor.setPower(1, call);
      assert.equal(board.pinState("15").duty, 0.5);
      assert.deepEqual(await motor.isPowered(call), { isOn: true, powerPct: 0.5 });
      await motor.setPower(-0.1, call);
      assert.equal(board.pinState("15").duty, 0.2);
      assert.deepEqual(await motor.isPowered(call), { isOn: true, powerPct: -0.2 });
    });
  });

  it("pin numbers work as pin names (micro configs)", async () => {
    await using(rig({ pins: { a: 26, b: 27, pwm: 25 }, max_rpm: 100 }), async ({ board, motor }) => {
      await motor.setPower(0.4, call);
      assert.deepEqual(pins(board, "26", "27", "25"), { 26: "H", 27: "L", 25: 0.4 });
    });
  });
});

describe("gpio motor without an encoder", () => {
  it("GoFor powers rpm/max_rpm for the time the revolutions take, then stops", async () => {
    await using(rig({ ...AB_PWM, max_rpm: 6000 }), async ({ board, motor }) => {
      const going = motor.goFor(3000, 1, call); // 20 ms at half power
      await waitFor("the GoFor to start", () => board.pinState("15").duty > 0);
      assert.deepEqual(pins(board, "11", "13", "15"), { 11: "H", 13: "L", 15: 0.5 });
      await going;
      assert.deepEqual(pins(board, "11", "13", "15"), { 11: "L", 13: "L", 15: "L" });
      await motor.goFor(-3000, 1, call);
      await motor.goFor(3000, -1, call);
      assert.equal(await motor.isMoving(), false);
    });
  });

  it("GoFor backwards, clamped to max_rpm; Stop ends it early and it resolves", async () => {
    await using(rig(AB_PWM), async ({ board, motor }) => {
      const going = motor.goFor(-500, 1000, call); // clamped to 100 rpm: 10 minutes
      await waitFor("the GoFor to start", () => board.pinState("15").duty > 0);
      assert.deepEqual(pins(board, "11", "13", "15"), { 11: "L", 13: "H", 15: 1 });
      await motor.stop(call);
      await going;
      assert.deepEqual(pins(board, "11", "13", "15"), { 11: "L", 13: "L", 15: "L" });
    });
  });

  it("a GoFor longer than a timer can wait (~25 days) keeps running until stopped", async () => {
    await using(rig(AB_PWM), async ({ board, motor }) => {
      const going = motor.goFor(2, 10_000_000, call); // 5 million minutes
      let done = false;
      void going.then(() => (done = true));
      await waitFor("the GoFor to start", () => board.pinState("15").duty > 0);
      await sleep(20);
      assert.equal(done, false, "still running");
      assert.ok(board.pinState("15").duty > 0);
      await motor.stop(call);
      await going;
    });
  });

  it("a newer command supersedes a GoFor, which resolves and leaves the motor to it", async () => {
    await using(rig(AB_PWM), async ({ board, motor }) => {
      const going = motor.goFor(50, 1000, call);
      await waitFor("the GoFor to start", () => board.pinState("15").duty > 0);
      await motor.setPower(0.75, call);
      await going;
      assert.equal(board.pinState("15").duty, 0.75);
    });
  });

  it("a GoFor whose caller goes away stops the motor and rejects", async () => {
    await using(rig(AB_PWM), async ({ board, motor }) => {
      const ac = new AbortController();
      const going = motor.goFor(50, 1000, { extra: {}, signal: ac.signal });
      await waitFor("the GoFor to start", () => board.pinState("15").duty > 0);
      ac.abort(new Error("client went away"));
      await assert.rejects(going, /client went away/);
      assert.equal(board.pinState("15").duty, 0);
      assert.equal(await motor.isMoving(), false);
    });
  });

  it("SetRPM is open loop: power rpm/max_rpm", async () => {
    await using(rig(AB_PWM), async ({ board, motor }) => {
      await motor.setRpm(-40, call);
      assert.deepEqual(pins(board, "11", "13", "15"), { 11: "L", 13: "H", 15: 0.4 });
    });
  });

  it("rdk's speed and revolution checks", async () => {
    await using(rig(AB_PWM), async ({ motor }) => {
      await assert.rejects(motor.goFor(0.05, 1, call), /Cannot move motor at an RPM that is nearly 0/);
      await assert.rejects(motor.goFor(50, 0, call), /Cannot move motor for 0 revolutions/);
      await assert.rejects(motor.setPower(Number.NaN, call), /power must be a finite number/);
    });
  });

  it("has no position: GetPosition, GoTo and ResetZeroPosition are not supported; position_reporting false", async () => {
    await using(rig(AB_PWM), async ({ motor }) => {
      assert.deepEqual(await motor.properties(call), { positionReporting: false });
      await assert.rejects(motor.position(call), (err: Error) => err instanceof NotSupportedError && /GetPosition on motor m/.test(err.message));
      await assert.rejects(motor.goTo(50, 1, call), NotSupportedError);
      await assert.rejects(motor.resetZeroPosition(0, call), NotSupportedError);
    });
  });
});

describe("gpio motor attributes", () => {
  const v = (attributes: JsonObject) => () => gpioMotorModel.validate!(attributes);

  it("names the board, and the encoder, as required dependencies", () => {
    assert.deepEqual(gpioMotorModel.validate!({ board: "b", ...AB_PWM }), { required: ["b"], optional: [] });
    assert.deepEqual(gpioMotorModel.validate!({ board: "b", pins: AB_PWM.pins, encoder: "e", ticks_per_rotation: 10 }), {
      required: ["b", "e"],
      optional: [],
    });
  });

  it("refuses bad attributes with an error naming them", () => {
    assert.throws(v({ ...AB_PWM }), /attribute board is required/);
    assert.throws(v({ board: "b", pins: { a: "1", pwm: "3" }, max_rpm: 1 }), /motor pin config has specified pin A but not pin B/);
    assert.throws(v({ board: "b", pins: { b: "1" }, max_rpm: 1 }), /specified pin B but not pin A/);
    assert.throws(v({ board: "b", pins: { dir: "1" }, max_rpm: 1 }), /has direction pin but needs PWM pin/);
    assert.throws(v({ board: "b", pins: { pwm: "1" }, max_rpm: 1 }), /has PWM pin but needs either a direction pin, or A and B pins/);
    assert.throws(v({ board: "b", max_rpm: 1 }), /devoid of pin definitions/);
    assert.throws(v({ board: "b", pins: { a: "1", b: "1" }, max_rpm: 1 }), /names pin 1 twice/);
    assert.throws(v({ board: "b", pins: AB_PWM.pins }), /attribute max_rpm is required/);
    assert.throws(v({ board: "b", pins: AB_PWM.pins, encoder: "e" }), /attribute ticks_per_rotation must be a positive whole number/);
    assert.throws(v({ board: "b", ...AB_PWM, max_power_pct: 2 }), /attribute max_power_pct must be between 0.06 and 1.0/);
    assert.throws(v({ board: "b", ...AB_PWM, max_power_pct: 0.01 }), /max_power_pct/);
    assert.throws(v({ board: "b", ...AB_PWM, pwm_freq: 1.5 }), /attribute pwm_freq must be a whole number/);
    assert.throws(v({ board: "b", ...AB_PWM, dir_flip: "yes" }), /attribute dir_flip must be true or false/);
    assert.throws(v({ board: "b", ...AB_PWM, max_rpm: -1 }), /attribute max_rpm must not be negative/);
    assert.throws(v({ board: "b", pins: { ...AB_PWM.pins, a: {} }, max_rpm: 1 }), /attribute pins\.a must be a pin name or number/);
  });

  it("applies rdk's defaults", () => {
    const c = parseGpioMotorConfig({ board: "b", ...AB_PWM, min_power_pct: 3 });
    assert.equal(c.pwmFreqHz, 800);
    assert.equal(c.maxPowerPct, 1);
    assert.equal(c.minPowerPct, 1, "min_power_pct is clamped into 0..1");
    assert.equal(c.type, "ab_pwm");
    assert.equal(parseGpioMotorConfig({ board: "b", pins: { a: "1", b: "2" }, max_rpm: 1 }).type, "ab");
    assert.equal(parseGpioMotorConfig({ board: "b", pins: { dir: "1", pwm: "2", a: "3" }, max_rpm: 1 }).type, "dir_pwm");
  });

  it("a pin the board does not have fails the build with the board's error", async () => {
    const board = await build(fakeBoardModel, "b", { pins: [11, 13, 15] });
    const deps = new MapDependencies().add(boardApi, board);
    await assert.rejects(build(gpioMotorModel, "m", { board: "b", pins: { a: "11", b: "13", pwm: "99" }, max_rpm: 10 }, deps), /board b has no pin 99/);
    await assert.rejects(build(gpioMotorModel, "m", { board: "b", pins: { dir: "98", pwm: "15" }, max_rpm: 10 }, deps), /board b has no pin 98/);
    const ok = await build(gpioMotorModel, "m", { board: "b", pins: { a: 11, b: 13, pwm: 15 }, max_rpm: 10 }, deps);
    await ok.close();
  });
});

// ---- with an encoder ----------------------------------------------------------------------------

/** Position ticks per revolution of the encoded motor; the quadrature encoder gives two per cycle of four edges. */
const TPR = 20;

interface EncodedRig extends Rig {
  physics: MotorPhysics;
  encoder: Resource;
}

async function encodedRig(extra: JsonObject = {}, rpmAtFullDuty = 600): Promise<EncodedRig> {
  const board = await build(fakeBoardModel, "b", { digital_interrupts: [{ name: "ea", pin: "31" }, { name: "eb", pin: "33" }] });
  const deps = new MapDependencies().add(boardApi, board);
  const encoder = await build(incrementalEncoderModel, "enc", { board: "b", pins: { a: "ea", b: "eb" } }, deps);
  deps.add(encoderApi, encoder);
  const motor = await build(gpioMotorModel, "m", { board: "b", ...AB_PWM, max_rpm: 0, encoder: "enc", ticks_per_rotation: TPR, ...extra }, deps);
  const physics = new MotorPhysics({
    board,
    a: "ea",
    b: "eb",
    pwmPin: "15",
    direction: () => {
      const a = board.pinState("11").high;
      const b = board.pinState("13").high;
      return a && !b ? 1 : b && !a ? -1 : 0;
    },
    rpmAtFullDuty,
    edgesPerRevolution: 2 * TPR,
  }).start();
  return {
    board,
    motor,
    physics,
    encoder,
    async close() {
      physics.stop();
      await motor.close();
      await encoder.close();
      await board.close();
    },
  };
}

async function usingEncoded(r: Promise<EncodedRig>, fn: (r: EncodedRig) => Promise<void>): Promise<void> {
  const x = await r;
  try {
    await fn(x);
  } finally {
    await x.close();
  }
}

describe("gpio motor with an incremental encoder", () => {
  it("reports its position from the encoder; position_reporting true", async () => {
    await usingEncoded(encodedRig(), async ({ motor }) => {
      assert.deepEqual(await motor.properties(call), { positionReporting: true });
      assert.equal(await motor.position(call), 0);
    });
  });

  it("GoFor runs the speed loop until the encoder passes the goal, then stops (duty 0)", async () => {
    await usingEncoded(encodedRig(), async ({ board, motor, physics }) => {
      await motor.goFor(240, 2, call);
      assert.equal(board.pinState("15").duty, 0, "stopped");
      assert.deepEqual(pins(board, "11", "13"), { 11: "L", 13: "L" });
      assert.equal(await motor.isMoving(), false);
      near(await motor.position(call), 2, 0.25, "position after GoFor(240, 2)");
      assert.ok(physics.maxDutySeen >= 0.2, `the loop started at 20% power at least (max duty ${physics.maxDutySeen})`);
      // The simulated shaft agrees with the encoder.
      near(physics.revolutions(), await motor.position(call), 0.1, "shaft vs encoder");

      await motor.goFor(240, -1, call);
      near(await motor.position(call), 1, 0.35, "after GoFor(240, -1)");
      assert.equal(board.pinState("15").duty, 0);
    });
  });

  it("the speed loop ramps the power up towards a fast rpm, never past max_power_pct", async () => {
    await usingEncoded(encodedRig({ max_power_pct: 0.6, ramp_rate: 0.1 }, 300), async ({ board, motor, physics }) => {
      // 300 rpm at full duty: 270 rpm needs more than the 0.6 cap allows, so the power climbs to it.
      await motor.goFor(270, 3, call);
      assert.equal(board.pinState("15").duty, 0);
      near(await motor.position(call), 3, 0.3, "position");
      near(physics.maxDutySeen, 0.6, 1e-9, "the power reached max_power_pct and stayed there");
    });
  });

  it("GoTo goes to a position either way; within 0.1 revolutions it does not move", async () => {
    await usingEncoded(encodedRig(), async ({ board, motor }) => {
      await motor.goTo(-300, 1.5, call);
      near(await motor.position(call), 1.5, 0.3, "GoTo 1.5");
      const before = await motor.position(call);
      await motor.goTo(300, before + 0.05, call);
      assert.equal(await motor.position(call), before);
      assert.equal(board.pinState("15").duty, 0);
      await motor.goTo(300, 0, call);
      near(await motor.position(call), 0, 0.3, "GoTo 0");
    });
  });

  it("SetRPM runs until stopped; Stop sets the duty to 0", async () => {
    await usingEncoded(encodedRig(), async ({ board, motor }) => {
      await motor.setRpm(-200, call);
      await waitFor("a revolution backwards", async () => (await motor.position(call)) <= -1);
      assert.equal(board.pinState("13").high, true, "B high: backwards");
      assert.ok(board.pinState("15").duty > 0);
      await motor.stop(call);
      assert.equal(board.pinState("15").duty, 0);
      const stopped = await motor.position(call);
      await sleep(30);
      assert.equal(await motor.position(call), stopped, "nothing moves after Stop");
    });
  });

  it("Stop ends a running GoFor, which resolves; a caller going away stops it and rejects", async () => {
    await usingEncoded(encodedRig(), async ({ board, motor }) => {
      const going = motor.goFor(100, 100, call);
      await waitFor("some motion", async () => (await motor.position(call)) > 0.2);
      await motor.stop(call);
      await going;
      assert.equal(board.pinState("15").duty, 0);

      const ac = new AbortController();
      const again = motor.goFor(100, 100, { extra: {}, signal: ac.signal });
      await waitFor("some motion", () => board.pinState("15").duty > 0);
      ac.abort(new Error("gone"));
      await assert.rejects(again, /gone/);
      assert.equal(board.pinState("15").duty, 0);
    });
  });

  it("ResetZeroPosition stops and makes the current position -offset", async () => {
    await usingEncoded(encodedRig(), async ({ motor }) => {
      await motor.goFor(300, 1, call);
      await motor.resetZeroPosition(0.5, call);
      assert.equal(await motor.position(call), -0.5);
    });
  });

  it("a single encoder follows the motor's direction", async () => {
    const board = await build(fakeBoardModel, "b", { digital_interrupts: [{ pin: "7" }] });
    const deps = new MapDependencies().add(boardApi, board);
    const encoder = await build(singleEncoderModel, "s", { board: "b", pins: { i: 7 } }, deps);
    deps.add(encoderApi, encoder);
    const motor = await build(gpioMotorModel, "m", { board: "b", pins: { dir: "16", pwm: "18" }, encoder: "s", ticks_per_rotation: 2 }, deps);
    try {
      await motor.setPower(-0.5, call);
      for (let i = 0; i < 4; i++) board.tick("7");
      await waitFor("two revolutions backwards", async () => (await motor.position(call)) === -2);
    } finally {
      await motor.close();
      await encoder.close();
      await board.close();
    }
  });
});
