// Models by API and model triplet. A registry is built explicitly (see host/models.ts) and passed
// to the machine, so tests can add their own models without touching a global.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { apiString, type Api } from "./name.js";
import type { Resource } from "./resource.js";

/** Dependencies a model declared, already built, looked up by short name. */
export interface Dependencies {
  get<R extends Resource>(api: Api, name: string): R;
  /** Like get, but undefined when the optional dependency is absent or failed. */
  find<R extends Resource>(api: Api, name: string): R | undefined;
}

export interface ModelContext {
  readonly name: string;
  readonly attributes: JsonObject;
  readonly dependencies: Dependencies;
  readonly logger: Logger;
  /**
   * Aborted when the machine gives up on this build (the configuration timeout, or shutdown). A
   * model that ignores it still has its late result closed.
   */
  readonly signal?: AbortSignal;
}

/** What a model's attribute check finds: the resources it needs, by short name. */
export interface ImplicitDependencies {
  required: string[];
  optional: string[];
}

export interface Model<R extends Resource = Resource> {
  readonly api: Api;
  /** Full model triplet, e.g. `rdk:builtin:fake`. */
  readonly model: string;
  /** Checks attributes and names implicit dependencies; throws an Error naming the bad attribute. */
  validate?(attributes: JsonObject): ImplicitDependencies;
  build(ctx: ModelContext): Promise<R>;
}

export class ModelRegistry {
  readonly #models = new Map<string, Model>();

  register<R extends Resource>(model: Model<R>): this {
    const key = `${apiString(model.api)}/${model.model}`;
    if (this.#models.has(key)) throw new Error(`model ${model.model} is already registered for ${apiString(model.api)}`);
    this.#models.set(key, model as unknown as Model);
    return this;
  }

  lookup(api: Api, model: string): Model | undefined {
    return this.#models.get(`${apiString(api)}/${model}`);
  }

  /** Every registered (api, model) pair, for diagnostics. */
  list(): Model[] {
    return [...this.#models.values()];
  }
}
