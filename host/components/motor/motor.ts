// The motor API. Power is a fraction from -1 to 1; positions are in revolutions.
import type { Actuator, CallOptions } from "../../resource/resource.js";
import { componentApi } from "../../resource/name.js";

export const motorApi = componentApi("motor");

export interface MotorProperties {
  positionReporting: boolean;
}

export interface Motor extends Actuator {
  setPower(powerPct: number, call: CallOptions): Promise<void>;
  /** Resolves when the motor has turned `revolutions` at `rpm` (or runs forever when revolutions is 0). */
  goFor(rpm: number, revolutions: number, call: CallOptions): Promise<void>;
  goTo(rpm: number, positionRevolutions: number, call: CallOptions): Promise<void>;
  setRpm(rpm: number, call: CallOptions): Promise<void>;
  resetZeroPosition(offset: number, call: CallOptions): Promise<void>;
  position(call: CallOptions): Promise<number>;
  properties(call: CallOptions): Promise<MotorProperties>;
  isPowered(call: CallOptions): Promise<{ isOn: boolean; powerPct: number }>;
}
