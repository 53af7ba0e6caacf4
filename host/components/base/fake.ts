// The `rdk:builtin:fake` base, as rdk's: every motion command returns at once and moves nothing, it
// is never moving, and its properties are a 0.6 m wide base with a zero turning radius (and, as in
// rdk, a wheel circumference of 0). It remembers the last command, for tests.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Model } from "../../resource/registry.js";
import type { CallOptions } from "../../resource/resource.js";
import { baseApi, type Base, type BaseProperties, type Vector3 } from "./base.js";

/** rdk's fake base width. */
export const FAKE_BASE_WIDTH_MM = 600;

export type FakeBaseCommand =
  | { method: "moveStraight"; distanceMm: number; mmPerSec: number }
  | { method: "spin"; angleDeg: number; degsPerSec: number }
  | { method: "setPower" | "setVelocity"; linear: Vector3; angular: Vector3 }
  | { method: "stop" };

function finite(what: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${what} must be a finite number, got ${v}`);
}

function finiteVector(what: string, v: Vector3): Vector3 {
  finite(`${what}.x`, v.x);
  finite(`${what}.y`, v.y);
  finite(`${what}.z`, v.z);
  return { x: v.x, y: v.y, z: v.z };
}

export class FakeBase implements Base {
  readonly name: string;
  #last: FakeBaseCommand | undefined;

  constructor(name: string) {
    this.name = name;
  }

  /** The last command given, if any. */
  lastCommand(): FakeBaseCommand | undefined {
    return this.#last;
  }

  async moveStraight(distanceMm: number, mmPerSec: number, call: CallOptions): Promise<void> {
    finite("distance", distanceMm);
    finite("speed", mmPerSec);
    call.signal.throwIfAborted();
    this.#last = { method: "moveStraight", distanceMm, mmPerSec };
  }

  async spin(angleDeg: number, degsPerSec: number, call: CallOptions): Promise<void> {
    finite("angle", angleDeg);
    finite("speed", degsPerSec);
    call.signal.throwIfAborted();
    this.#last = { method: "spin", angleDeg, degsPerSec };
  }

  async setPower(linear: Vector3, angular: Vector3, _call: CallOptions): Promise<void> {
    this.#last = { method: "setPower", linear: finiteVector("linear", linear), angular: finiteVector("angular", angular) };
  }

  async setVelocity(linear: Vector3, angular: Vector3, _call: CallOptions): Promise<void> {
    this.#last = { method: "setVelocity", linear: finiteVector("linear", linear), angular: finiteVector("angular", angular) };
  }

  async stop(_call: CallOptions): Promise<void> {
    this.#last = { method: "stop" };
  }

  async isMoving(): Promise<boolean> {
    return false;
  }

  async properties(_call: CallOptions): Promise<BaseProperties> {
    return { widthMeters: FAKE_BASE_WIDTH_MM * 0.001, turningRadiusMeters: 0, wheelCircumferenceMeters: 0 };
  }

  async doCommand(command: JsonObject, _call: CallOptions): Promise<JsonObject> {
    return command;
  }

  async close(): Promise<void> {}
}

export const fakeBaseModel: Model<FakeBase> = {
  api: baseApi,
  model: "rdk:builtin:fake",
  validate() {
    return { required: [], optional: [] };
  },
  async build(ctx) {
    return new FakeBase(ctx.name);
  },
};
