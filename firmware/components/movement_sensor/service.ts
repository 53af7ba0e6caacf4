// MovementSensorService on a micro part, as the host's (host/components/movement_sensor/service.ts).
import {
  decodeGetAccuracyRequest,
  decodeGetAngularVelocityRequest,
  decodeGetCompassHeadingRequest,
  decodeGetLinearAccelerationRequest,
  decodeGetLinearVelocityRequest,
  decodeGetOrientationRequest,
  decodeGetPositionRequest,
  decodeGetPropertiesRequest,
  encodeGetAccuracyResponse,
  encodeGetAngularVelocityResponse,
  encodeGetCompassHeadingResponse,
  encodeGetLinearAccelerationResponse,
  encodeGetLinearVelocityResponse,
  encodeGetOrientationResponse,
  encodeGetPositionResponse,
  encodeGetPropertiesResponse,
} from "../../../proto/micro/gen/component/movementsensor/v1/movementsensor_micro.js";
import type { ServiceDefinition } from "../../rpc/dispatcher.js";
import { unary } from "../../rpc/method.js";
import type { Machine } from "../../runtime/machine.js";
import { movementSensorApi } from "../../resource.js";
import { doCommand, getGeometries, getReadings } from "../common.js";
import type { MovementSensor } from "./movement_sensor.js";

export function movementSensorService(machine: Machine): ServiceDefinition {
  const sensor = (name: string) => machine.resource<MovementSensor>(movementSensorApi, name);
  return {
    name: "viam.component.movementsensor.v1.MovementSensorService",
    unary: {
      GetLinearVelocity: unary(decodeGetLinearVelocityRequest, encodeGetLinearVelocityResponse, (req) => ({
        linearVelocity: sensor(req.name).linearVelocity(),
      })),
      GetAngularVelocity: unary(decodeGetAngularVelocityRequest, encodeGetAngularVelocityResponse, (req) => ({
        angularVelocity: sensor(req.name).angularVelocity(),
      })),
      GetCompassHeading: unary(decodeGetCompassHeadingRequest, encodeGetCompassHeadingResponse, (req) => ({
        value: sensor(req.name).compassHeading(),
      })),
      GetOrientation: unary(decodeGetOrientationRequest, encodeGetOrientationResponse, (req) => ({
        orientation: sensor(req.name).orientation(),
      })),
      GetPosition: unary(decodeGetPositionRequest, encodeGetPositionResponse, (req) => {
        const p = sensor(req.name).position();
        return { coordinate: { latitude: p.latitude, longitude: p.longitude }, altitudeM: p.altitudeM };
      }),
      GetProperties: unary(decodeGetPropertiesRequest, encodeGetPropertiesResponse, (req) => sensor(req.name).properties()),
      // Neither IMU knows its accuracy: an empty map, the optional fields left out (unknown).
      GetAccuracy: unary(decodeGetAccuracyRequest, encodeGetAccuracyResponse, (req) => {
        sensor(req.name);
        return { accuracy: {} };
      }),
      GetLinearAcceleration: unary(decodeGetLinearAccelerationRequest, encodeGetLinearAccelerationResponse, (req) => ({
        linearAcceleration: sensor(req.name).linearAcceleration(),
      })),
      GetReadings: getReadings(machine, movementSensorApi),
      DoCommand: doCommand(machine, movementSensorApi),
      GetGeometries: getGeometries(machine, movementSensorApi),
    },
  };
}
