// The `rdk:builtin:fake` motor: a simulated motor whose position integrates its speed over time,
// after rdk's components/motor/fake. Speeds are in rpm, positions in revolutions; with an `encoder`
// (a fake encoder) the motor drives that encoder's position, in ticks, instead of its own.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import type { Model } from "../../resource/registry.js";
import type { CallOptions } from "../../resource/resource.js";
import { encoderApi, type Encoder } from "../encoder/encoder.js";
import type { FakeEncoder } from "../encoder/fake.js";
import { motorApi, type Motor, type MotorProperties } from "./motor.js";

/** rdk's fake motor runs at 100 rpm at full power when `max_rpm` is not configured. */
export const DEFAULT_MAX_RPM = 100;

/** |power| below this counts as off, as in rdk. */
const POWERED_THRESHOLD = 0.005;

/**
 * A position that moves at a constant velocity (units per minute) from the last change, optionally
 * stopping at a target. Nothing runs in the background: the position is computed when read, from
 * `performance.now()`. The fake motor works in revolutions, the fake encoder in ticks.
 */
export class PositionIntegrator {
  readonly #now: () => number;
  #base = 0;
  #since: number;
  #velocity = 0;
  #target: number | undefined;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#since = now();
  }

  /** The current position, never past the target. */
  position(): number {
    return this.#at(this.#now()).position;
  }

  /** The velocity now, in units per minute: 0 once the target is reached. */
  velocity(): number {
    return this.#at(this.#now()).velocity;
  }

  /** The target the current motion stops at, if any. */
  target(): number | undefined {
    return this.#target;
  }

  /** Moves at `velocity` units per minute from now on, until `target` when given (which must lie ahead). */
  setVelocity(velocity: number, target?: number): void {
    if (!Number.isFinite(velocity)) throw new Error(`velocity must be a finite number, got ${velocity}`);
    if (target !== undefined && !Number.isFinite(target)) throw new Error(`target must be a finite number, got ${target}`);
    this.#rebase();
    this.#velocity = velocity;
    this.#target = target;
  }

  /** Sets the position without changing the motion; a target moves along so the same distance remains. */
  setPosition(position: number): void {
    if (!Number.isFinite(position)) throw new Error(`position must be a finite number, got ${position}`);
    this.#rebase();
    if (this.#target !== undefined) this.#target += position - this.#base;
    this.#base = position;
  }

  /** Stops where it is now. */
  stop(): void {
    this.#rebase();
    this.#velocity = 0;
    this.#target = undefined;
  }

  /** Ends the motion at its target (or where it is, without one), as a move that has run its course. */
  finish(): void {
    this.#rebase();
    if (this.#target !== undefined) this.#base = this.#target;
    this.#velocity = 0;
    this.#target = undefined;
  }

  /** Milliseconds until the target is reached; undefined when there is no target or no motion. */
  msToTarget(): number | undefined {
    this.#rebase();
    if (this.#target === undefined || this.#velocity === 0) return undefined;
    return Math.max(0, ((this.#target - this.#base) / this.#velocity) * 60_000);
  }

  #at(t: number): { position: number; velocity: number } {
    const position = this.#base + (this.#velocity * (t - this.#since)) / 60_000;
    const target = this.#target;
    if (target !== undefined && (this.#velocity > 0 ? position >= target : position <= target)) {
      return { position: target, velocity: 0 };
    }
    return { position, velocity: this.#velocity };
  }

  #rebase(): void {
    const t = this.#now();
    const { position, velocity } = this.#at(t);
    this.#base = position;
    this.#since = t;
    this.#velocity = velocity;
    if (velocity === 0) this.#target = undefined;
  }
}

export interface FakeMotorConfig {
  maxRpm: number;
  /** Name of the encoder dependency, when the motor is encoded. */
  encoder?: string;
  ticksPerRotation?: number;
  board?: string;
}

function optionalNumber(attributes: JsonObject, key: string): number | undefined {
  const v = attributes[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`attribute ${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function optionalString(attributes: JsonObject, key: string): string | undefined {
  const v = attributes[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new Error(`attribute ${key} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads and checks the fake motor's attributes; throws an Error naming the bad one. */
export function parseFakeMotorConfig(attributes: JsonObject): FakeMotorConfig {
  const maxRpm = optionalNumber(attributes, "max_rpm") ?? 0;
  if (maxRpm < 0) throw new Error(`attribute max_rpm must not be negative, got ${maxRpm}`);
  const encoder = optionalString(attributes, "encoder");
  const ticksPerRotation = optionalNumber(attributes, "ticks_per_rotation");
  if (ticksPerRotation !== undefined && ticksPerRotation <= 0) {
    throw new Error(`attribute ticks_per_rotation must be positive, got ${ticksPerRotation}`);
  }
  if (encoder !== undefined && ticksPerRotation === undefined) {
    throw new Error("attribute ticks_per_rotation is required (nonzero) for an encoded motor");
  }
  const board = optionalString(attributes, "board");
  return { maxRpm: maxRpm === 0 ? DEFAULT_MAX_RPM : maxRpm, encoder, ticksPerRotation, board };
}

function requireFinite(what: string, v: number): void {
  if (!Number.isFinite(v)) throw new Error(`${what} must be a finite number, got ${v}`);
}

function zeroRpmError(): Error {
  return new Error("Cannot move motor at an RPM that is nearly 0");
}

interface Operation {
  resolve(): void;
  reject(reason: unknown): void;
  timer: NodeJS.Timeout | undefined;
  detach(): void;
}

export class FakeMotor implements Motor {
  readonly name: string;
  readonly maxRpm: number;
  readonly #logger: Logger;
  /** Position source: the motor's own, in revolutions, or a fake encoder's, in ticks. */
  readonly #integrator: PositionIntegrator;
  /** Integrator units per revolution: 1, or ticks_per_rotation with an encoder. */
  readonly #scale: number;
  #op: Operation | undefined;
  #closed = false;

  constructor(name: string, config: FakeMotorConfig, logger: Logger, encoder?: FakeEncoder) {
    this.name = name;
    this.maxRpm = config.maxRpm;
    this.#logger = logger;
    if (encoder !== undefined) {
      this.#integrator = encoder.integrator;
      this.#scale = config.ticksPerRotation ?? 1;
    } else {
      this.#integrator = new PositionIntegrator();
      this.#scale = 1;
    }
  }

  async setPower(powerPct: number, _call: CallOptions): Promise<void> {
    requireFinite("power", powerPct);
    this.#checkOpen();
    const power = Math.max(-1, Math.min(1, powerPct));
    if (power !== powerPct) this.#logger.warn({ powerPct }, "power outside -1..1, clamped");
    this.#endOperation();
    this.#integrator.setVelocity(power * this.maxRpm * this.#scale);
  }

  async goFor(rpm: number, revolutions: number, call: CallOptions): Promise<void> {
    requireFinite("rpm", rpm);
    requireFinite("revolutions", revolutions);
    const speed = this.#checkSpeed(rpm);
    call.signal.throwIfAborted();
    if (revolutions === 0) {
      // The API's "spin until told otherwise".
      this.#endOperation();
      this.#integrator.setVelocity(Math.sign(rpm) * speed * this.#scale);
      return;
    }
    const dir = Math.sign(rpm) * Math.sign(revolutions);
    const target = this.#integrator.position() + dir * Math.abs(revolutions) * this.#scale;
    return this.#moveTo(dir * speed * this.#scale, target, call);
  }

  async goTo(rpm: number, positionRevolutions: number, call: CallOptions): Promise<void> {
    requireFinite("rpm", rpm);
    requireFinite("position", positionRevolutions);
    const speed = this.#checkSpeed(rpm);
    call.signal.throwIfAborted();
    const target = positionRevolutions * this.#scale;
    const delta = target - this.#integrator.position();
    if (Math.abs(delta) < 1e-9 * this.#scale) {
      this.#endOperation();
      this.#integrator.stop();
      return;
    }
    return this.#moveTo(Math.sign(delta) * speed * this.#scale, target, call);
  }

  async setRpm(rpm: number, _call: CallOptions): Promise<void> {
    requireFinite("rpm", rpm);
    const speed = this.#checkSpeed(rpm);
    this.#endOperation();
    this.#integrator.setVelocity(Math.sign(rpm) * speed * this.#scale);
  }

  async resetZeroPosition(offset: number, _call: CallOptions): Promise<void> {
    requireFinite("offset", offset);
    // Like rdk's encoded motor: stop, then the current position becomes -offset.
    this.#integrator.stop();
    this.#endOperation();
    this.#integrator.setPosition(-offset * this.#scale);
  }

  async position(_call: CallOptions): Promise<number> {
    return this.#integrator.position() / this.#scale;
  }

  async properties(_call: CallOptions): Promise<MotorProperties> {
    return { positionReporting: true };
  }

  async isPowered(_call: CallOptions): Promise<{ isOn: boolean; powerPct: number }> {
    const powerPct = this.#powerPct();
    return { isOn: Math.abs(powerPct) >= POWERED_THRESHOLD, powerPct };
  }

  async isMoving(): Promise<boolean> {
    return Math.abs(this.#powerPct()) >= POWERED_THRESHOLD;
  }

  async stop(_call: CallOptions): Promise<void> {
    this.#integrator.stop();
    this.#endOperation();
  }

  async doCommand(command: JsonObject, _call: CallOptions): Promise<JsonObject> {
    return command;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#integrator.stop();
    this.#endOperation();
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error(`motor ${this.name} is closed`);
  }

  #powerPct(): number {
    return this.#integrator.velocity() / this.#scale / this.maxRpm;
  }

  /** rdk's checks: zero rpm is an error, above max_rpm is clamped. Returns the speed to run at (> 0). */
  #checkSpeed(rpm: number): number {
    this.#checkOpen();
    const speed = Math.abs(rpm);
    if (speed === 0) throw zeroRpmError();
    if (speed < 0.1) this.#logger.warn({ rpm }, "motor speed is nearly 0 rev_per_min");
    if (speed > this.maxRpm) {
      this.#logger.warn({ rpm, maxRpm: this.maxRpm }, "motor speed above max_rpm, clamped");
      return this.maxRpm;
    }
    return speed;
  }

  /** Starts a move to `target` (integrator units) that settles when it arrives, is stopped, superseded or aborted. */
  #moveTo(velocity: number, target: number, call: CallOptions): Promise<void> {
    this.#endOperation();
    this.#integrator.setVelocity(velocity, target);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.#op !== op) return;
        this.#integrator.stop();
        this.#endOperation(call.signal.reason ?? new Error("GoFor aborted"));
      };
      const op: Operation = {
        resolve,
        reject,
        timer: undefined,
        detach: () => call.signal.removeEventListener("abort", onAbort),
      };
      this.#op = op;
      call.signal.addEventListener("abort", onAbort, { once: true });
      const check = (): void => {
        if (this.#op !== op) return;
        const ms = this.#integrator.msToTarget();
        if (ms === undefined || ms < 1) {
          // Arrived (or someone else changed the motion): end exactly at the target, as rdk does.
          this.#integrator.finish();
          this.#endOperation();
          return;
        }
        op.timer = setTimeout(check, Math.ceil(ms));
      };
      check();
    });
  }

  /** Settles the running GoFor/GoTo, if any: resolved when it was stopped or superseded, rejected on abort. */
  #endOperation(reason?: unknown): void {
    const op = this.#op;
    if (op === undefined) return;
    this.#op = undefined;
    clearTimeout(op.timer);
    op.detach();
    if (reason === undefined) op.resolve();
    else op.reject(reason);
  }
}

function isFakeEncoder(e: Encoder): e is FakeEncoder {
  return (e as Partial<FakeEncoder>).integrator instanceof PositionIntegrator;
}

export const fakeMotorModel: Model<FakeMotor> = {
  api: motorApi,
  model: "rdk:builtin:fake",
  validate(attributes) {
    const config = parseFakeMotorConfig(attributes);
    const required: string[] = [];
    // rdk's fake motor depends on its board when one is named (it only borrows a PWM pin there).
    if (config.board !== undefined) required.push(config.board);
    if (config.encoder !== undefined) required.push(config.encoder);
    return { required, optional: [] };
  },
  async build(ctx) {
    const config = parseFakeMotorConfig(ctx.attributes);
    if (ctx.attributes.max_rpm === undefined) {
      ctx.logger.info(`max_rpm not provided to fake motor ${ctx.name}, defaulting to ${DEFAULT_MAX_RPM}`);
    }
    let encoder: FakeEncoder | undefined;
    if (config.encoder !== undefined) {
      const e = ctx.dependencies.get<Encoder>(encoderApi, config.encoder);
      if (!isFakeEncoder(e)) throw new Error(`encoder ${config.encoder} of fake motor ${ctx.name} must be a fake encoder`);
      encoder = e;
    }
    return new FakeMotor(ctx.name, config, ctx.logger, encoder);
  },
};
