// The `rdk:builtin:fake` generic component, as rdk's: DoCommand echoes the command back.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Model } from "../../resource/registry.js";
import type { CallOptions } from "../../resource/resource.js";
import { genericApi, type Generic } from "./generic.js";

export class FakeGeneric implements Generic {
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  async doCommand(command: JsonObject, _call: CallOptions): Promise<JsonObject> {
    return command;
  }

  async close(): Promise<void> {}
}

export const fakeGenericModel: Model<FakeGeneric> = {
  api: genericApi,
  model: "rdk:builtin:fake",
  validate() {
    return { required: [], optional: [] };
  },
  async build(ctx) {
    return new FakeGeneric(ctx.name);
  },
};
