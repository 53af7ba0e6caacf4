// ServoService on a micro part, as the host's (host/components/servo/service.ts). Move makes the
// calling connection the servo's commander (firmware/runtime/safety.ts).
import {
  decodeGetPositionRequest,
  decodeIsMovingRequest,
  decodeMoveRequest,
  decodeStopRequest,
  encodeGetPositionResponse,
  encodeIsMovingResponse,
  encodeMoveResponse,
  encodeStopResponse,
} from "../../../proto/micro/gen/component/servo/v1/servo_micro.js";
import type { ServiceDefinition } from "../../rpc/dispatcher.js";
import { unary } from "../../rpc/method.js";
import type { Machine } from "../../runtime/machine.js";
import { servoApi } from "../../resource.js";
import { doCommand, getGeometries } from "../common.js";
import type { Servo } from "./servo.js";

export function servoService(machine: Machine): ServiceDefinition {
  const servo = (name: string) => machine.resource<Servo>(servoApi, name);
  return {
    name: "viam.component.servo.v1.ServoService",
    unary: {
      Move: unary(decodeMoveRequest, encodeMoveResponse, (req, ctx) => {
        const s = servo(req.name);
        ctx.commanded(s);
        s.move(req.angleDeg);
        return {};
      }),
      GetPosition: unary(decodeGetPositionRequest, encodeGetPositionResponse, (req) => ({ positionDeg: servo(req.name).position() })),
      Stop: unary(decodeStopRequest, encodeStopResponse, (req) => {
        servo(req.name).stop();
        return {};
      }),
      IsMoving: unary(decodeIsMovingRequest, encodeIsMovingResponse, (req) => ({ isMoving: servo(req.name).isMoving() })),
      DoCommand: doCommand(machine, servoApi),
      GetGeometries: getGeometries(machine, servoApi),
    },
  };
}
