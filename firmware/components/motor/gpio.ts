// The `gpio` motor (micro-rdk's model and attributes): a DC motor behind an H-bridge driven by the
// board's pins.
//
//   "attributes": {
//     "pins": { "a": 26, "b": 27, "pwm": 25 }    A/B direction pins and a PWM (enable) pin,
//          or { "dir": 26, "pwm": 25 }           a direction pin and a PWM pin
//     "max_rpm": 100,                            speed at full power (default 100, as micro-rdk)
//     "dir_flip": false,                         swaps the directions
//     "pwm_freq": 1000,                          PWM frequency (rdk's name; micro-rdk fixes 1 kHz)
//     "encoder": "enc",                          optional encoder: position, GoTo and exact GoFor
//     "ticks_per_rotation": 1                    encoder ticks per revolution (default 1: ticks)
//   }
//
// Direction: forward (positive power) drives A high and B low, or DIR high, as rdk's gpio motor
// does (micro-rdk's PwmABMotor drives A low and B high for forward; set dir_flip to keep such a
// wiring's sense). Power 0 sets the duty to 0 and A/B low.
//
// Without an encoder GoFor is timed (|revolutions / rpm| minutes at |rpm| / max_rpm power, as
// micro-rdk's go_for_math), revolutions 0 runs on until told otherwise, position is always 0, and
// GoTo and ResetZeroPosition are unimplemented. With an encoder GoFor and GoTo run until the
// encoder reaches the target (checked every 10 ms), failing if it is not reached within twice the
// expected time plus 2 s (a stalled motor or a missing encoder signal).
import Timer from "timer";
import { ChannelError, Code } from "../../../proto/channel/frames.js";
import { ConfigError } from "../../config/attributes.js";
import { cancelled, invalidArgument, unimplemented } from "../../rpc/errors.js";
import { encoderApi, motorApi, type BuildContext, type Cancellable, type Model } from "../../resource.js";
import { boardDependency, boardOf, type Board } from "../board/board.js";
import type { IncrementalEncoder } from "../encoder/incremental.js";
import type { Motor, MotorProperties } from "./motor.js";

const POWERED_THRESHOLD = 0.005;
const CHECK_MS = 10;
const DEFAULT_MAX_RPM = 100;
const DEFAULT_PWM_HZ = 1000;

export interface GpioMotorPins {
  a?: number;
  b?: number;
  dir?: number;
  pwm: number;
}

export interface GpioMotorOptions {
  board: Board;
  name: string;
  pins: GpioMotorPins;
  maxRpm: number;
  dirFlip: boolean;
  pwmHz: number;
  encoder?: Pick<IncrementalEncoder, "ticks" | "resetPosition">;
  ticksPerRotation: number;
}

interface Move {
  readonly done: (error?: ChannelError | Error) => void;
}

export class GpioMotor implements Motor {
  readonly #o: GpioMotorOptions;
  #power = 0;
  /** Position offset in revolutions (ResetZeroPosition). */
  #offset = 0;
  #move: Move | undefined = undefined;
  #closed = false;

  constructor(options: GpioMotorOptions) {
    this.#o = options;
    const { board, pins } = options;
    // Reserve the LEDC channel and timer at once, as micro-rdk does: they are scarce.
    board.setPwmFrequency(String(pins.pwm), options.pwmHz);
    this.#apply(0);
  }

  #pin(n: number): string {
    return String(n);
  }

  #apply(power: number): void {
    if (this.#closed) throw new ChannelError(Code.UNAVAILABLE, "motor " + this.#o.name + " is closed");
    if (!(power >= -1 && power <= 1)) throw invalidArgument("power must be between -1 and 1, not " + power);
    const { board, pins, dirFlip } = this.#o;
    const off = Math.abs(power) < 1e-9;
    const forward = power > 0 !== dirFlip;
    if (pins.dir !== undefined) {
      board.setGpio(this.#pin(pins.dir), !off && forward);
    } else if (pins.a !== undefined && pins.b !== undefined) {
      board.setGpio(this.#pin(pins.a), !off && forward);
      board.setGpio(this.#pin(pins.b), !off && !forward);
    }
    board.setPwm(this.#pin(pins.pwm), Math.abs(power));
    this.#power = off ? 0 : power;
  }

  /** Ends the running GoFor/GoTo, if any, with `error` (undefined: it completed). */
  #endMove(error?: ChannelError | Error): void {
    const move = this.#move;
    this.#move = undefined;
    move?.done(error);
  }

  #interrupt(why = "interrupted by a newer command"): void {
    this.#endMove(cancelled("motor " + this.#o.name + ": " + why));
  }

  setPower(powerPct: number): void {
    this.#interrupt();
    this.#apply(powerPct);
  }

  setRpm(rpm: number): void {
    this.#interrupt();
    this.#apply(this.#powerFor(rpm));
  }

  #powerFor(rpm: number): number {
    if (!Number.isFinite(rpm)) throw invalidArgument("rpm must be a number");
    const max = this.#o.maxRpm;
    return Math.max(-max, Math.min(max, rpm)) / max;
  }

  goFor(rpm: number, revolutions: number, call?: Cancellable): Promise<void> {
    this.#interrupt();
    if (!Number.isFinite(rpm) || !Number.isFinite(revolutions)) return Promise.reject(invalidArgument("rpm and revolutions must be numbers"));
    if (Math.abs(rpm) < 0.1) return Promise.reject(invalidArgument("cannot move motor " + this.#o.name + " at an RPM that is nearly 0"));
    if (revolutions === 0) {
      // micro-rdk and older rdk: revolutions 0 runs the motor until told otherwise.
      this.#apply(this.#powerFor(rpm));
      return Promise.resolve();
    }
    const direction = Math.sign(rpm) * Math.sign(revolutions);
    const speed = Math.min(Math.abs(rpm), this.#o.maxRpm);
    const expectedMs = (Math.abs(revolutions) / speed) * 60_000;
    if (this.#o.encoder === undefined) return this.#timedMove(direction * (speed / this.#o.maxRpm), expectedMs, call);
    return this.#encodedMove(this.position() + direction * Math.abs(revolutions), direction, speed, expectedMs, call);
  }

  goTo(rpm: number, positionRevolutions: number, call?: Cancellable): Promise<void> {
    this.#interrupt();
    if (this.#o.encoder === undefined) return Promise.reject(unimplemented("motor " + this.#o.name + " has no encoder: GoTo needs one"));
    if (!Number.isFinite(rpm) || !Number.isFinite(positionRevolutions)) return Promise.reject(invalidArgument("rpm and position must be numbers"));
    if (Math.abs(rpm) < 0.1) return Promise.reject(invalidArgument("cannot move motor " + this.#o.name + " at an RPM that is nearly 0"));
    const distance = positionRevolutions - this.position();
    if (Math.abs(distance) * this.#o.ticksPerRotation < 1) {
      this.#apply(0);
      return Promise.resolve();
    }
    const speed = Math.min(Math.abs(rpm), this.#o.maxRpm);
    return this.#encodedMove(positionRevolutions, Math.sign(distance), speed, (Math.abs(distance) / speed) * 60_000, call);
  }

  /** Runs at `power` for `ms`, then stops. */
  #timedMove(power: number, ms: number, call?: Cancellable): Promise<void> {
    this.#apply(power);
    return this.#track(call, (finish) => {
      const timer = Timer.set(() => finish(), Math.max(1, Math.round(ms)));
      return () => Timer.clear(timer);
    });
  }

  /** Runs towards `target` revolutions until the encoder gets there. */
  #encodedMove(target: number, direction: number, speed: number, expectedMs: number, call?: Cancellable): Promise<void> {
    this.#apply(direction * (speed / this.#o.maxRpm));
    const deadline = Date.now() + expectedMs * 2 + 2000;
    return this.#track(call, (finish) => {
      const timer = Timer.repeat(() => {
        const p = this.position();
        if (direction > 0 ? p >= target : p <= target) finish();
        else if (Date.now() > deadline) {
          finish(new Error("motor " + this.#o.name + " did not reach position " + target + " (at " + p + "): stalled, or no encoder signal?"));
        }
      }, CHECK_MS);
      return () => Timer.clear(timer);
    });
  }

  /**
   * The promise of one move: `start` arms what ends it and returns its disarm function. The move
   * ends by completing (the motor stops), by a newer command or Stop (CANCELLED), by the caller
   * going away (the motor stops), or by closing.
   */
  #track(call: Cancellable | undefined, start: (finish: (error?: Error) => void) => () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const hooks: { disarm?: () => void; unhook?: () => void } = {};
      const move: Move = {
        done: (error) => {
          hooks.disarm?.();
          hooks.disarm = undefined;
          hooks.unhook?.();
          if (error === undefined) resolve();
          else reject(error);
        },
      };
      this.#move = move;
      const finish = (error?: Error) => {
        if (this.#move !== move) return;
        this.#move = undefined;
        try {
          this.#apply(0);
        } catch {
          // Closed meanwhile: nothing to stop.
        }
        move.done(error);
      };
      hooks.disarm = start(finish);
      hooks.unhook = call?.onCancel(() => finish(cancelled("request cancelled")));
    });
  }

  resetZeroPosition(offset: number): void {
    const encoder = this.#o.encoder;
    if (encoder === undefined) throw unimplemented("motor " + this.#o.name + " has no encoder: ResetZeroPosition needs one");
    encoder.resetPosition();
    this.#offset = -offset;
  }

  /** Revolutions from the zero position; 0 without an encoder, as rdk's gpio motor. */
  position(): number {
    const encoder = this.#o.encoder;
    if (encoder === undefined) return 0;
    return encoder.ticks() / this.#o.ticksPerRotation + this.#offset;
  }

  properties(): MotorProperties {
    return { positionReporting: this.#o.encoder !== undefined };
  }

  isPowered(): { isOn: boolean; powerPct: number } {
    return { isOn: Math.abs(this.#power) > POWERED_THRESHOLD, powerPct: this.#power };
  }

  isMoving(): boolean {
    return Math.abs(this.#power) > POWERED_THRESHOLD;
  }

  stop(): void {
    this.#interrupt("stopped");
    if (!this.#closed) this.#apply(0);
  }

  close(): void {
    if (this.#closed) return;
    this.stop();
    this.#closed = true;
    this.#endMove(new ChannelError(Code.UNAVAILABLE, "motor " + this.#o.name + " was closed"));
  }
}

export const gpioMotorModel: Model<GpioMotor> = {
  api: motorApi,
  model: "rdk:builtin:gpio",
  validate(attributes, all) {
    const pins = attributes.object("pins");
    const a = pins.optionalPin("a");
    const b = pins.optionalPin("b");
    const dir = pins.optionalPin("dir");
    if (!pins.has("pwm")) {
      throw new ConfigError(
        a !== undefined && b !== undefined ? "attribute pins.pwm is required (A/B motors without a PWM pin are not supported)" : "attribute pins needs a, b and pwm, or dir and pwm",
      );
    }
    pins.pin("pwm");
    if (dir === undefined && (a === undefined || b === undefined)) throw new ConfigError("attribute pins needs a and b, or dir, besides pwm");
    attributes.number("max_rpm", DEFAULT_MAX_RPM, { min: 0.1 });
    attributes.boolean("dir_flip", false);
    attributes.number("pwm_freq", DEFAULT_PWM_HZ, { min: 1, integer: true });
    attributes.number("ticks_per_rotation", 1, { min: 1e-9 });
    const deps = [boardDependency(attributes, all)];
    const encoder = attributes.optionalString("encoder");
    if (encoder !== undefined && encoder !== "") deps.push({ api: encoderApi, name: encoder });
    return deps;
  },
  build(ctx: BuildContext) {
    const a = ctx.attributes;
    const pins = a.object("pins");
    const encoderName = a.optionalString("encoder");
    return new GpioMotor({
      board: boardOf(ctx),
      name: ctx.name.name,
      pins: {
        a: pins.optionalPin("a"),
        b: pins.optionalPin("b"),
        dir: pins.optionalPin("dir"),
        pwm: pins.pin("pwm"),
      },
      maxRpm: a.number("max_rpm", DEFAULT_MAX_RPM),
      dirFlip: a.boolean("dir_flip", false),
      pwmHz: a.integer("pwm_freq", DEFAULT_PWM_HZ),
      encoder: encoderName ? ctx.dependency<IncrementalEncoder>(encoderApi, encoderName) : undefined,
      ticksPerRotation: a.number("ticks_per_rotation", 1),
    });
  },
};
