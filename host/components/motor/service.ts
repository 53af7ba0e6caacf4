// MotorService on top of the Motor interface.
import type { ServiceImpl } from "@connectrpc/connect";
import { MotorService } from "../../../proto/gen/component/motor/v1/motor_pb.js";
import { guard } from "../../server/errors.js";
import { callOptions, doCommand, getGeometries, type ResourceLookup } from "../common.js";
import { motorApi, type Motor } from "./motor.js";

export function motorService(lookup: ResourceLookup): ServiceImpl<typeof MotorService> {
  const motor = (name: string) => lookup.get<Motor>(motorApi, name);
  return {
    setPower: (req, ctx) =>
      guard(async () => {
        await motor(req.name).setPower(req.powerPct, callOptions(ctx, req.extra));
        return {};
      }),
    goFor: (req, ctx) =>
      guard(async () => {
        await motor(req.name).goFor(req.rpm, req.revolutions, callOptions(ctx, req.extra));
        return {};
      }),
    goTo: (req, ctx) =>
      guard(async () => {
        await motor(req.name).goTo(req.rpm, req.positionRevolutions, callOptions(ctx, req.extra));
        return {};
      }),
    setRPM: (req, ctx) =>
      guard(async () => {
        await motor(req.name).setRpm(req.rpm, callOptions(ctx, req.extra));
        return {};
      }),
    resetZeroPosition: (req, ctx) =>
      guard(async () => {
        await motor(req.name).resetZeroPosition(req.offset, callOptions(ctx, req.extra));
        return {};
      }),
    getPosition: (req, ctx) =>
      guard(async () => ({ position: await motor(req.name).position(callOptions(ctx, req.extra)) })),
    getProperties: (req, ctx) =>
      guard(async () => {
        const p = await motor(req.name).properties(callOptions(ctx, req.extra));
        return { positionReporting: p.positionReporting };
      }),
    stop: (req, ctx) =>
      guard(async () => {
        await motor(req.name).stop(callOptions(ctx, req.extra));
        return {};
      }),
    isPowered: (req, ctx) =>
      guard(async () => {
        const p = await motor(req.name).isPowered(callOptions(ctx, req.extra));
        return { isOn: p.isOn, powerPct: p.powerPct };
      }),
    // IsMovingRequest has no extra; the interface's isMoving takes no call options.
    isMoving: (req) => guard(async () => ({ isMoving: await motor(req.name).isMoving() })),
    doCommand: doCommand(lookup, motorApi),
    getGeometries: getGeometries(lookup, motorApi),
  };
}

export { MotorService };
