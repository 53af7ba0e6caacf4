// The `rdk:builtin:fake` power sensor. rdk's fake answers fixed numbers (1.5 V, 2.2 A, 9.8 W) that
// don't agree with each other; this one simulates a DC supply around 12 V drawing around 1.5 A,
// drifting slowly over time, with power always volts × amperes at the moment of the reading.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { Model } from "../../resource/registry.js";
import type { CallOptions } from "../../resource/resource.js";
import { powerSensorApi, type PowerSensor } from "./power_sensor.js";

export const NOMINAL_VOLTS = 12;
export const NOMINAL_AMPS = 1.5;

export class FakePowerSensor implements PowerSensor {
  readonly name: string;
  readonly #start = performance.now();

  constructor(name: string) {
    this.name = name;
  }

  /** Volts and amperes at time `t` (performance.now() ms): small sines around the nominal values. */
  sample(t: number = performance.now()): { volts: number; amperes: number; watts: number } {
    const s = (t - this.#start) / 1000;
    const volts = NOMINAL_VOLTS + 0.1 * Math.sin((2 * Math.PI * s) / 7) + 0.002 * Math.sin(2 * Math.PI * s);
    const amperes = NOMINAL_AMPS + 0.2 * Math.sin((2 * Math.PI * s) / 3 + 1) + 0.001 * Math.sin(2 * Math.PI * s * 1.7);
    return { volts, amperes, watts: volts * amperes };
  }

  async voltage(_call: CallOptions): Promise<{ volts: number; isAc: boolean }> {
    return { volts: this.sample().volts, isAc: false };
  }

  async current(_call: CallOptions): Promise<{ amperes: number; isAc: boolean }> {
    return { amperes: this.sample().amperes, isAc: false };
  }

  async power(_call: CallOptions): Promise<number> {
    return this.sample().watts;
  }

  async readings(_call: CallOptions): Promise<Record<string, JsonValue>> {
    const { volts, amperes, watts } = this.sample();
    return { volts, amps: amperes, is_ac: false, watts };
  }

  /** rdk's fake answers every command with an empty map. */
  async doCommand(_command: JsonObject, _call: CallOptions): Promise<JsonObject> {
    return {};
  }

  async close(): Promise<void> {}
}

export const fakePowerSensorModel: Model<FakePowerSensor> = {
  api: powerSensorApi,
  model: "rdk:builtin:fake",
  validate() {
    return { required: [], optional: [] };
  },
  async build(ctx) {
    return new FakePowerSensor(ctx.name);
  },
};
