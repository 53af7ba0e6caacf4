// The `rdk:builtin:wheeled` base, after rdk's components/base/wheeled: differential drive over any
// motors, the same number on each side.
//
//   "attributes": {
//     "left": ["l1", "l2"], "right": ["r1", "r2"],     motor names (required dependencies)
//     "width_mm": 260, "wheel_circumference_mm": 217,
//     "spin_slip_factor": 1.76                          multiplies the wheel travel of a spin (default 1)
//   }
//
// MoveStraight runs GoFor on every motor: rpm = 60 x mm/s / circumference, revolutions = distance /
// circumference. Spin runs GoFor with the left side backwards: each wheel travels
// slip x width x pi x angle / 360 mm. SetPower mixes linear.y and angular.z with rdk's differential
// drive (polar rotation by 45 degrees, scaled by sqrt 2, clamped to -1..1) into SetPower per side;
// SetVelocity turns linear.y mm/s and angular.z deg/s into per-side rpm (SetRPM). Stop stops every
// motor. A motion that fails on one motor stops them all; so does a caller going away (the call
// then rejects, where rdk returns quietly). A new command supersedes the motion running.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import type { Model } from "../../resource/registry.js";
import { NotSupportedError, type CallOptions } from "../../resource/resource.js";
import { optionalNumber, stringList } from "../attributes.js";
import { motorApi, type Motor } from "../motor/motor.js";
import { baseApi, type Base, type BaseProperties, type Vector3 } from "./base.js";

export interface WheeledBaseConfig {
  left: string[];
  right: string[];
  widthMm: number;
  wheelCircumferenceMm: number;
  spinSlipFactor: number;
}

/** Reads and checks the wheeled base's attributes; throws an Error naming the bad one. */
export function parseWheeledBaseConfig(attributes: JsonObject): WheeledBaseConfig {
  const widthMm = optionalNumber(attributes, "width_mm") ?? 0;
  if (widthMm === 0) throw new Error("attribute width_mm is required");
  if (widthMm < 0) throw new Error(`attribute width_mm must be positive, got ${widthMm}`);
  const wheelCircumferenceMm = optionalNumber(attributes, "wheel_circumference_mm") ?? 0;
  if (wheelCircumferenceMm === 0) throw new Error("attribute wheel_circumference_mm is required");
  if (wheelCircumferenceMm < 0) throw new Error(`attribute wheel_circumference_mm must be positive, got ${wheelCircumferenceMm}`);
  const left = stringList(attributes, "left");
  const right = stringList(attributes, "right");
  if (left.length === 0) throw new Error("attribute left is required (the left motors)");
  if (right.length === 0) throw new Error("attribute right is required (the right motors)");
  if (left.length !== right.length) {
    throw new Error(`left and right need to have the same number of motors, not ${left.length} vs ${right.length}`);
  }
  const all = [...left, ...right];
  const twice = all.find((m, i) => all.indexOf(m) !== i);
  if (twice !== undefined) throw new Error(`motor ${twice} is named twice in left and right`);
  const slip = optionalNumber(attributes, "spin_slip_factor") ?? 0;
  if (slip < 0) throw new Error(`attribute spin_slip_factor must not be negative, got ${slip}`);
  return { left, right, widthMm, wheelCircumferenceMm, spinSlipFactor: slip === 0 ? 1 : slip };
}

/**
 * rdk's differentialDrive: forward and left inputs (-1..1) to left and right motor powers.
 * Reversing mirrors the forward arc.
 */
export function differentialDrive(forward: number, left: number): { left: number; right: number } {
  if (forward < 0) {
    const m = differentialDrive(-forward, left);
    return { left: -m.left, right: -m.right };
  }
  const r = Math.hypot(forward, left);
  let t = Math.atan2(left, forward) + Math.PI / 4;
  // rdk's fix for an atan2 corner case, so that turning right keeps a small power on the right side.
  if (t === 0) t += 1.224647e-16 / 2;
  const clamp = (v: number) => Math.max(-1, Math.min(1, v));
  return { left: clamp(r * Math.cos(t) * Math.SQRT2), right: clamp(r * Math.sin(t) * Math.SQRT2) };
}

export class WheeledBase implements Base {
  readonly name: string;
  readonly #config: WheeledBaseConfig;
  readonly #left: Motor[];
  readonly #right: Motor[];
  readonly #logger: Logger;
  #op: AbortController | undefined;

  constructor(name: string, config: WheeledBaseConfig, left: Motor[], right: Motor[], logger: Logger) {
    this.name = name;
    this.#config = config;
    this.#left = left;
    this.#right = right;
    this.#logger = logger;
  }

  /** rdk's straightDistanceToMotorInputs: the motor rpm and revolutions of a straight move. */
  straightMath(distanceMm: number, mmPerSec: number): { rpm: number; revolutions: number } {
    const c = this.#config.wheelCircumferenceMm;
    return { rpm: (60 * mmPerSec) / c, revolutions: distanceMm / c };
  }

  /** rdk's spinMath: the right side's rpm (the left runs at -rpm) and the revolutions of each wheel. */
  spinMath(angleDeg: number, degsPerSec: number): { rpm: number; revolutions: number } {
    const { spinSlipFactor, widthMm, wheelCircumferenceMm } = this.#config;
    const wheelTravel = spinSlipFactor * widthMm * Math.PI * (angleDeg / 360);
    const revolutions = Math.abs(wheelTravel / wheelCircumferenceMm);
    return { rpm: (revolutions / angleDeg) * degsPerSec * 60, revolutions };
  }

  /** rdk's velocityMath: left and right rpm for a linear (mm/s) and angular (deg/s) velocity. */
  velocityMath(mmPerSec: number, degsPerSec: number): { left: number; right: number } {
    const r = this.#config.wheelCircumferenceMm / (2 * Math.PI);
    const l = this.#config.widthMm;
    const w0 = (degsPerSec / 180) * Math.PI;
    const wL = mmPerSec / r - (l * w0) / (2 * r);
    const wR = mmPerSec / r + (l * w0) / (2 * r);
    return { left: (wL / (2 * Math.PI)) * 60, right: (wR / (2 * Math.PI)) * 60 };
  }

  async moveStraight(distanceMm: number, mmPerSec: number, call: CallOptions): Promise<void> {
    requireFinite("distance", distanceMm);
    requireFinite("speed", mmPerSec);
    if (Math.abs(mmPerSec) < 0.0001 || distanceMm === 0) {
      await this.stop(call);
      return;
    }
    const { rpm, revolutions } = this.straightMath(distanceMm, mmPerSec);
    await this.#runAll(call, (m) => m.goFor(rpm, revolutions, call), Math.abs(rpm), Math.abs(rpm));
  }

  async spin(angleDeg: number, degsPerSec: number, call: CallOptions): Promise<void> {
    requireFinite("angle", angleDeg);
    requireFinite("speed", degsPerSec);
    if (Math.abs(angleDeg) < 0.0001) throw new Error(`cannot move base ${this.name} for an angle that is nearly 0`);
    if (Math.abs(degsPerSec) < 0.0001) {
      await this.stop(call);
      return;
    }
    const { rpm, revolutions } = this.spinMath(angleDeg, degsPerSec);
    await this.#runAll(call, (m, side) => m.goFor(side === "left" ? -rpm : rpm, revolutions, call), Math.abs(rpm), Math.abs(rpm));
  }

  async setPower(linear: Vector3, angular: Vector3, call: CallOptions): Promise<void> {
    requireVector("linear", linear);
    requireVector("angular", angular);
    if (isZero(linear) && isZero(angular)) {
      await this.stop(call);
      return;
    }
    const power = differentialDrive(linear.y, angular.z);
    await this.#runAll(call, (m, side) => m.setPower(power[side], call));
  }

  async setVelocity(linear: Vector3, angular: Vector3, call: CallOptions): Promise<void> {
    requireVector("linear", linear);
    requireVector("angular", angular);
    if (isZero(linear) && isZero(angular)) {
      await this.stop(call);
      return;
    }
    const rpm = this.velocityMath(linear.y, angular.z);
    await this.#runAll(call, (m, side) => m.setRpm(rpm[side], call), Math.abs(rpm.left), Math.abs(rpm.right));
  }

  async stop(call: CallOptions): Promise<void> {
    this.#op?.abort();
    this.#op = undefined;
    const failures = await this.#stopMotors(call);
    if (failures.length > 0) throw new Error(`base ${this.name} could not stop every motor: ${failures.join("; ")}`);
  }

  async isMoving(): Promise<boolean> {
    for (const { motor } of this.#motors()) {
      if ((await motor.isPowered({ extra: {}, signal: new AbortController().signal })).isOn) return true;
    }
    return false;
  }

  async properties(_call: CallOptions): Promise<BaseProperties> {
    return {
      widthMeters: this.#config.widthMm * 0.001,
      turningRadiusMeters: 0,
      wheelCircumferenceMeters: this.#config.wheelCircumferenceMm * 0.001,
    };
  }

  async doCommand(): Promise<never> {
    throw new NotSupportedError(`DoCommand on wheeled base ${this.name}`);
  }

  async close(): Promise<void> {
    try {
      await this.stop({ extra: {}, signal: new AbortController().signal });
    } catch (err) {
      this.#logger.warn({ err: reasonText(err) }, "could not stop the base while closing");
    }
  }

  #motors(): { motor: Motor; side: "left" | "right" }[] {
    return [...this.#left.map((motor) => ({ motor, side: "left" as const })), ...this.#right.map((motor) => ({ motor, side: "right" as const }))];
  }

  /**
   * Runs one command on every motor at once (rdk's RunInParallel). When one fails, or the caller
   * goes away, every motor is stopped and the call rejects; a newer base command supersedes it.
   */
  async #runAll(
    call: CallOptions,
    command: (m: Motor, side: "left" | "right") => Promise<void>,
    leftRpm?: number,
    rightRpm?: number,
  ): Promise<void> {
    if ((leftRpm !== undefined && leftRpm <= 10) || (rightRpm !== undefined && rightRpm <= 10)) {
      this.#logger.warn("low motor speed detected, motors may not behave as expected");
    }
    this.#op?.abort();
    const op = new AbortController();
    this.#op = op;
    call.signal.throwIfAborted();
    // The first failure (a motor's error, or the caller going away) stops every motor, which ends
    // the others' commands too, unless a newer command has taken over.
    let stopping: Promise<string[]> | undefined;
    const results = await Promise.allSettled(
      this.#motors().map(({ motor, side }) =>
        command(motor, side).catch((err: unknown) => {
          if (this.#op === op) stopping ??= this.#stopMotors({ extra: {}, signal: new AbortController().signal });
          throw err;
        }),
      ),
    );
    if (this.#op === op) this.#op = undefined;
    const stopFailures = (await stopping) ?? [];
    if (stopFailures.length > 0) this.#logger.warn({ failures: stopFailures }, "could not stop every motor after a failed command");
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failures.length === 0) return;
    if (call.signal.aborted) throw call.signal.reason;
    throw new Error(failures.map((f) => reasonText(f.reason)).join("; "));
  }

  /** Stops every motor at once; answers the failures. */
  async #stopMotors(call: CallOptions): Promise<string[]> {
    const results = await Promise.allSettled(this.#motors().map(({ motor }) => motor.stop(call)));
    return results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((f) => reasonText(f.reason));
  }
}

function requireFinite(what: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${what} must be a finite number, got ${v}`);
}

function requireVector(what: string, v: Vector3): void {
  requireFinite(`${what}.x`, v.x);
  requireFinite(`${what}.y`, v.y);
  requireFinite(`${what}.z`, v.z);
}

function isZero(v: Vector3): boolean {
  return v.x === 0 && v.y === 0 && v.z === 0;
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

export const wheeledBaseModel: Model<WheeledBase> = {
  api: baseApi,
  model: "rdk:builtin:wheeled",
  validate(attributes) {
    const config = parseWheeledBaseConfig(attributes);
    return { required: [...config.left, ...config.right], optional: [] };
  },
  async build(ctx) {
    const config = parseWheeledBaseConfig(ctx.attributes);
    const motor = (side: string) => (name: string) => {
      try {
        return ctx.dependencies.get<Motor>(motorApi, name);
      } catch (err) {
        throw new Error(`no ${side} motor named (${name}): ${reasonText(err)}`);
      }
    };
    return new WheeledBase(ctx.name, config, config.left.map(motor("left")), config.right.map(motor("right")), ctx.logger);
  },
};
