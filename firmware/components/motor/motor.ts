// The motor API on a micro part, as the host's (host/components/motor/motor.ts): power is a
// fraction from -1 to 1, positions are in revolutions. GoFor and GoTo resolve when the move is
// done and reject CANCELLED when a newer command, Stop, or the caller's cancellation ends it.
import type { Actuator, Cancellable } from "../../resource.js";

export interface MotorProperties {
  positionReporting: boolean;
}

export interface Motor extends Actuator {
  setPower(powerPct: number): void;
  goFor(rpm: number, revolutions: number, call?: Cancellable): Promise<void>;
  goTo(rpm: number, positionRevolutions: number, call?: Cancellable): Promise<void>;
  setRpm(rpm: number): void;
  resetZeroPosition(offset: number): void;
  position(): number;
  properties(): MotorProperties;
  isPowered(): { isOn: boolean; powerPct: number };
}
