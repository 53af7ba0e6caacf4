// Shared pieces of the model tests: building models with hand-made dependencies, waiting on a
// condition, a recording motor, and a DC motor + quadrature encoder "physics" that turns a fake
// board's PWM duty into interrupt ticks.
import assert from "node:assert/strict";
import type { JsonObject } from "@bufbuild/protobuf";
import { pino } from "pino";
import type { FakeBoard } from "../../host/components/board/fake.js";
import type { Motor, MotorProperties } from "../../host/components/motor/motor.js";
import { apiString, type Api } from "../../host/resource/name.js";
import type { Dependencies, Model } from "../../host/resource/registry.js";
import { internalCall, type CallOptions, type Resource } from "../../host/resource/resource.js";

export const logger = pino({ level: "silent" });
export const call = internalCall();
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class MapDependencies implements Dependencies {
  readonly #byKey = new Map<string, Resource>();
  add(api: Api, r: Resource): this {
    this.#byKey.set(`${apiString(api)}/${r.name}`, r);
    return this;
  }
  get<R extends Resource>(api: Api, name: string): R {
    const r = this.find<R>(api, name);
    if (r === undefined) throw new Error(`missing dependency ${apiString(api)}/${name}`);
    return r;
  }
  find<R extends Resource>(api: Api, name: string): R | undefined {
    return this.#byKey.get(`${apiString(api)}/${name}`) as R | undefined;
  }
}

/** Validates, then builds, as the machine does. */
export async function build<R extends Resource>(
  model: Model<R>,
  name: string,
  attributes: JsonObject,
  dependencies: Dependencies = new MapDependencies(),
): Promise<R> {
  model.validate?.(attributes);
  return model.build({ name, attributes, dependencies, logger });
}

/** Polls until `cond` holds (no timing is asserted: the limit only keeps a broken test from hanging). */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

export function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance}`);
}

export type MotorCall =
  | { method: "goFor"; rpm: number; revolutions: number }
  | { method: "setPower"; power: number }
  | { method: "setRpm"; rpm: number }
  | { method: "stop" };

/**
 * A motor that records what it is told. GoFor waits until the motor is stopped or told something
 * else (then resolves), or its caller aborts (then rejects, after stopping, as the real motors do).
 */
export class RecordingMotor implements Motor {
  readonly calls: MotorCall[] = [];
  #power = 0;
  #release: (() => void) | undefined;
  /** When set, the next GoFor fails with it. */
  failNext: Error | undefined;

  constructor(readonly name: string) {}

  last(): MotorCall | undefined {
    return this.calls.at(-1);
  }

  /** Ends a running GoFor as if its revolutions were done. */
  finishGoFor(): void {
    this.#power = 0;
    this.#end();
  }

  async goFor(rpm: number, revolutions: number, call: CallOptions): Promise<void> {
    this.#end();
    this.calls.push({ method: "goFor", rpm, revolutions });
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    this.#power = Math.sign(rpm * revolutions);
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#release = undefined;
        this.#power = 0;
        this.calls.push({ method: "stop" });
        reject(call.signal.reason);
      };
      this.#release = () => {
        call.signal.removeEventListener("abort", onAbort);
        resolve();
      };
      call.signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  async setPower(power: number): Promise<void> {
    this.#end();
    this.#power = power;
    this.calls.push({ method: "setPower", power });
  }

  async setRpm(rpm: number): Promise<void> {
    this.#end();
    this.#power = Math.sign(rpm);
    this.calls.push({ method: "setRpm", rpm });
  }

  async stop(): Promise<void> {
    this.#end();
    this.#power = 0;
    this.calls.push({ method: "stop" });
  }

  async goTo(): Promise<void> {}
  async resetZeroPosition(): Promise<void> {}
  async position(): Promise<number> {
    return 0;
  }
  async properties(): Promise<MotorProperties> {
    return { positionReporting: false };
  }
  async isPowered(): Promise<{ isOn: boolean; powerPct: number }> {
    return { isOn: this.#power !== 0, powerPct: this.#power };
  }
  async isMoving(): Promise<boolean> {
    return this.#power !== 0;
  }
  async doCommand(command: JsonObject): Promise<JsonObject> {
    return command;
  }
  async close(): Promise<void> {}

  #end(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
}

/** Quadrature states in the order rdk's decoder counts up: (a, b) = 00, 01 (b high), 11, 10 (a high). */
const QUADRATURE: readonly { a: boolean; b: boolean }[] = [
  { a: false, b: false },
  { a: false, b: true },
  { a: true, b: true },
  { a: true, b: false },
];

/** Ticks a board's interrupts through `edges` quadrature edges from state index `from` (negative: backwards). */
export function quadratureEdges(board: FakeBoard, a: string, b: string, from: number, edges: number): number {
  let k = from;
  const step = Math.sign(edges);
  for (let i = 0; i < Math.abs(edges); i++) {
    const before = QUADRATURE[mod4(k)];
    k += step;
    const after = QUADRATURE[mod4(k)];
    if (before.a !== after.a) board.tick(a, after.a);
    else board.tick(b, after.b);
  }
  return k;
}

function mod4(k: number): number {
  return ((k % 4) + 4) % 4;
}

export interface PhysicsOptions {
  board: FakeBoard;
  /** The encoder's interrupt names. */
  a: string;
  b: string;
  /** The motor's PWM pin: its duty cycle sets the speed. */
  pwmPin: string;
  /** The motor's direction from its pins: 1, -1, or 0 when not driven. */
  direction: () => number;
  /** Speed at duty 1. */
  rpmAtFullDuty: number;
  /** Quadrature edges per revolution (the incremental encoder counts two per tick). */
  edgesPerRevolution: number;
}

/**
 * A DC motor with a quadrature encoder, stepped by the test: every couple of milliseconds it advances
 * the shaft by speed x elapsed time, with speed proportional to the PWM duty, and ticks the board's
 * interrupts for each edge passed. Stop it at the end of the test.
 */
export class MotorPhysics {
  readonly #o: PhysicsOptions;
  /** Shaft position in edges (fractional); the last whole edge ticked. */
  #edges = 0;
  #state = 0;
  #last = performance.now();
  #timer: NodeJS.Timeout | undefined;
  maxDutySeen = 0;

  constructor(options: PhysicsOptions) {
    this.#o = options;
  }

  start(): this {
    this.#last = performance.now();
    const step = (): void => {
      this.step();
      this.#timer = setTimeout(step, 2);
    };
    this.#timer = setTimeout(step, 2);
    return this;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Revolutions turned so far. */
  revolutions(): number {
    return this.#state / this.#o.edgesPerRevolution;
  }

  step(): void {
    const now = performance.now();
    const dtMin = (now - this.#last) / 60_000;
    this.#last = now;
    const duty = this.#o.board.pinState(this.#o.pwmPin).duty;
    this.maxDutySeen = Math.max(this.maxDutySeen, duty);
    const rpm = duty * this.#o.rpmAtFullDuty * this.#o.direction();
    this.#edges += rpm * dtMin * this.#o.edgesPerRevolution;
    const whole = Math.trunc(this.#edges);
    if (whole !== this.#state) this.#state = quadratureEdges(this.#o.board, this.#o.a, this.#o.b, this.#state, whole - this.#state);
  }
}
