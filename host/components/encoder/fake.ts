// The `rdk:builtin:fake` encoder, after rdk's components/encoder/fake: a tick count that integrates
// a settable speed (ticks per minute) over time. A fake motor naming this encoder drives it by
// sharing its integrator; without one, DoCommand `{"set_speed": ticksPerMinute}` spins it.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Model } from "../../resource/registry.js";
import { NotSupportedError, type CallOptions } from "../../resource/resource.js";
import { PositionIntegrator } from "../motor/fake.js";
import { encoderApi, type Encoder, type EncoderProperties, type PositionType } from "./encoder.js";

export interface FakeEncoderConfig {
  /** When set, positions can also be read in degrees. */
  ticksPerRotation?: number;
}

/** Reads and checks the fake encoder's attributes; throws an Error naming the bad one. */
export function parseFakeEncoderConfig(attributes: JsonObject): FakeEncoderConfig {
  const tpr = attributes.ticks_per_rotation;
  if (tpr !== undefined && tpr !== null) {
    if (typeof tpr !== "number" || !Number.isFinite(tpr) || tpr <= 0) {
      throw new Error(`attribute ticks_per_rotation must be a positive number, got ${JSON.stringify(tpr)}`);
    }
  }
  // rdk's update_rate_msec is accepted and ignored: the position is computed when read.
  const rate = attributes.update_rate_msec;
  if (rate !== undefined && rate !== null && typeof rate !== "number") {
    throw new Error(`attribute update_rate_msec must be a number, got ${JSON.stringify(rate)}`);
  }
  return { ticksPerRotation: typeof tpr === "number" ? tpr : undefined };
}

function finite(what: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${what} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

export class FakeEncoder implements Encoder {
  readonly name: string;
  readonly ticksPerRotation: number | undefined;
  /** The tick count over time; a fake motor with this encoder moves it. */
  readonly integrator: PositionIntegrator;

  constructor(name: string, config: FakeEncoderConfig = {}, integrator: PositionIntegrator = new PositionIntegrator()) {
    this.name = name;
    this.ticksPerRotation = config.ticksPerRotation;
    this.integrator = integrator;
  }

  /** Spins at `ticksPerMinute` (negative counts down) until changed; 0 stops. */
  setSpeed(ticksPerMinute: number): void {
    this.integrator.setVelocity(finite("speed", ticksPerMinute));
  }

  /** Sets the tick count, keeping the speed. */
  setPosition(ticks: number): void {
    this.integrator.setPosition(finite("position", ticks));
  }

  /** The current speed in ticks per minute. */
  speed(): number {
    return this.integrator.velocity();
  }

  async position(type: PositionType, _call: CallOptions): Promise<{ value: number; type: PositionType }> {
    const ticks = this.integrator.position();
    if (type === "degrees") {
      if (this.ticksPerRotation === undefined) {
        throw new NotSupportedError(`position in degrees for encoder ${this.name} (no ticks_per_rotation)`);
      }
      return { value: (ticks / this.ticksPerRotation) * 360, type: "degrees" };
    }
    return { value: ticks, type: "ticks" };
  }

  async resetPosition(_call: CallOptions): Promise<void> {
    this.integrator.setPosition(0);
  }

  async properties(_call: CallOptions): Promise<EncoderProperties> {
    return { ticksCountSupported: true, angleDegreesSupported: this.ticksPerRotation !== undefined };
  }

  /** `{"set_speed": ticksPerMinute}` and/or `{"set_position": ticks}`; answers the resulting state. */
  async doCommand(command: JsonObject, _call: CallOptions): Promise<JsonObject> {
    const known = ["set_speed", "set_position"];
    const unknown = Object.keys(command).filter((k) => !known.includes(k));
    if (unknown.length > 0 || Object.keys(command).length === 0) {
      throw new NotSupportedError(`fake encoder command ${JSON.stringify(command)}`);
    }
    // Validate both before changing anything.
    const speed = command.set_speed === undefined ? undefined : finite("set_speed", command.set_speed);
    const position = command.set_position === undefined ? undefined : finite("set_position", command.set_position);
    if (speed !== undefined) this.setSpeed(speed);
    if (position !== undefined) this.setPosition(position);
    return { position_ticks: this.integrator.position(), speed_ticks_per_min: this.speed() };
  }

  async close(): Promise<void> {
    this.integrator.stop();
  }
}

export const fakeEncoderModel: Model<FakeEncoder> = {
  api: encoderApi,
  model: "rdk:builtin:fake",
  validate(attributes) {
    parseFakeEncoderConfig(attributes);
    return { required: [], optional: [] };
  },
  async build(ctx) {
    return new FakeEncoder(ctx.name, parseFakeEncoderConfig(ctx.attributes));
  },
};
