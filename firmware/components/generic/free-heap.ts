// `free-heap`: the free heap in bytes, the example sensor micro-rdk ships
// (examples/modular-drivers/src/free_heap_sensor.rs). Registered as a sensor (readings
// {"bytes": n}, micro-rdk's key) and as a generic component (DoCommand answers {"bytes": n} to any
// command). The figure comes from the platform seam (firmware/platform/heap.ts).
import type { JsonObject, JsonValue } from "../../../proto/micro/runtime.js";
import { freeHeapBytes } from "../../platform/heap.js";
import { genericApi, sensorApi, type Model } from "../../resource.js";
import { unavailable } from "../../rpc/errors.js";
import type { Readable } from "../common.js";

export class FreeHeap implements Readable {
  readonly #read: () => number | undefined;

  constructor(read: () => number | undefined = freeHeapBytes) {
    this.#read = read;
  }

  bytes(): number {
    const n = this.#read();
    if (n === undefined) throw unavailable("free heap is not available in this build (no instrumentation)");
    return n;
  }

  readings(): Record<string, JsonValue> {
    return { bytes: this.bytes() };
  }

  doCommand(_command: JsonObject): JsonObject {
    return { bytes: this.bytes() };
  }
}

export const freeHeapSensorModel: Model<FreeHeap> = {
  api: sensorApi,
  model: "rdk:builtin:free-heap",
  validate: () => [],
  build: () => new FreeHeap(),
};

export const freeHeapGenericModel: Model<FreeHeap> = {
  api: genericApi,
  model: "rdk:builtin:free-heap",
  validate: () => [],
  build: () => new FreeHeap(),
};
