// The `rdk:builtin:fake` movement sensor, with rdk's fake values: a GPS fix in Manhattan, a compass
// heading of 25°, fixed velocities and acceleration, the zero orientation, and every property
// supported. Readings carry the same values in the shapes rdk's GetReadings puts on the wire
// (`_type`-tagged Structs: geopoint, vector3, angular_velocity, orientation_vector_degrees).
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { Model } from "../../resource/registry.js";
import type { CallOptions } from "../../resource/resource.js";
import {
  movementSensorApi,
  type Accuracy,
  type GeoPosition,
  type MovementSensor,
  type MovementSensorProperties,
  type Orientation,
  type Vector3,
} from "./movement_sensor.js";

export const FAKE_POSITION: Readonly<GeoPosition> = { latitude: 40.7, longitude: -73.98, altitudeM: 50.5 };
export const FAKE_LINEAR_VELOCITY: Readonly<Vector3> = { x: 0, y: 5.4, z: 0 };
export const FAKE_LINEAR_ACCELERATION: Readonly<Vector3> = { x: 2.2, y: 4.5, z: 2 };
export const FAKE_ANGULAR_VELOCITY: Readonly<Vector3> = { x: 0, y: 0, z: 1 };
export const FAKE_COMPASS_HEADING = 25;
export const FAKE_ORIENTATION: Readonly<Orientation> = { oX: 0, oY: 0, oZ: 1, theta: 0 };

export class FakeMovementSensor implements MovementSensor {
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  async linearVelocity(_call: CallOptions): Promise<Vector3> {
    return { ...FAKE_LINEAR_VELOCITY };
  }

  async angularVelocity(_call: CallOptions): Promise<Vector3> {
    return { ...FAKE_ANGULAR_VELOCITY };
  }

  async compassHeading(_call: CallOptions): Promise<number> {
    return FAKE_COMPASS_HEADING;
  }

  async orientation(_call: CallOptions): Promise<Orientation> {
    return { ...FAKE_ORIENTATION };
  }

  async position(_call: CallOptions): Promise<GeoPosition> {
    return { ...FAKE_POSITION };
  }

  async properties(_call: CallOptions): Promise<MovementSensorProperties> {
    return {
      linearVelocitySupported: true,
      angularVelocitySupported: true,
      orientationSupported: true,
      positionSupported: true,
      compassHeadingSupported: true,
      linearAccelerationSupported: true,
    };
  }

  async accuracy(_call: CallOptions): Promise<Accuracy> {
    // rdk's fake: an RTK-fixed GPS (NMEA GGA fix 4) with no reported errors.
    return { accuracy: {}, positionHdop: 0, positionVdop: 0, positionNmeaGgaFix: 4, compassDegreesError: 0 };
  }

  async linearAcceleration(_call: CallOptions): Promise<Vector3> {
    return { ...FAKE_LINEAR_ACCELERATION };
  }

  async readings(call: CallOptions): Promise<Record<string, JsonValue>> {
    const [pos, lv, la, av, compass, o] = await Promise.all([
      this.position(call),
      this.linearVelocity(call),
      this.linearAcceleration(call),
      this.angularVelocity(call),
      this.compassHeading(call),
      this.orientation(call),
    ]);
    return {
      position: { lat: pos.latitude, lng: pos.longitude, _type: "geopoint" },
      altitude: pos.altitudeM,
      linear_velocity: { x: lv.x, y: lv.y, z: lv.z, _type: "vector3" },
      linear_acceleration: { x: la.x, y: la.y, z: la.z, _type: "vector3" },
      angular_velocity: { x: av.x, y: av.y, z: av.z, _type: "angular_velocity" },
      compass,
      orientation: { ox: o.oX, oy: o.oY, oz: o.oZ, theta: o.theta, _type: "orientation_vector_degrees" },
    };
  }

  /** rdk's fake answers every command with an empty map. */
  async doCommand(_command: JsonObject, _call: CallOptions): Promise<JsonObject> {
    return {};
  }

  async close(): Promise<void> {}
}

export const fakeMovementSensorModel: Model<FakeMovementSensor> = {
  api: movementSensorApi,
  model: "rdk:builtin:fake",
  validate() {
    return { required: [], optional: [] };
  },
  async build(ctx) {
    return new FakeMovementSensor(ctx.name);
  },
};
