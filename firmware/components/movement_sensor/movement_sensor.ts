// The movement sensor API on a micro part, as the host's (host/components/movement_sensor/
// movement_sensor.ts). What a model cannot measure throws UNIMPLEMENTED, and properties say so.
import type { Readable } from "../common.js";

export interface Vector3 {
  x: number;
  y: number;
  z: number;
}

export interface MovementSensorProperties {
  linearVelocitySupported: boolean;
  angularVelocitySupported: boolean;
  orientationSupported: boolean;
  positionSupported: boolean;
  compassHeadingSupported: boolean;
  linearAccelerationSupported: boolean;
}

export interface MovementSensor extends Readable {
  properties(): MovementSensorProperties;
  /** °/s */
  angularVelocity(): Vector3;
  /** m/s² */
  linearAcceleration(): Vector3;
  linearVelocity(): Vector3;
  compassHeading(): number;
  orientation(): { oX: number; oY: number; oZ: number; theta: number };
  position(): { latitude: number; longitude: number; altitudeM: number };
}
