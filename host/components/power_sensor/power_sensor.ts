// The power sensor API: voltage, current and power, each flagged AC or DC.
import type { JsonValue } from "@bufbuild/protobuf";
import type { CallOptions, Resource } from "../../resource/resource.js";
import { componentApi } from "../../resource/name.js";

export const powerSensorApi = componentApi("power_sensor");

export interface PowerSensor extends Resource {
  voltage(call: CallOptions): Promise<{ volts: number; isAc: boolean }>;
  current(call: CallOptions): Promise<{ amperes: number; isAc: boolean }>;
  power(call: CallOptions): Promise<number>;
  readings(call: CallOptions): Promise<Record<string, JsonValue>>;
}
