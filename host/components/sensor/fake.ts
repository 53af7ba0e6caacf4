// The `rdk:builtin:fake` sensor. rdk's fake answers the fixed readings {a: 1, b: 2, c: 3}; this one
// keeps those keys and adds values that change: a read counter, the seconds since it was built and
// a sine of that time, so clients can see fresh data arrive. DoCommand echoes the command.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { Model } from "../../resource/registry.js";
import type { CallOptions } from "../../resource/resource.js";
import { sensorApi, type Sensor } from "./sensor.js";

/** Period of the `sine` reading, in seconds. */
export const SINE_PERIOD_S = 10;

export class FakeSensor implements Sensor {
  readonly name: string;
  readonly #start = performance.now();
  #reads = 0;

  constructor(name: string) {
    this.name = name;
  }

  async readings(_call: CallOptions): Promise<Record<string, JsonValue>> {
    this.#reads += 1;
    const uptimeS = (performance.now() - this.#start) / 1000;
    return {
      a: 1,
      b: 2,
      c: 3,
      count: this.#reads,
      uptime_s: uptimeS,
      sine: Math.sin((2 * Math.PI * uptimeS) / SINE_PERIOD_S),
    };
  }

  async doCommand(command: JsonObject, _call: CallOptions): Promise<JsonObject> {
    return command;
  }

  async close(): Promise<void> {}
}

export const fakeSensorModel: Model<FakeSensor> = {
  api: sensorApi,
  model: "rdk:builtin:fake",
  validate() {
    return { required: [], optional: [] };
  },
  async build(ctx) {
    return new FakeSensor(ctx.name);
  },
};
