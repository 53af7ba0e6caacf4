// The `rdk:builtin:gpio` motor, after rdk's components/motor/gpio: a DC motor driver on a board's
// pins, through the Board interface only, so it works with any board (a fake, a Linux board, or a
// micro part's board reached over the network).
//
//   "attributes": {
//     "board": "b1",
//     "pins": { "a": "11", "b": "13", "pwm": "15" },   A/B direction pins and a PWM pin, or
//             { "dir": "16", "pwm": "18" },            a direction pin and a PWM pin, or
//             { "a": "11", "b": "13" },                A/B only, PWM on the pin that is low
//             (+ optional "en_high" / "en_low" enable pins; numbers are accepted for pins)
//     "pwm_freq": 800, "min_power_pct": 0, "max_power_pct": 1, "dir_flip": false,
//     "max_rpm": 200,                                  required without an encoder
//     "encoder": "enc1", "ticks_per_rotation": 600,    optional: closed-loop GoFor/GoTo/SetRPM
//     "ramp_rate": 0.05                                power step per adjustment with an encoder
//   }
//
// Without an encoder, GoFor and SetRPM are open loop as in rdk: power = rpm / max_rpm, and GoFor
// runs for the time the revolutions take at that rpm, then stops. GoTo and ResetZeroPosition are
// not supported, and neither is GetPosition (rdk answers 0; here it is an explicit error, with
// position_reporting false in the properties).
//
// With an encoder, the motor is rdk's encoded motor: GoFor starts at 20% power (or the power it
// already runs at, in the right direction) and every 50 ms steps the power by `ramp_rate` towards
// the requested rpm, measured from the encoder; every 10 ms it checks the position and stops once
// past the goal. SetRPM runs the same loop with no goal. `control_parameters` (rdk's PID) is not
// implemented: it is accepted with a warning and the ramp controller is used.
//
// One operation at a time, as rdk's operation manager: a new command ends the running GoFor (which
// then resolves without stopping the motor: the new command decides), Stop ends it and stops, and a
// GoFor whose caller goes away stops the motor and rejects. Pin writes are serialized, so a write of
// an ended operation can never land after the next one's.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import type { Model } from "../../resource/registry.js";
import { internalCall, NotSupportedError, type CallOptions } from "../../resource/resource.js";
import {
  optionalBoolean,
  optionalInteger,
  optionalNumber,
  optionalObject,
  optionalPin,
  optionalString,
  requiredString,
} from "../attributes.js";
import { boardApi, type Board } from "../board/board.js";
import { encoderApi, type Encoder } from "../encoder/encoder.js";
import { SingleEncoder } from "../encoder/single.js";
import { motorApi, type Motor, type MotorProperties } from "./motor.js";

/** rdk's defaults and limits. */
export const DEFAULT_PWM_FREQ_HZ = 800;
export const MIN_MAX_POWER_PCT = 0.06;
export const DEFAULT_RAMP_RATE = 0.05;
const MAX_RAMP_RATE = 0.5;
/** The encoded motor's starting power for a GoFor, and its loop periods. */
export const ENCODED_START_POWER = 0.2;
export const ADJUST_INTERVAL_MS = 50;
export const POSITION_INTERVAL_MS = 10;
/** |power| at or below this is a stop (rdk's SetPower). */
const OFF_POWER = 0.01;

/** rdk's three wirings: A/B + PWM, direction + PWM, A/B with PWM on the low pin. */
export type MotorType = "ab_pwm" | "dir_pwm" | "ab";

export interface GpioMotorPins {
  a?: string;
  b?: string;
  dir?: string;
  pwm?: string;
  enHigh?: string;
  enLow?: string;
}

export interface GpioMotorConfig {
  board: string;
  pins: GpioMotorPins;
  type: MotorType;
  pwmFreqHz: number;
  minPowerPct: number;
  maxPowerPct: number;
  dirFlip: boolean;
  /** As configured; 0 when absent (allowed only with an encoder). */
  maxRpm: number;
  encoder?: string;
  ticksPerRotation?: number;
  /** ramp_rate as configured (0 when absent); the encoded motor applies rdk's default. */
  rampRate: number;
  controlParameters: boolean;
}

/** rdk's wiring rules and error texts (PinConfig.MotorType). */
function motorType(pins: GpioMotorPins): MotorType {
  const { a, b, dir, pwm } = pins;
  if (a !== undefined && b !== undefined) return pwm !== undefined ? "ab_pwm" : "ab";
  if (dir !== undefined && pwm !== undefined) return "dir_pwm";
  if (a !== undefined) throw new Error("motor pin config has specified pin A but not pin B");
  if (b !== undefined) throw new Error("motor pin config has specified pin B but not pin A");
  if (dir !== undefined) throw new Error("motor pin config has direction pin but needs PWM pin");
  if (pwm !== undefined) throw new Error("motor pin config has PWM pin but needs either a direction pin, or A and B pins");
  throw new Error("motor pin config devoid of pin definitions (A, B, Direction, PWM are all missing)");
}

/** Reads and checks the gpio motor's attributes; throws an Error naming the bad one. */
export function parseGpioMotorConfig(attributes: JsonObject): GpioMotorConfig {
  const board = requiredString(attributes, "board");
  const p = optionalObject(attributes, "pins");
  const pins: GpioMotorPins = {};
  for (const [key, field] of [
    ["a", "a"],
    ["b", "b"],
    ["dir", "dir"],
    ["pwm", "pwm"],
    ["en_high", "enHigh"],
    ["en_low", "enLow"],
  ] as const) {
    const pin = optionalPin(p, key, `pins.${key}`);
    if (pin !== undefined) pins[field] = pin;
  }
  const type = motorType(pins);
  const used = Object.values(pins);
  const twice = used.find((pin, i) => used.indexOf(pin) !== i);
  if (twice !== undefined) throw new Error(`attribute pins names pin ${twice} twice`);

  const pwmFreq = optionalInteger(attributes, "pwm_freq") ?? 0;
  if (pwmFreq < 0) throw new Error(`attribute pwm_freq must not be negative, got ${pwmFreq}`);
  // rdk clamps min_power_pct into 0..1 and takes max_power_pct 0 as 1.
  const minPowerPct = Math.min(1, Math.max(0, optionalNumber(attributes, "min_power_pct") ?? 0));
  const maxPowerPct = optionalNumber(attributes, "max_power_pct") || 1;
  if (maxPowerPct < MIN_MAX_POWER_PCT || maxPowerPct > 1) {
    throw new Error(`attribute max_power_pct must be between ${MIN_MAX_POWER_PCT} and 1.0, got ${maxPowerPct}`);
  }
  const maxRpm = optionalNumber(attributes, "max_rpm") ?? 0;
  if (maxRpm < 0) throw new Error(`attribute max_rpm must not be negative, got ${maxRpm}`);
  const encoder = optionalString(attributes, "encoder");
  const ticksPerRotation = optionalInteger(attributes, "ticks_per_rotation");
  if (encoder !== undefined) {
    if (ticksPerRotation === undefined || ticksPerRotation <= 0) {
      throw new Error(`attribute ticks_per_rotation must be a positive whole number for a motor with an encoder, got ${ticksPerRotation ?? "none"}`);
    }
  } else if (maxRpm === 0) {
    throw new Error("attribute max_rpm is required (a positive number) for a motor without an encoder");
  }
  const rampRate = optionalNumber(attributes, "ramp_rate") ?? 0;
  if (rampRate < 0) throw new Error(`attribute ramp_rate can not be a negative number, got ${rampRate}`);
  const cp = attributes.control_parameters;
  if (cp !== undefined && cp !== null && (typeof cp !== "object" || Array.isArray(cp))) {
    throw new Error(`attribute control_parameters must be an object {p, i, d}, got ${JSON.stringify(cp)}`);
  }
  return {
    board,
    pins,
    type,
    pwmFreqHz: pwmFreq === 0 ? DEFAULT_PWM_FREQ_HZ : pwmFreq,
    minPowerPct,
    maxPowerPct,
    dirFlip: optionalBoolean(attributes, "dir_flip") ?? false,
    maxRpm,
    ...(encoder === undefined ? {} : { encoder, ticksPerRotation }),
    rampRate,
    controlParameters: cp !== undefined && cp !== null,
  };
}

// ---- shared helpers -----------------------------------------------------------------------------

function sign(x: number): number {
  return x === 0 ? 0 : x < 0 || Object.is(x, -0) ? -1 : 1;
}

function clampPower(p: number, max: number): number {
  return Math.max(-max, Math.min(max, p));
}

function requireFinite(what: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${what} must be a finite number, got ${v}`);
}

/** rdk's motor.CheckSpeed: nearly 0 rpm is an error; nearly max_rpm (when known) a warning. */
function checkSpeed(rpm: number, maxRpm: number, logger: Logger): void {
  const speed = Math.abs(rpm);
  if (speed < 0.1) {
    logger.warn("motor speed is nearly 0 rev_per_min");
    throw new Error("Cannot move motor at an RPM that is nearly 0");
  }
  if (maxRpm > 0 && speed > maxRpm - 0.1) logger.warn(`motor speed is nearly the max rev_per_min (${maxRpm})`);
}

/** rdk's motor.CheckRevolutions. */
function checkRevolutions(revolutions: number): void {
  if (revolutions === 0) throw new Error("Cannot move motor for 0 revolutions");
}

/** One operation at a time: starting one aborts the signal of the one before. */
export class OperationSlot {
  #current: AbortController | undefined;

  start(): AbortSignal {
    this.cancel();
    const c = new AbortController();
    this.#current = c;
    return c.signal;
  }

  cancel(): void {
    const c = this.#current;
    this.#current = undefined;
    c?.abort();
  }

  finish(op: AbortSignal): void {
    if (this.#current?.signal === op) this.#current = undefined;
  }

  running(): boolean {
    return this.#current !== undefined;
  }
}

/** The longest delay setTimeout takes; longer ones would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Resolves after `ms` (any length: long waits re-arm), or as soon as one of the signals aborts. */
export function pause(ms: number, ...signals: (AbortSignal | undefined)[]): Promise<void> {
  const live = signals.filter((s): s is AbortSignal => s !== undefined);
  if (live.some((s) => s.aborted)) return Promise.resolve();
  return new Promise((resolve) => {
    const deadline = performance.now() + ms;
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      for (const s of live) s.removeEventListener("abort", done);
      resolve();
    };
    const arm = (): void => {
      const left = deadline - performance.now();
      if (left <= 0) done();
      else timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    for (const s of live) s.addEventListener("abort", done, { once: true });
    arm();
  });
}

/** Runs async sections one after the other, in call order. */
class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** Pin writes keep going after a failure (so a stop sets every pin it can); the failures are thrown together. */
class Writes {
  readonly errors: string[] = [];
  async do(what: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      this.errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  check(): void {
    if (this.errors.length > 0) throw new Error(this.errors.join("; "));
  }
}

/** Call options for pin writes: the caller's extra, and a signal nobody aborts (writes run to the end). */
function pinCall(extra: JsonObject): CallOptions {
  return { extra, signal: new AbortController().signal };
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("the call was cancelled", "AbortError");
}

// ---- the motor on pins ----------------------------------------------------------------------------

/** rdk's gpio.Motor: power on the board's pins, open-loop GoFor and SetRPM from max_rpm. */
export class GpioMotor implements Motor {
  readonly name: string;
  readonly #board: Board;
  readonly #config: GpioMotorConfig;
  readonly #logger: Logger;
  readonly #ops = new OperationSlot();
  readonly #writes = new SerialQueue();
  /** max_rpm, or rdk's 100 when only an encoded motor uses this one. */
  readonly #maxRpm: number;
  #powerPct = 0;

  constructor(name: string, board: Board, config: GpioMotorConfig, logger: Logger) {
    this.name = name;
    this.#board = board;
    this.#config = config;
    this.#logger = logger;
    this.#maxRpm = config.maxRpm || 100;
  }

  /** Puts every pin in its off state (the direction pin low too), as rdk stops a new motor; unknown pins fail here. */
  async initialize(): Promise<void> {
    const dir = this.#config.pins.dir;
    if (dir !== undefined) await this.#writes.run(() => this.#board.setGpio(dir, false, internalCall()));
    await this.#turnOff({});
  }

  /** -1 turning backwards, 1 forwards, 0 off (for a single encoder). */
  directionMoving(): number {
    return sign(this.#powerPct);
  }

  async setPower(powerPct: number, call: CallOptions): Promise<void> {
    requireFinite("power", powerPct);
    this.#ops.cancel();
    await this.#applyPower(powerPct, call.extra);
  }

  async goFor(rpm: number, revolutions: number, call: CallOptions): Promise<void> {
    requireFinite("rpm", rpm);
    requireFinite("revolutions", revolutions);
    checkSpeed(rpm, this.#maxRpm, this.#logger);
    checkRevolutions(revolutions);
    call.signal.throwIfAborted();
    // rdk's goForMath: the rpm clamped to max_rpm sets the power, the revolutions at that rpm the time.
    const speed = Math.min(Math.abs(rpm), this.#maxRpm);
    const power = (speed / this.#maxRpm) * sign(rpm * revolutions);
    const ms = Math.abs(revolutions / speed) * 60_000;
    const op = this.#ops.start();
    try {
      try {
        await this.#applyPower(power, call.extra);
      } catch (err) {
        throw new Error(`error in GoFor: ${err instanceof Error ? err.message : String(err)}`);
      }
      await pause(ms, op, call.signal);
      if (op.aborted) return; // superseded or stopped: the newer command decides
      await this.#turnOff({});
      if (call.signal.aborted) throw abortReason(call.signal);
    } finally {
      this.#ops.finish(op);
    }
  }

  async goTo(_rpm: number, _position: number, _call: CallOptions): Promise<void> {
    throw new NotSupportedError(`GoTo on motor ${this.name}, which has no encoder,`);
  }

  async setRpm(rpm: number, call: CallOptions): Promise<void> {
    requireFinite("rpm", rpm);
    checkSpeed(rpm, this.#maxRpm, this.#logger);
    await this.setPower(rpm / this.#maxRpm, call);
  }

  async resetZeroPosition(_offset: number, _call: CallOptions): Promise<void> {
    throw new NotSupportedError(`ResetZeroPosition on motor ${this.name}, which has no encoder,`);
  }

  async position(_call: CallOptions): Promise<number> {
    throw new NotSupportedError(`GetPosition on motor ${this.name}, which has no encoder,`);
  }

  async properties(_call: CallOptions): Promise<MotorProperties> {
    return { positionReporting: false };
  }

  async isPowered(_call: CallOptions): Promise<{ isOn: boolean; powerPct: number }> {
    return { isOn: this.#powerPct !== 0, powerPct: this.#powerPct };
  }

  async isMoving(): Promise<boolean> {
    return this.#powerPct !== 0;
  }

  async stop(call: CallOptions): Promise<void> {
    this.#ops.cancel();
    await this.#turnOff(call.extra);
  }

  async doCommand(): Promise<never> {
    throw new NotSupportedError(`DoCommand on gpio motor ${this.name}`);
  }

  async close(): Promise<void> {
    try {
      await this.stop(internalCall());
    } catch (err) {
      this.#logger.warn({ err: err instanceof Error ? err.message : String(err) }, "could not stop the motor while closing");
    }
  }

  // --- pins --------------------------------------------------------------------------------------

  #applyPower(powerPct: number, extra: JsonObject): Promise<void> {
    if (Math.abs(powerPct) <= OFF_POWER) return this.#turnOff(extra);
    return this.#writes.run(async () => {
      const { pins, dirFlip, type } = this.#config;
      const c = pinCall(extra);
      const w = new Writes();
      const forward = powerPct > 0;
      if (type === "dir_pwm") {
        await w.do(`direction pin ${pins.dir}`, () => this.#board.setGpio(pins.dir!, forward !== dirFlip, c));
      } else {
        const [a, b] = dirFlip ? [pins.b!, pins.a!] : [pins.a!, pins.b!];
        await w.do(`pin ${a}`, () => this.#board.setGpio(a, forward, c));
        await w.do(`pin ${b}`, () => this.#board.setGpio(b, !forward, c));
      }
      // Last, as rdk: on A/B-only drivers the PWM goes on one of the direction pins.
      await this.#setPwm(powerPct, c, w);
      w.check();
    });
  }

  /** rdk's setPWM: clamps to max_power_pct, raises to min_power_pct, enables, then frequency and duty. */
  async #setPwm(powerPct: number, c: CallOptions, w: Writes): Promise<void> {
    const { pins, dirFlip, type, minPowerPct, maxPowerPct, pwmFreqHz } = this.#config;
    let p = clampPower(powerPct, maxPowerPct);
    if (Math.abs(p) < minPowerPct && Math.abs(p) > 0) p = sign(p) * minPowerPct;
    this.#powerPct = p;
    if (pins.enLow !== undefined) await w.do(`en_low pin ${pins.enLow}`, () => this.#board.setGpio(pins.enLow!, false, c));
    if (pins.enHigh !== undefined) await w.do(`en_high pin ${pins.enHigh}`, () => this.#board.setGpio(pins.enHigh!, true, c));
    let pin: string;
    let duty: number;
    if (type === "ab") {
      // The other pin is high, so the motor is driven while this one is low: the duty is inverted.
      pin = p > 0 !== dirFlip ? pins.b! : pins.a!;
      duty = 1 - Math.abs(p);
    } else {
      pin = pins.pwm!;
      duty = Math.abs(p);
    }
    duty = Math.max(duty, minPowerPct);
    await w.do(`PWM frequency of pin ${pin}`, () => this.#board.setPwmFrequency(pin, pwmFreqHz, c));
    await w.do(`PWM of pin ${pin}`, () => this.#board.setPwm(pin, duty, c));
  }

  /** rdk's turnOff: enable pins to their off levels, A, B and PWM low. */
  #turnOff(extra: JsonObject): Promise<void> {
    return this.#writes.run(async () => {
      const { pins } = this.#config;
      const c = pinCall(extra);
      const w = new Writes();
      this.#powerPct = 0;
      if (pins.enLow !== undefined) await w.do(`en_low pin ${pins.enLow}`, () => this.#board.setGpio(pins.enLow!, true, c));
      if (pins.enHigh !== undefined) await w.do(`en_high pin ${pins.enHigh}`, () => this.#board.setGpio(pins.enHigh!, false, c));
      if (pins.a !== undefined && pins.b !== undefined) {
        await w.do(`pin ${pins.a}`, () => this.#board.setGpio(pins.a!, false, c));
        await w.do(`pin ${pins.b}`, () => this.#board.setGpio(pins.b!, false, c));
      }
      if (pins.pwm !== undefined) await w.do(`PWM pin ${pins.pwm}`, () => this.#board.setGpio(pins.pwm!, false, c));
      w.check();
    });
  }
}

// ---- the motor with an encoder --------------------------------------------------------------------

type LoopEnd = "reached" | "superseded" | "aborted";

/** rdk's EncodedMotor: the pins motor driven by a speed loop over the encoder's ticks. */
export class EncodedMotor implements Motor {
  readonly name: string;
  readonly #real: GpioMotor;
  readonly #encoder: Encoder;
  readonly #logger: Logger;
  readonly #ticksPerRotation: number;
  readonly #maxRpm: number;
  readonly #maxPowerPct: number;
  readonly #rampRate: number;
  readonly #ops = new OperationSlot();
  #offsetTicks = 0;
  /** The running SetRPM loop, awaited on close. */
  #background: Promise<void> = Promise.resolve();

  constructor(name: string, real: GpioMotor, encoder: Encoder, config: GpioMotorConfig, logger: Logger) {
    this.name = name;
    this.#real = real;
    this.#encoder = encoder;
    this.#logger = logger;
    this.#ticksPerRotation = config.ticksPerRotation ?? 1;
    this.#maxRpm = config.maxRpm;
    this.#maxPowerPct = config.maxPowerPct;
    if (config.rampRate === 0 || config.rampRate > MAX_RAMP_RATE) {
      if (config.rampRate !== 0) logger.warn(`setting ramp rate to default value of ${DEFAULT_RAMP_RATE} instead of ${config.rampRate}`);
      this.#rampRate = DEFAULT_RAMP_RATE;
    } else {
      this.#rampRate = config.rampRate;
    }
  }

  async setPower(powerPct: number, call: CallOptions): Promise<void> {
    requireFinite("power", powerPct);
    this.#ops.cancel();
    await this.#real.setPower(clampPower(powerPct, this.#maxPowerPct), call);
  }

  async goFor(rpm: number, revolutions: number, call: CallOptions): Promise<void> {
    requireFinite("rpm", rpm);
    requireFinite("revolutions", revolutions);
    checkSpeed(rpm, this.#maxRpm, this.#logger);
    checkRevolutions(revolutions);
    call.signal.throwIfAborted();
    const op = this.#ops.start();
    try {
      const ticks = await this.#ticks();
      const direction = sign(rpm * revolutions);
      const goal = ticks + Math.abs(revolutions) * this.#ticksPerRotation * direction;
      const end = await this.#control(op, call.signal, Math.abs(rpm) * direction, goal, direction);
      if (end === "aborted") throw abortReason(call.signal);
    } finally {
      this.#ops.finish(op);
    }
  }

  async goTo(rpm: number, positionRevolutions: number, call: CallOptions): Promise<void> {
    requireFinite("rpm", rpm);
    requireFinite("position", positionRevolutions);
    const rotations = positionRevolutions - (await this.position(call));
    // rdk: within 0.1 revolutions is there already (a GoFor of ~0 would be refused or spin on).
    if (Math.abs(rotations) <= 0.1) {
      this.#logger.debug("GoTo distance nearly zero, not moving");
      return;
    }
    return this.goFor(Math.abs(rpm), rotations, call);
  }

  async setRpm(rpm: number, call: CallOptions): Promise<void> {
    requireFinite("rpm", rpm);
    checkSpeed(rpm, this.#maxRpm, this.#logger);
    call.signal.throwIfAborted();
    const op = this.#ops.start();
    const direction = sign(rpm);
    const loop = this.#control(op, undefined, rpm, direction * Infinity, direction);
    this.#background = loop.then(
      () => this.#ops.finish(op),
      (err: unknown) => {
        this.#ops.finish(op);
        this.#logger.error({ err: err instanceof Error ? err.message : String(err) }, "SetRPM control loop failed; motor stopped");
      },
    );
  }

  async resetZeroPosition(offset: number, call: CallOptions): Promise<void> {
    requireFinite("offset", offset);
    await this.stop(call);
    await this.#encoder.resetPosition(call);
    this.#offsetTicks = -offset * this.#ticksPerRotation;
  }

  async position(call: CallOptions): Promise<number> {
    return (await this.#ticks(call)) / this.#ticksPerRotation;
  }

  async properties(_call: CallOptions): Promise<MotorProperties> {
    return { positionReporting: true };
  }

  isPowered(call: CallOptions): Promise<{ isOn: boolean; powerPct: number }> {
    return this.#real.isPowered(call);
  }

  isMoving(): Promise<boolean> {
    return this.#real.isMoving();
  }

  async stop(call: CallOptions): Promise<void> {
    this.#ops.cancel();
    await this.#real.stop(call);
  }

  async doCommand(): Promise<never> {
    throw new NotSupportedError(`DoCommand on gpio motor ${this.name}`);
  }

  async close(): Promise<void> {
    this.#ops.cancel();
    await this.#background;
    await this.#real.close();
  }

  /** The encoder's ticks with the zero offset, refusing encoders that answer in other units. */
  async #ticks(call: CallOptions = internalCall()): Promise<number> {
    const p = await this.#encoder.position("ticks", call);
    if (p.type !== "ticks") throw new Error(`expected ticks from encoder, got ${p.type}`);
    return p.value + this.#offsetTicks;
  }

  /**
   * rdk's makeAdjustments and position watch in one loop: every 10 ms the position (stop once past
   * the goal), every 50 ms a power step of ramp_rate towards goalRpm, never reversing. Ends when
   * the goal is passed (motor stopped), the operation is superseded (motor left to the newer
   * command), or the caller aborts (motor stopped).
   */
  async #control(op: AbortSignal, caller: AbortSignal | undefined, goalRpm: number, goalPos: number, direction: number): Promise<LoopEnd> {
    const stopIfCurrent = async (): Promise<void> => {
      if (!op.aborted) await this.#real.stop(internalCall());
    };
    const failed = async (err: unknown): Promise<never> => {
      await stopIfCurrent().catch(() => undefined);
      throw err;
    };
    const { powerPct: current } = await this.#real.isPowered(internalCall());
    let lastPower = startingPower(current, direction);
    if (op.aborted) return "superseded";
    await this.#real.setPower(lastPower, internalCall()).catch(failed);
    let lastTicks = await this.#ticks().catch(failed);
    let lastTime = performance.now();
    for (;;) {
      await pause(POSITION_INTERVAL_MS, op, caller);
      if (op.aborted) return "superseded";
      if (caller?.aborted) {
        await stopIfCurrent();
        return "aborted";
      }
      let ticks: number;
      try {
        ticks = await this.#ticks();
      } catch (err) {
        this.#logger.info(`error getting encoder position, sleeping then continuing: ${err instanceof Error ? err.message : String(err)}`);
        await pause(100, op, caller);
        continue;
      }
      if (op.aborted) return "superseded";
      if ((goalPos - ticks) * direction < 0) {
        await stopIfCurrent().catch(failed);
        return "reached";
      }
      const now = performance.now();
      if (now - lastTime < ADJUST_INTERVAL_MS) continue;
      const rpm = (ticks - lastTicks) / this.#ticksPerRotation / ((now - lastTime) / 60_000);
      let power = lastPower + this.#rampRate * sign(goalRpm - rpm);
      if (sign(power) !== direction) power = lastPower; // never reverse
      power = clampPower(power, this.#maxPowerPct);
      if (op.aborted) return "superseded";
      await this.#real.setPower(power, internalCall()).catch(failed);
      lastPower = power;
      lastTicks = ticks;
      lastTime = now;
    }
  }
}

/** rdk's calcStartingPower: 20% in the goal's direction, or the power already running that way if higher. */
function startingPower(current: number, direction: number): number {
  if (sign(current) !== direction || Math.abs(current) < ENCODED_START_POWER) return ENCODED_START_POWER * direction;
  return current;
}

export const gpioMotorModel: Model<Motor> = {
  api: motorApi,
  model: "rdk:builtin:gpio",
  validate(attributes) {
    const config = parseGpioMotorConfig(attributes);
    const required = [config.board];
    if (config.encoder !== undefined) required.push(config.encoder);
    return { required, optional: [] };
  },
  async build(ctx) {
    const config = parseGpioMotorConfig(ctx.attributes);
    const board = ctx.dependencies.get<Board>(boardApi, config.board);
    if (config.type === "ab") {
      ctx.logger.warn(
        `Motor ${ctx.name} has been configured with A and B pins, but no PWM. Make sure your motor driver doesn't also require a PWM pin.`,
      );
    }
    const real = new GpioMotor(ctx.name, board, config, ctx.logger);
    let motor: Motor = real;
    if (config.encoder !== undefined) {
      const encoder = ctx.dependencies.get<Encoder>(encoderApi, config.encoder);
      const props = await encoder.properties(internalCall());
      if (!props.ticksCountSupported) {
        throw new Error(`encoder ${config.encoder} cannot report ticks, which motor ${ctx.name} needs`);
      }
      if (config.controlParameters) {
        ctx.logger.warn("control_parameters (PID) is not supported here yet; using the ramp speed control of an encoded motor");
      }
      if (encoder instanceof SingleEncoder) encoder.attachDirection(() => real.directionMoving());
      motor = new EncodedMotor(ctx.name, real, encoder, config, ctx.logger);
    }
    await real.initialize();
    return motor;
  },
};
