// PowerSensorService on a micro part, as the host's (host/components/power_sensor/service.ts); the
// API has no GetGeometries.
import {
  decodeGetCurrentRequest,
  decodeGetPowerRequest,
  decodeGetVoltageRequest,
  encodeGetCurrentResponse,
  encodeGetPowerResponse,
  encodeGetVoltageResponse,
} from "../../../proto/micro/gen/component/powersensor/v1/powersensor_micro.js";
import type { ServiceDefinition } from "../../rpc/dispatcher.js";
import { unary } from "../../rpc/method.js";
import type { Machine } from "../../runtime/machine.js";
import { powerSensorApi } from "../../resource.js";
import { doCommand, getReadings } from "../common.js";
import type { PowerSensor } from "./ina.js";

export function powerSensorService(machine: Machine): ServiceDefinition {
  const sensor = (name: string) => machine.resource<PowerSensor>(powerSensorApi, name);
  return {
    name: "viam.component.powersensor.v1.PowerSensorService",
    unary: {
      GetVoltage: unary(decodeGetVoltageRequest, encodeGetVoltageResponse, (req) => sensor(req.name).voltage()),
      GetCurrent: unary(decodeGetCurrentRequest, encodeGetCurrentResponse, (req) => sensor(req.name).current()),
      GetPower: unary(decodeGetPowerRequest, encodeGetPowerResponse, (req) => ({ watts: sensor(req.name).power() })),
      GetReadings: getReadings(machine, powerSensorApi),
      DoCommand: doCommand(machine, powerSensorApi),
    },
  };
}
