// The `rdk:builtin:fake` servo, as rdk's: Move stores a whole-degree angle (0 to 180) that Position
// answers; the move is instant, so it is never moving and Stop has nothing to do.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Model } from "../../resource/registry.js";
import type { CallOptions } from "../../resource/resource.js";
import { servoApi, type Servo } from "./servo.js";

export const SERVO_MIN_DEG = 0;
export const SERVO_MAX_DEG = 180;

export class FakeServo implements Servo {
  readonly name: string;
  #angle = 0;

  constructor(name: string) {
    this.name = name;
  }

  async move(angleDeg: number, call: CallOptions): Promise<void> {
    if (typeof angleDeg !== "number" || !Number.isInteger(angleDeg) || angleDeg < SERVO_MIN_DEG || angleDeg > SERVO_MAX_DEG) {
      throw new Error(
        `servo ${this.name} angle must be a whole number of degrees from ${SERVO_MIN_DEG} to ${SERVO_MAX_DEG}, got ${angleDeg}`,
      );
    }
    call.signal.throwIfAborted();
    this.#angle = angleDeg;
  }

  async position(_call: CallOptions): Promise<number> {
    return this.#angle;
  }

  async stop(_call: CallOptions): Promise<void> {}

  async isMoving(): Promise<boolean> {
    return false;
  }

  async doCommand(command: JsonObject, _call: CallOptions): Promise<JsonObject> {
    return command;
  }

  async close(): Promise<void> {}
}

export const fakeServoModel: Model<FakeServo> = {
  api: servoApi,
  model: "rdk:builtin:fake",
  validate() {
    return { required: [], optional: [] };
  },
  async build(ctx) {
    return new FakeServo(ctx.name);
  },
};
