// The sensor API: a resource that reports named readings.
import type { JsonValue } from "@bufbuild/protobuf";
import type { CallOptions, Resource } from "../../resource/resource.js";
import { componentApi } from "../../resource/name.js";

export const sensorApi = componentApi("sensor");

export interface Sensor extends Resource {
  readings(call: CallOptions): Promise<Record<string, JsonValue>>;
}

