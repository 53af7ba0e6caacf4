// The servo API: move to an angle in whole degrees.
import type { Actuator, CallOptions } from "../../resource/resource.js";
import { componentApi } from "../../resource/name.js";

export const servoApi = componentApi("servo");

export interface Servo extends Actuator {
  move(angleDeg: number, call: CallOptions): Promise<void>;
  position(call: CallOptions): Promise<number>;
}
