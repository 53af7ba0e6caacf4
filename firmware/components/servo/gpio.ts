// The `gpio` servo (micro-rdk's model and attributes): a hobby servo on one PWM pin.
//
//   "attributes": {
//     "pin": 13,                              the PWM pin
//     "frequency_hz": 300,                    pulse frequency (default 300, micro-rdk's)
//     "min_width_us": 500, "max_width_us": 2500,    pulse widths at the two ends
//     "min_angle_deg": 0, "max_angle_deg": 180,     the angles they mean
//     "pwm_resolution": 0                     if set, duty cycles are rounded to 1/pwm_resolution
//   }
//
// Move clamps the angle to the range (as micro-rdk) and sets the pulse width linearly between the
// limits; the position is computed back from the duty cycle. Stop sets the duty to 0 (no pulses),
// after which the servo holds no position and IsMoving answers false.
import { invalidArgument } from "../../rpc/errors.js";
import { ConfigError } from "../../config/attributes.js";
import { servoApi, type BuildContext, type Model } from "../../resource.js";
import { boardDependency, boardOf, type Board } from "../board/board.js";
import type { Servo } from "./servo.js";

export interface GpioServoOptions {
  board: Board;
  pin: number;
  frequencyHz: number;
  minWidthUs: number;
  maxWidthUs: number;
  minAngleDeg: number;
  maxAngleDeg: number;
  pwmResolution: number;
}

export class GpioServo implements Servo {
  readonly #o: GpioServoOptions;
  readonly #pin: string;

  constructor(options: GpioServoOptions) {
    this.#o = options;
    this.#pin = String(options.pin);
    options.board.setPwmFrequency(this.#pin, options.frequencyHz);
    options.board.setPwm(this.#pin, 0);
  }

  /** The duty cycle for an angle (micro-rdk's angle_to_duty_pct). */
  dutyFor(angleDeg: number): number {
    const o = this.#o;
    const perDeg = (o.maxWidthUs - o.minWidthUs) / (o.maxAngleDeg - o.minAngleDeg);
    const widthUs = o.minWidthUs + (angleDeg - o.minAngleDeg) * perDeg;
    let duty = (widthUs / 1e6) * o.frequencyHz;
    if (o.pwmResolution !== 0) duty = Math.round(duty * o.pwmResolution) / o.pwmResolution;
    return duty;
  }

  move(angleDeg: number): void {
    if (!Number.isFinite(angleDeg)) throw invalidArgument("angle must be a number");
    const o = this.#o;
    const angle = Math.max(o.minAngleDeg, Math.min(o.maxAngleDeg, angleDeg));
    o.board.setPwm(this.#pin, this.dutyFor(angle));
  }

  position(): number {
    const o = this.#o;
    const duty = o.board.pwm(this.#pin);
    const widthUs = Math.max(o.minWidthUs, Math.min(o.maxWidthUs, (duty / o.frequencyHz) * 1e6));
    const perUs = (o.maxAngleDeg - o.minAngleDeg) / (o.maxWidthUs - o.minWidthUs);
    return Math.round(o.minAngleDeg + (widthUs - o.minWidthUs) * perUs);
  }

  isMoving(): boolean {
    return this.#o.board.pwm(this.#pin) !== 0;
  }

  stop(): void {
    this.#o.board.setPwm(this.#pin, 0);
  }

  close(): void {
    try {
      this.stop();
    } catch {
      // The board may be closed already.
    }
  }
}

export const gpioServoModel: Model<GpioServo> = {
  api: servoApi,
  model: "rdk:builtin:gpio",
  validate(attributes, all) {
    attributes.pin("pin");
    const f = attributes.integer("frequency_hz", 300, { min: 1, max: 40_000 });
    const minW = attributes.integer("min_width_us", 500, { min: 0 });
    const maxW = attributes.integer("max_width_us", 2500, { min: 0 });
    const minA = attributes.integer("min_angle_deg", 0, { min: 0 });
    const maxA = attributes.integer("max_angle_deg", 180, { min: 0 });
    attributes.integer("pwm_resolution", 0, { min: 0 });
    if (maxW <= minW) throw new ConfigError("attribute max_width_us must be larger than min_width_us");
    if (maxA <= minA) throw new ConfigError("attribute max_angle_deg must be larger than min_angle_deg");
    if ((maxW / 1e6) * f > 1) throw new ConfigError("attribute max_width_us " + maxW + " is longer than one period at " + f + " Hz");
    return [boardDependency(attributes, all)];
  },
  build(ctx: BuildContext) {
    const a = ctx.attributes;
    return new GpioServo({
      board: boardOf(ctx),
      pin: a.pin("pin"),
      frequencyHz: a.integer("frequency_hz", 300),
      minWidthUs: a.integer("min_width_us", 500),
      maxWidthUs: a.integer("max_width_us", 2500),
      minAngleDeg: a.integer("min_angle_deg", 0),
      maxAngleDeg: a.integer("max_angle_deg", 180),
      pwmResolution: a.integer("pwm_resolution", 0),
    });
  },
};
