// The servo API on a micro part, as the host's (host/components/servo/servo.ts): whole degrees.
import type { Actuator } from "../../resource.js";

export interface Servo extends Actuator {
  move(angleDeg: number): void;
  position(): number;
}
