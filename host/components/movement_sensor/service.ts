// MovementSensorService on top of the MovementSensor interface.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  MovementSensorService,
  type GetAccuracyResponseSchema,
} from "../../../proto/gen/component/movementsensor/v1/movementsensor_pb.js";
import { guard } from "../../server/errors.js";
import { callOptions, doCommand, getGeometries, toValueMap, type ResourceLookup } from "../common.js";
import { movementSensorApi, type Accuracy, type MovementSensor, type Vector3 } from "./movement_sensor.js";

const vector = (v: Vector3) => ({ x: v.x, y: v.y, z: v.z });

/** position_nmea_gga_fix is an int32 on the wire. */
function ggaFix(fix: number): number {
  const n = Math.round(fix);
  if (!Number.isFinite(n) || n < -(2 ** 31) || n > 2 ** 31 - 1) {
    throw new ConnectError(`NMEA GGA fix ${fix} does not fit in an int32`, Code.Internal);
  }
  return n;
}

/** The optional fields are set only when the model reports them, so clients can tell "unknown" from 0. */
function accuracyToWire(a: Accuracy): MessageInitShape<typeof GetAccuracyResponseSchema> {
  const out: MessageInitShape<typeof GetAccuracyResponseSchema> = { accuracy: { ...a.accuracy } };
  if (a.positionHdop !== undefined) out.positionHdop = a.positionHdop;
  if (a.positionVdop !== undefined) out.positionVdop = a.positionVdop;
  if (a.positionNmeaGgaFix !== undefined) out.positionNmeaGgaFix = ggaFix(a.positionNmeaGgaFix);
  if (a.compassDegreesError !== undefined) out.compassDegreesError = a.compassDegreesError;
  return out;
}

export function movementSensorService(lookup: ResourceLookup): ServiceImpl<typeof MovementSensorService> {
  const sensor = (name: string) => lookup.get<MovementSensor>(movementSensorApi, name);
  return {
    getLinearVelocity: (req, ctx) =>
      guard(async () => ({ linearVelocity: vector(await sensor(req.name).linearVelocity(callOptions(ctx, req.extra))) })),
    getAngularVelocity: (req, ctx) =>
      guard(async () => ({ angularVelocity: vector(await sensor(req.name).angularVelocity(callOptions(ctx, req.extra))) })),
    getCompassHeading: (req, ctx) =>
      guard(async () => ({ value: await sensor(req.name).compassHeading(callOptions(ctx, req.extra)) })),
    getOrientation: (req, ctx) =>
      guard(async () => {
        const o = await sensor(req.name).orientation(callOptions(ctx, req.extra));
        return { orientation: { oX: o.oX, oY: o.oY, oZ: o.oZ, theta: o.theta } };
      }),
    getPosition: (req, ctx) =>
      guard(async () => {
        const p = await sensor(req.name).position(callOptions(ctx, req.extra));
        return { coordinate: { latitude: p.latitude, longitude: p.longitude }, altitudeM: p.altitudeM };
      }),
    getProperties: (req, ctx) =>
      guard(async () => {
        const p = await sensor(req.name).properties(callOptions(ctx, req.extra));
        return {
          linearVelocitySupported: p.linearVelocitySupported,
          angularVelocitySupported: p.angularVelocitySupported,
          orientationSupported: p.orientationSupported,
          positionSupported: p.positionSupported,
          compassHeadingSupported: p.compassHeadingSupported,
          linearAccelerationSupported: p.linearAccelerationSupported,
        };
      }),
    getAccuracy: (req, ctx) =>
      guard(async () => accuracyToWire(await sensor(req.name).accuracy(callOptions(ctx, req.extra)))),
    getLinearAcceleration: (req, ctx) =>
      guard(async () => ({
        linearAcceleration: vector(await sensor(req.name).linearAcceleration(callOptions(ctx, req.extra))),
      })),
    getReadings: (req, ctx) =>
      guard(async () => ({ readings: toValueMap(await sensor(req.name).readings(callOptions(ctx, req.extra))) })),
    doCommand: doCommand(lookup, movementSensorApi),
    getGeometries: getGeometries(lookup, movementSensorApi),
  };
}

export { MovementSensorService };
