// The `rdk:builtin:gpio` servo, after rdk's components/servo/gpio: a hobby servo on one PWM pin of
// a board, through the Board interface only.
//
//   "attributes": {
//     "board": "b1", "pin": "12",                       a pin name, or a number
//     "min_angle_deg": 0, "max_angle_deg": 180,         the angles the pulse widths map onto
//     "starting_position_deg": 0,                       where the servo goes when built
//     "min_width_us": 500, "max_width_us": 2500,        pulse widths at min and max angle (500..2500)
//     "frequency_hz": 50,                               50..450; capped at 1e6 / (max_width_us + 50)
//     "pwm_resolution": 4096                            optional: duty cycles rounded to 1/4096 steps
//   }
//
// An angle maps linearly onto a pulse width, and the duty cycle is width x frequency: 90 degrees is
// 1500 us, at 50 Hz a duty cycle of 0.075. Departures from rdk: Move refuses an angle outside
// min..max with an error (rdk clamps it silently); frequency_hz defaults to 50 Hz, the standard for
// hobby servos (rdk keeps the pin's current frequency, or 300 Hz when it has none); the PWM
// resolution is not probed on the pin, only taken from pwm_resolution; and GetPosition after Stop
// answers the last commanded angle without driving the pin again (rdk re-applies the old duty cycle).
import type { JsonObject } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import type { Model } from "../../resource/registry.js";
import { internalCall, NotSupportedError, type CallOptions } from "../../resource/resource.js";
import { optionalInteger, optionalNumber, requiredPin, requiredString } from "../attributes.js";
import { boardApi, type Board } from "../board/board.js";
import { servoApi, type Servo } from "./servo.js";

export const DEFAULT_MIN_DEG = 0;
export const DEFAULT_MAX_DEG = 180;
export const MIN_WIDTH_US = 500;
export const MAX_WIDTH_US = 2500;
export const DEFAULT_FREQUENCY_HZ = 50;
export const MIN_FREQUENCY_HZ = 50;
export const MAX_FREQUENCY_HZ = 450;
/** rdk's allowance for the servo's dead band when capping the frequency. */
const MAX_DEADBAND_WIDTH_US = 50;

export interface GpioServoConfig {
  board: string;
  pin: string;
  minDeg: number;
  maxDeg: number;
  startDeg: number;
  minUs: number;
  maxUs: number;
  /** As configured, or undefined for the default. */
  frequencyHz?: number;
  pwmResolution?: number;
}

/** Reads and checks the gpio servo's attributes; throws an Error naming the bad one. */
export function parseGpioServoConfig(attributes: JsonObject): GpioServoConfig {
  const board = requiredString(attributes, "board");
  const pin = requiredPin(attributes, "pin");
  const minDeg = optionalNumber(attributes, "min_angle_deg") ?? DEFAULT_MIN_DEG;
  const maxDeg = optionalNumber(attributes, "max_angle_deg") ?? DEFAULT_MAX_DEG;
  if (minDeg < 0) throw new Error(`attribute min_angle_deg cannot be lower than 0, got ${minDeg}`);
  if (maxDeg <= minDeg) throw new Error(`attribute max_angle_deg (${maxDeg}) must be above min_angle_deg (${minDeg})`);
  const startDeg = optionalNumber(attributes, "starting_position_deg") ?? minDeg;
  if (startDeg < minDeg || startDeg > maxDeg) {
    throw new Error(
      `attribute starting_position_deg should be between minimum (${minDeg.toFixed(1)}) and maximum (${maxDeg.toFixed(1)}) positions, got ${startDeg}`,
    );
  }
  const minUs = optionalInteger(attributes, "min_width_us") ?? MIN_WIDTH_US;
  const maxUs = optionalInteger(attributes, "max_width_us") ?? MAX_WIDTH_US;
  if (minUs < MIN_WIDTH_US) throw new Error(`attribute min_width_us cannot be lower than ${MIN_WIDTH_US}, got ${minUs}`);
  if (maxUs > MAX_WIDTH_US) throw new Error(`attribute max_width_us cannot be higher than ${MAX_WIDTH_US}, got ${maxUs}`);
  if (maxUs <= minUs) throw new Error(`attribute max_width_us (${maxUs}) must be above min_width_us (${minUs})`);
  const frequencyHz = optionalInteger(attributes, "frequency_hz");
  if (frequencyHz !== undefined && (frequencyHz < MIN_FREQUENCY_HZ || frequencyHz > MAX_FREQUENCY_HZ)) {
    throw new Error(
      `attribute frequency_hz: PWM frequencies should not be above ${MAX_FREQUENCY_HZ}Hz or below ${MIN_FREQUENCY_HZ}Hz, have ${frequencyHz}Hz`,
    );
  }
  const pwmResolution = optionalInteger(attributes, "pwm_resolution") || undefined;
  if (pwmResolution !== undefined && pwmResolution < 0) {
    throw new Error(`attribute pwm_resolution must be a positive whole number, got ${pwmResolution}`);
  }
  return {
    board,
    pin,
    minDeg,
    maxDeg,
    startDeg,
    minUs,
    maxUs,
    ...(frequencyHz === undefined ? {} : { frequencyHz }),
    ...(pwmResolution === undefined ? {} : { pwmResolution }),
  };
}

/** The frequency used: the configured or default one, capped so the longest pulse still fits (rdk). */
export function servoFrequency(config: GpioServoConfig, logger?: Logger): number {
  const wanted = config.frequencyHz ?? DEFAULT_FREQUENCY_HZ;
  const cap = Math.floor(1e6 / (config.maxUs + MAX_DEADBAND_WIDTH_US));
  if (wanted <= cap) return wanted;
  logger?.warn(`servo frequency (${wanted}Hz) is above maximum (${cap}Hz), setting to max instead`);
  return cap;
}

export class GpioServo implements Servo {
  readonly name: string;
  readonly #board: Board;
  readonly #config: GpioServoConfig;
  readonly frequencyHz: number;
  /** The duty cycle last commanded. */
  #duty = 0;
  #moving = 0;

  constructor(name: string, board: Board, config: GpioServoConfig, frequencyHz: number) {
    this.name = name;
    this.#board = board;
    this.#config = config;
    this.frequencyHz = frequencyHz;
  }

  /** Sets the pin's frequency and moves to the starting position. */
  async initialize(): Promise<void> {
    await this.#board.setPwmFrequency(this.#config.pin, this.frequencyHz, internalCall());
    await this.move(this.#config.startDeg, internalCall());
  }

  /** The duty cycle for an angle in range (rdk's mapDegToDutyCylePct, rounded to the resolution if known). */
  dutyFor(angleDeg: number): number {
    const { minDeg, maxDeg, minUs, maxUs, pwmResolution } = this.#config;
    const widthUs = minUs + ((angleDeg - minDeg) * (maxUs - minUs)) / (maxDeg - minDeg);
    const duty = (widthUs * this.frequencyHz) / 1e6;
    return pwmResolution === undefined ? duty : Math.round(duty * pwmResolution) / pwmResolution;
  }

  /** The angle a duty cycle stands for, in whole degrees (rdk's mapDutyCylePctToDeg). */
  angleFor(duty: number): number {
    const { minDeg, maxDeg, minUs, maxUs } = this.#config;
    const widthUs = Math.min(maxUs, Math.max(minUs, (duty * 1e6) / this.frequencyHz));
    return Math.round(minDeg + ((widthUs - minUs) * (maxDeg - minDeg)) / (maxUs - minUs));
  }

  async move(angleDeg: number, call: CallOptions): Promise<void> {
    const { minDeg, maxDeg, pin } = this.#config;
    if (typeof angleDeg !== "number" || !Number.isFinite(angleDeg) || angleDeg < minDeg || angleDeg > maxDeg) {
      throw new Error(`servo ${this.name} angle must be between ${minDeg} and ${maxDeg} degrees, got ${angleDeg}`);
    }
    call.signal.throwIfAborted();
    const duty = this.dutyFor(angleDeg);
    this.#moving += 1;
    try {
      await this.#board.setPwm(pin, duty, call);
      this.#duty = duty;
    } catch (err) {
      throw new Error(`couldn't move the servo: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.#moving -= 1;
    }
  }

  async position(call: CallOptions): Promise<number> {
    const duty = await this.#board.pwm(this.#config.pin, call);
    // Stopped (duty 0): the servo holds where it was last sent.
    return this.angleFor(duty === 0 ? this.#duty : duty);
  }

  /** Cuts the pulses (duty 0), which unpowers the servo where it is, as rdk. */
  async stop(call: CallOptions): Promise<void> {
    await this.#board.setPwm(this.#config.pin, 0, call);
  }

  async isMoving(): Promise<boolean> {
    return this.#moving > 0;
  }

  async doCommand(): Promise<never> {
    throw new NotSupportedError(`DoCommand on gpio servo ${this.name}`);
  }

  async close(): Promise<void> {}
}

export const gpioServoModel: Model<GpioServo> = {
  api: servoApi,
  model: "rdk:builtin:gpio",
  validate(attributes) {
    const config = parseGpioServoConfig(attributes);
    return { required: [config.board], optional: [] };
  },
  async build(ctx) {
    const config = parseGpioServoConfig(ctx.attributes);
    const board = ctx.dependencies.get<Board>(boardApi, config.board);
    const servo = new GpioServo(ctx.name, board, config, servoFrequency(config, ctx.logger));
    await servo.initialize();
    return servo;
  },
};
