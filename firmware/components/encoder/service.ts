// EncoderService on a micro part, as the host's (host/components/encoder/service.ts).
import {
  PositionType as WirePositionType,
  decodeGetPositionRequest,
  decodeGetPropertiesRequest,
  decodeResetPositionRequest,
  encodeGetPositionResponse,
  encodeGetPropertiesResponse,
  encodeResetPositionResponse,
} from "../../../proto/micro/gen/component/encoder/v1/encoder_micro.js";
import type { ServiceDefinition } from "../../rpc/dispatcher.js";
import { unary } from "../../rpc/method.js";
import type { Machine } from "../../runtime/machine.js";
import { encoderApi } from "../../resource.js";
import { doCommand, getGeometries } from "../common.js";
import type { Encoder, PositionType } from "./encoder.js";

/** An absent or unknown position type asks for the encoder's own default, as UNSPECIFIED does. */
function positionTypeFromWire(t: number | undefined): PositionType {
  if (t === WirePositionType.TICKS_COUNT) return "ticks";
  if (t === WirePositionType.ANGLE_DEGREES) return "degrees";
  return "unspecified";
}

function positionTypeToWire(t: PositionType): number {
  return t === "ticks" ? WirePositionType.TICKS_COUNT : t === "degrees" ? WirePositionType.ANGLE_DEGREES : WirePositionType.UNSPECIFIED;
}

export function encoderService(machine: Machine): ServiceDefinition {
  const encoder = (name: string) => machine.resource<Encoder>(encoderApi, name);
  return {
    name: "viam.component.encoder.v1.EncoderService",
    unary: {
      GetPosition: unary(decodeGetPositionRequest, encodeGetPositionResponse, (req) => {
        const p = encoder(req.name).position(positionTypeFromWire(req.positionType));
        return { value: p.value, positionType: positionTypeToWire(p.type) };
      }),
      ResetPosition: unary(decodeResetPositionRequest, encodeResetPositionResponse, (req) => {
        encoder(req.name).resetPosition();
        return {};
      }),
      GetProperties: unary(decodeGetPropertiesRequest, encodeGetPropertiesResponse, (req) => encoder(req.name).properties()),
      DoCommand: doCommand(machine, encoderApi),
      GetGeometries: getGeometries(machine, encoderApi),
    },
  };
}
