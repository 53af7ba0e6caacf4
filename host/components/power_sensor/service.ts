// PowerSensorService on top of the PowerSensor interface. The API has no GetGeometries.
import type { ServiceImpl } from "@connectrpc/connect";
import { PowerSensorService } from "../../../proto/gen/component/powersensor/v1/powersensor_pb.js";
import { guard } from "../../server/errors.js";
import { callOptions, doCommand, toValueMap, type ResourceLookup } from "../common.js";
import { powerSensorApi, type PowerSensor } from "./power_sensor.js";

export function powerSensorService(lookup: ResourceLookup): ServiceImpl<typeof PowerSensorService> {
  const sensor = (name: string) => lookup.get<PowerSensor>(powerSensorApi, name);
  return {
    getVoltage: (req, ctx) =>
      guard(async () => {
        const v = await sensor(req.name).voltage(callOptions(ctx, req.extra));
        return { volts: v.volts, isAc: v.isAc };
      }),
    getCurrent: (req, ctx) =>
      guard(async () => {
        const c = await sensor(req.name).current(callOptions(ctx, req.extra));
        return { amperes: c.amperes, isAc: c.isAc };
      }),
    getPower: (req, ctx) => guard(async () => ({ watts: await sensor(req.name).power(callOptions(ctx, req.extra)) })),
    getReadings: (req, ctx) =>
      guard(async () => ({ readings: toValueMap(await sensor(req.name).readings(callOptions(ctx, req.extra))) })),
    doCommand: doCommand(lookup, powerSensorApi),
  };
}

export { PowerSensorService };
