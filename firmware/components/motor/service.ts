// MotorService on a micro part, as the host's (host/components/motor/service.ts). SetPower, GoFor,
// GoTo and SetRPM make the calling connection the motor's commander: the motor stops if that
// connection drops (firmware/runtime/safety.ts).
import {
  decodeGetPositionRequest,
  decodeGetPropertiesRequest,
  decodeGoForRequest,
  decodeGoToRequest,
  decodeIsMovingRequest,
  decodeIsPoweredRequest,
  decodeResetZeroPositionRequest,
  decodeSetPowerRequest,
  decodeSetRPMRequest,
  decodeStopRequest,
  encodeGetPositionResponse,
  encodeGetPropertiesResponse,
  encodeGoForResponse,
  encodeGoToResponse,
  encodeIsMovingResponse,
  encodeIsPoweredResponse,
  encodeResetZeroPositionResponse,
  encodeSetPowerResponse,
  encodeSetRPMResponse,
  encodeStopResponse,
} from "../../../proto/micro/gen/component/motor/v1/motor_micro.js";
import type { ServiceDefinition } from "../../rpc/dispatcher.js";
import { unary } from "../../rpc/method.js";
import type { Machine } from "../../runtime/machine.js";
import { motorApi } from "../../resource.js";
import { doCommand, getGeometries } from "../common.js";
import type { Motor } from "./motor.js";

export function motorService(machine: Machine): ServiceDefinition {
  const motor = (name: string) => machine.resource<Motor>(motorApi, name);
  return {
    name: "viam.component.motor.v1.MotorService",
    unary: {
      SetPower: unary(decodeSetPowerRequest, encodeSetPowerResponse, (req, ctx) => {
        const m = motor(req.name);
        ctx.commanded(m);
        m.setPower(req.powerPct);
        return {};
      }),
      GoFor: unary(decodeGoForRequest, encodeGoForResponse, (req, ctx) => {
        const m = motor(req.name);
        ctx.commanded(m);
        return m.goFor(req.rpm, req.revolutions, ctx.call).then(() => ({}));
      }),
      GoTo: unary(decodeGoToRequest, encodeGoToResponse, (req, ctx) => {
        const m = motor(req.name);
        ctx.commanded(m);
        return m.goTo(req.rpm, req.positionRevolutions, ctx.call).then(() => ({}));
      }),
      SetRPM: unary(decodeSetRPMRequest, encodeSetRPMResponse, (req, ctx) => {
        const m = motor(req.name);
        ctx.commanded(m);
        m.setRpm(req.rpm);
        return {};
      }),
      ResetZeroPosition: unary(decodeResetZeroPositionRequest, encodeResetZeroPositionResponse, (req) => {
        motor(req.name).resetZeroPosition(req.offset);
        return {};
      }),
      GetPosition: unary(decodeGetPositionRequest, encodeGetPositionResponse, (req) => ({ position: motor(req.name).position() })),
      GetProperties: unary(decodeGetPropertiesRequest, encodeGetPropertiesResponse, (req) => motor(req.name).properties()),
      Stop: unary(decodeStopRequest, encodeStopResponse, (req) => {
        motor(req.name).stop();
        return {};
      }),
      IsPowered: unary(decodeIsPoweredRequest, encodeIsPoweredResponse, (req) => motor(req.name).isPowered()),
      IsMoving: unary(decodeIsMovingRequest, encodeIsMovingResponse, (req) => ({ isMoving: motor(req.name).isMoving() })),
      DoCommand: doCommand(machine, motorApi),
      GetGeometries: getGeometries(machine, motorApi),
    },
  };
}
