// BaseService on top of the Base interface.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { Vector3 as PbVector3 } from "../../../proto/gen/common/v1/common_pb.js";
import { BaseService } from "../../../proto/gen/component/base/v1/base_pb.js";
import { guard } from "../../server/errors.js";
import { callOptions, doCommand, getGeometries, type ResourceLookup } from "../common.js";
import { baseApi, type Base, type Vector3 } from "./base.js";

/** distance_mm is an int64; the models take a number, exact up to 2^53 mm (far beyond any base). */
function distanceFromWire(mm: bigint): number {
  if (mm > BigInt(Number.MAX_SAFE_INTEGER) || mm < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ConnectError(`distance_mm ${mm} is too large (at most ±${Number.MAX_SAFE_INTEGER})`, Code.InvalidArgument);
  }
  return Number(mm);
}

/** An absent vector is all zeros, as Go's generated getters answer. */
function vectorFromWire(v: PbVector3 | undefined): Vector3 {
  return { x: v?.x ?? 0, y: v?.y ?? 0, z: v?.z ?? 0 };
}

export function baseService(lookup: ResourceLookup): ServiceImpl<typeof BaseService> {
  const base = (name: string) => lookup.get<Base>(baseApi, name);
  return {
    moveStraight: (req, ctx) =>
      guard(async () => {
        const b = base(req.name);
        await b.moveStraight(distanceFromWire(req.distanceMm), req.mmPerSec, callOptions(ctx, req.extra));
        return {};
      }),
    spin: (req, ctx) =>
      guard(async () => {
        await base(req.name).spin(req.angleDeg, req.degsPerSec, callOptions(ctx, req.extra));
        return {};
      }),
    setPower: (req, ctx) =>
      guard(async () => {
        const b = base(req.name);
        await b.setPower(vectorFromWire(req.linear), vectorFromWire(req.angular), callOptions(ctx, req.extra));
        return {};
      }),
    setVelocity: (req, ctx) =>
      guard(async () => {
        const b = base(req.name);
        await b.setVelocity(vectorFromWire(req.linear), vectorFromWire(req.angular), callOptions(ctx, req.extra));
        return {};
      }),
    stop: (req, ctx) =>
      guard(async () => {
        await base(req.name).stop(callOptions(ctx, req.extra));
        return {};
      }),
    // IsMovingRequest has no extra; the interface's isMoving takes no call options.
    isMoving: (req) => guard(async () => ({ isMoving: await base(req.name).isMoving() })),
    getProperties: (req, ctx) =>
      guard(async () => {
        const p = await base(req.name).properties(callOptions(ctx, req.extra));
        return {
          widthMeters: p.widthMeters,
          turningRadiusMeters: p.turningRadiusMeters,
          wheelCircumferenceMeters: p.wheelCircumferenceMeters,
        };
      }),
    doCommand: doCommand(lookup, baseApi),
    getGeometries: getGeometries(lookup, baseApi),
  };
}

export { BaseService };
