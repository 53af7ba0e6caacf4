// EncoderService on top of the Encoder interface.
import type { ServiceImpl } from "@connectrpc/connect";
import { EncoderService, PositionType as PbPositionType } from "../../../proto/gen/component/encoder/v1/encoder_pb.js";
import { guard } from "../../server/errors.js";
import { callOptions, doCommand, getGeometries, type ResourceLookup } from "../common.js";
import { encoderApi, type Encoder, type PositionType } from "./encoder.js";

/** An absent or unknown position type asks for the encoder's own default, as UNSPECIFIED does. */
function positionTypeFromWire(t: PbPositionType | undefined): PositionType {
  switch (t) {
    case PbPositionType.TICKS_COUNT:
      return "ticks";
    case PbPositionType.ANGLE_DEGREES:
      return "degrees";
    default:
      return "unspecified";
  }
}

function positionTypeToWire(t: PositionType): PbPositionType {
  switch (t) {
    case "ticks":
      return PbPositionType.TICKS_COUNT;
    case "degrees":
      return PbPositionType.ANGLE_DEGREES;
    case "unspecified":
      return PbPositionType.UNSPECIFIED;
  }
}

export function encoderService(lookup: ResourceLookup): ServiceImpl<typeof EncoderService> {
  const encoder = (name: string) => lookup.get<Encoder>(encoderApi, name);
  return {
    getPosition: (req, ctx) =>
      guard(async () => {
        const e = encoder(req.name);
        const p = await e.position(positionTypeFromWire(req.positionType), callOptions(ctx, req.extra));
        return { value: p.value, positionType: positionTypeToWire(p.type) };
      }),
    resetPosition: (req, ctx) =>
      guard(async () => {
        await encoder(req.name).resetPosition(callOptions(ctx, req.extra));
        return {};
      }),
    getProperties: (req, ctx) =>
      guard(async () => {
        const p = await encoder(req.name).properties(callOptions(ctx, req.extra));
        return { ticksCountSupported: p.ticksCountSupported, angleDegreesSupported: p.angleDegreesSupported };
      }),
    doCommand: doCommand(lookup, encoderApi),
    getGeometries: getGeometries(lookup, encoderApi),
  };
}

export { EncoderService };
