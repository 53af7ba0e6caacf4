// The base API: a mobile platform driven by distance and angle, or by power and velocity vectors.
// Distances are in millimetres, speeds in mm/s and degrees per second; powers are fractions -1..1.
import type { Actuator, CallOptions } from "../../resource/resource.js";
import { componentApi } from "../../resource/name.js";

export const baseApi = componentApi("base");

export interface Vector3 {
  x: number;
  y: number;
  z: number;
}

export interface BaseProperties {
  widthMeters: number;
  turningRadiusMeters: number;
  wheelCircumferenceMeters: number;
}

export interface Base extends Actuator {
  /** Drives `distanceMm` (negative: backwards) at `mmPerSec`; resolves when done, stopped or superseded. */
  moveStraight(distanceMm: number, mmPerSec: number, call: CallOptions): Promise<void>;
  /** Turns in place by `angleDeg` (positive: counter-clockwise, to the left) at `degsPerSec`. */
  spin(angleDeg: number, degsPerSec: number, call: CallOptions): Promise<void>;
  /** Runs at fractions of full power: linear.y forwards, angular.z turning left; all zero stops. */
  setPower(linear: Vector3, angular: Vector3, call: CallOptions): Promise<void>;
  /** Runs at linear.y mm/s and angular.z degrees per second until told otherwise; all zero stops. */
  setVelocity(linear: Vector3, angular: Vector3, call: CallOptions): Promise<void>;
  properties(call: CallOptions): Promise<BaseProperties>;
}

export const zeroVector: Readonly<Vector3> = Object.freeze({ x: 0, y: 0, z: 0 });
