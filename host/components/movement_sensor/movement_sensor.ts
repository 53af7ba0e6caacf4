// The movement sensor API: velocities, orientation, heading, position and acceleration.
import type { JsonValue } from "@bufbuild/protobuf";
import type { CallOptions, Resource } from "../../resource/resource.js";
import { componentApi } from "../../resource/name.js";

export const movementSensorApi = componentApi("movement_sensor");

export interface Vector3 {
  x: number;
  y: number;
  z: number;
}

/** An orientation vector in degrees, as rdk's OrientationVectorDegrees. */
export interface Orientation {
  oX: number;
  oY: number;
  oZ: number;
  theta: number;
}

export interface GeoPosition {
  latitude: number;
  longitude: number;
  altitudeM: number;
}

export interface MovementSensorProperties {
  linearVelocitySupported: boolean;
  angularVelocitySupported: boolean;
  orientationSupported: boolean;
  positionSupported: boolean;
  compassHeadingSupported: boolean;
  linearAccelerationSupported: boolean;
}

export interface Accuracy {
  accuracy: Record<string, number>;
  positionHdop?: number;
  positionVdop?: number;
  positionNmeaGgaFix?: number;
  compassDegreesError?: number;
}

export interface MovementSensor extends Resource {
  linearVelocity(call: CallOptions): Promise<Vector3>;
  angularVelocity(call: CallOptions): Promise<Vector3>;
  compassHeading(call: CallOptions): Promise<number>;
  orientation(call: CallOptions): Promise<Orientation>;
  position(call: CallOptions): Promise<GeoPosition>;
  properties(call: CallOptions): Promise<MovementSensorProperties>;
  accuracy(call: CallOptions): Promise<Accuracy>;
  linearAcceleration(call: CallOptions): Promise<Vector3>;
  readings(call: CallOptions): Promise<Record<string, JsonValue>>;
}
