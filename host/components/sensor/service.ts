// SensorService on top of the Sensor interface.
import type { ServiceImpl } from "@connectrpc/connect";
import { SensorService } from "../../../proto/gen/component/sensor/v1/sensor_pb.js";
import { guard } from "../../server/errors.js";
import { callOptions, doCommand, getGeometries, toValueMap, type ResourceLookup } from "../common.js";
import { sensorApi, type Sensor } from "./sensor.js";

export function sensorService(lookup: ResourceLookup): ServiceImpl<typeof SensorService> {
  return {
    getReadings: (req, ctx) =>
      guard(async () => {
        const s = lookup.get<Sensor>(sensorApi, req.name);
        return { readings: toValueMap(await s.readings(callOptions(ctx, req.extra))) };
      }),
    doCommand: doCommand(lookup, sensorApi),
    getGeometries: getGeometries(lookup, sensorApi),
  };
}

export { SensorService };
