// ServoService on top of the Servo interface. Angles are whole degrees (uint32) on the wire.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { ServoService } from "../../../proto/gen/component/servo/v1/servo_pb.js";
import { guard } from "../../server/errors.js";
import { callOptions, doCommand, getGeometries, type ResourceLookup } from "../common.js";
import { servoApi, type Servo } from "./servo.js";

const UINT32_MAX = 2 ** 32 - 1;

/** A model's angle for the uint32 position_deg, rounded; one the field cannot carry is the model's fault. */
function degreesToWire(deg: number): number {
  const n = Math.round(deg);
  if (!Number.isFinite(n) || n < 0 || n > UINT32_MAX) {
    throw new ConnectError(`servo position ${deg} does not fit in a uint32`, Code.Internal);
  }
  return n;
}

export function servoService(lookup: ResourceLookup): ServiceImpl<typeof ServoService> {
  const servo = (name: string) => lookup.get<Servo>(servoApi, name);
  return {
    move: (req, ctx) =>
      guard(async () => {
        await servo(req.name).move(req.angleDeg, callOptions(ctx, req.extra));
        return {};
      }),
    getPosition: (req, ctx) =>
      guard(async () => ({ positionDeg: degreesToWire(await servo(req.name).position(callOptions(ctx, req.extra))) })),
    stop: (req, ctx) =>
      guard(async () => {
        await servo(req.name).stop(callOptions(ctx, req.extra));
        return {};
      }),
    // IsMovingRequest has no extra; the interface's isMoving takes no call options.
    isMoving: (req) => guard(async () => ({ isMoving: await servo(req.name).isMoving() })),
    doCommand: doCommand(lookup, servoApi),
    getGeometries: getGeometries(lookup, servoApi),
  };
}

export { ServoService };
