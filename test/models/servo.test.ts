// The gpio servo over a fake board: angle to pulse width to duty cycle, limits, and attribute errors.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { JsonObject } from "@bufbuild/protobuf";
import { boardApi } from "../../host/components/board/board.js";
import { fakeBoardModel, type FakeBoard } from "../../host/components/board/fake.js";
import { gpioServoModel, parseGpioServoConfig, servoFrequency, type GpioServo } from "../../host/components/servo/gpio.js";
import { build, call, MapDependencies, near } from "./support.js";

async function withServo(attributes: JsonObject, fn: (servo: GpioServo, board: FakeBoard) => Promise<void>, boardAttributes: JsonObject = {}) {
  const board = await build(fakeBoardModel, "b", boardAttributes);
  const servo = await build(gpioServoModel, "s", { board: "b", pin: "12", ...attributes }, new MapDependencies().add(boardApi, board));
  try {
    await fn(servo, board);
  } finally {
    await servo.close();
    await board.close();
  }
}

describe("gpio servo", () => {
  it("Move(90) at the default 50 Hz: 1500 us of 20 ms, a duty cycle of 0.075", async () => {
    await withServo({}, async (servo, board) => {
      assert.equal(board.pinState("12").frequencyHz, 50);
      assert.equal(board.pinState("12").duty, 0.025, "built at its starting position, 0 degrees: 500 us");
      await servo.move(90, call);
      assert.equal(board.pinState("12").duty, 0.075);
      assert.equal(await servo.position(call), 90);
      await servo.move(180, call);
      assert.equal(board.pinState("12").duty, 0.125);
      assert.equal(await servo.position(call), 180);
      assert.equal(await servo.isMoving(), false);
    });
  });

  it("refuses angles outside min..max with a clear error, and stays where it was", async () => {
    await withServo({ min_angle_deg: 10, max_angle_deg: 170, starting_position_deg: 45 }, async (servo, board) => {
      assert.equal(await servo.position(call), 45);
      await assert.rejects(servo.move(200, call), /servo s angle must be between 10 and 170 degrees, got 200/);
      await assert.rejects(servo.move(5, call), /between 10 and 170 degrees, got 5/);
      await assert.rejects(servo.move(Number.NaN, call), /got NaN/);
      assert.equal(await servo.position(call), 45);
      // min..max map onto the full pulse range.
      await servo.move(10, call);
      assert.equal(board.pinState("12").duty, 0.025);
      await servo.move(170, call);
      assert.equal(board.pinState("12").duty, 0.125);
    });
  });

  it("custom pulse widths and frequency; a frequency too high for the longest pulse is capped (rdk)", async () => {
    await withServo({ min_width_us: 1000, max_width_us: 2000, frequency_hz: 100 }, async (servo, board) => {
      assert.equal(board.pinState("12").frequencyHz, 100);
      await servo.move(180, call);
      assert.equal(board.pinState("12").duty, 0.2);
      await servo.move(90, call);
      near(board.pinState("12").duty, 0.15, 1e-12, "1500 us at 100 Hz");
    });
    await withServo({ frequency_hz: 450 }, async (servo, board) => {
      assert.equal(servo.frequencyHz, 392, "1e6 / (2500 + 50)");
      assert.equal(board.pinState("12").frequencyHz, 392);
    });
    assert.equal(servoFrequency(parseGpioServoConfig({ board: "b", pin: "1", max_width_us: 2400, frequency_hz: 450 })), 408);
  });

  it("starts at min_angle_deg by default, fractions of a degree included", async () => {
    await withServo({ min_angle_deg: 10.5, max_angle_deg: 100 }, async (servo, board) => {
      assert.equal(board.pinState("12").duty, 0.025);
      assert.equal(await servo.position(call), 11, "whole degrees, rounded");
    });
  });

  it("pwm_resolution rounds the duty cycle to the PWM's steps", async () => {
    await withServo({ pwm_resolution: 4096 }, async (servo, board) => {
      await servo.move(90, call);
      assert.equal(board.pinState("12").duty, Math.round(0.075 * 4096) / 4096);
      assert.equal(await servo.position(call), 90);
    });
  });

  it("Stop cuts the pulses; the position is still the last angle", async () => {
    await withServo({}, async (servo, board) => {
      await servo.move(120, call);
      await servo.stop(call);
      assert.equal(board.pinState("12").duty, 0);
      assert.equal(await servo.position(call), 120);
      assert.equal(board.pinState("12").duty, 0, "reading the position does not drive the pin again");
    });
  });

  it("names bad attributes", () => {
    const v = (attributes: JsonObject) => () => gpioServoModel.validate!(attributes);
    assert.deepEqual(gpioServoModel.validate!({ board: "b", pin: 12 }), { required: ["b"], optional: [] });
    assert.throws(v({ pin: "12" }), /attribute board is required/);
    assert.throws(v({ board: "b" }), /attribute pin is required/);
    assert.throws(v({ board: "b", pin: "12", starting_position_deg: 200 }), /starting_position_deg should be between minimum \(0.0\) and maximum \(180.0\) positions, got 200/);
    assert.throws(v({ board: "b", pin: "12", min_angle_deg: -5 }), /min_angle_deg cannot be lower than 0/);
    assert.throws(v({ board: "b", pin: "12", min_angle_deg: 90, max_angle_deg: 90 }), /max_angle_deg \(90\) must be above min_angle_deg \(90\)/);
    assert.throws(v({ board: "b", pin: "12", frequency_hz: 20 }), /attribute frequency_hz: PWM frequencies should not be above 450Hz or below 50Hz, have 20Hz/);
    assert.throws(v({ board: "b", pin: "12", min_width_us: 100 }), /min_width_us cannot be lower than 500/);
    assert.throws(v({ board: "b", pin: "12", max_width_us: 3000 }), /max_width_us cannot be higher than 2500/);
    assert.throws(v({ board: "b", pin: "12", frequency_hz: "fast" }), /attribute frequency_hz must be a number/);
  });

  it("a pin the board does not have fails the build", async () => {
    const board = await build(fakeBoardModel, "b", { pins: ["12"] });
    await assert.rejects(
      build(gpioServoModel, "s", { board: "b", pin: "13" }, new MapDependencies().add(boardApi, board)),
      /board b has no pin 13/,
    );
  });
});
