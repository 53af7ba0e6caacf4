// SensorService on a micro part, as the host's (host/components/sensor/service.ts).
import type { ServiceDefinition } from "../../rpc/dispatcher.js";
import type { Machine } from "../../runtime/machine.js";
import { sensorApi } from "../../resource.js";
import { doCommand, getGeometries, getReadings } from "../common.js";

export function sensorService(machine: Machine): ServiceDefinition {
  return {
    name: "viam.component.sensor.v1.SensorService",
    unary: {
      GetReadings: getReadings(machine, sensorApi),
      DoCommand: doCommand(machine, sensorApi),
      GetGeometries: getGeometries(machine, sensorApi),
    },
  };
}
