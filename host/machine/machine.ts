// The running set of resources: builds each configured resource with its model, in dependency order,
// looks them up for the API services, and closes them dependents first.
// (The full resource graph with live reconfiguration replaces the simple ordering here.)
import type { JsonObject } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { apiString, resourceNameString, sameApi, type Api, type ResourceName } from "../resource/name.js";
import type { ModelRegistry, Dependencies } from "../resource/registry.js";
import { namedLogger } from "../log/logger.js";
import { internalCall, isActuator, type Resource } from "../resource/resource.js";

export interface MachineResourceConfig {
  readonly name: string;
  readonly api: Api;
  /** Full model triplet. */
  readonly model: string;
  readonly attributes: JsonObject;
  readonly dependsOn: readonly string[];
}

export type ResourceState = "unconfigured" | "configuring" | "ready" | "removing" | "unhealthy";

export interface ResourceEntry {
  readonly name: ResourceName;
  readonly config: MachineResourceConfig;
  state: ResourceState;
  error?: string;
  lastUpdated: Date;
  resource?: Resource;
}

/** Thrown for a lookup of a resource that is not on the machine; services answer NOT_FOUND. */
export class ResourceNotFoundError extends Error {
  constructor(readonly resourceName: ResourceName) {
    super(`resource "${resourceNameString(resourceName)}" not found`);
    this.name = "ResourceNotFoundError";
  }
}

/** Thrown for a resource that exists but failed to build; services answer UNAVAILABLE. */
export class ResourceUnavailableError extends Error {
  constructor(entry: ResourceEntry) {
    super(`resource "${resourceNameString(entry.name)}" is ${entry.state}${entry.error ? `: ${entry.error}` : ""}`);
    this.name = "ResourceUnavailableError";
  }
}

export class Machine {
  readonly #entries = new Map<string, ResourceEntry>();
  /** Build order, so close can run it backwards. */
  readonly #built: ResourceEntry[] = [];
  state: "initializing" | "running" = "initializing";
  revision = "";
  /** When the current config was taken in. */
  configuredAt = new Date();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly logger: Logger,
  ) {}

  /** Builds every resource; one that fails is recorded as unhealthy and never stops the others. */
  async start(configs: readonly MachineResourceConfig[], revision = ""): Promise<void> {
    this.revision = revision;
    this.configuredAt = new Date();
    for (const config of configs) {
      const name: ResourceName = { ...config.api, name: config.name };
      this.#entries.set(resourceNameString(name), { name, config, state: "unconfigured", lastUpdated: new Date() });
    }
    for (const entry of this.#buildOrder()) await this.#build(entry);
    this.state = "running";
  }

  entries(): ResourceEntry[] {
    return [...this.#entries.values()];
  }

  /** The resource for a call; throws ResourceNotFoundError or ResourceUnavailableError. */
  get<R extends Resource>(api: Api, name: string): R {
    const entry = this.#entries.get(resourceNameString({ ...api, name }));
    if (!entry) throw new ResourceNotFoundError({ ...api, name });
    if (entry.state !== "ready" || !entry.resource) throw new ResourceUnavailableError(entry);
    return entry.resource as R;
  }

  /**
   * Stops every actuator, with per-resource `extra` keyed by full resource name; collects failures
   * so one broken motor does not keep the others running.
   */
  async stopAll(extras: ReadonlyMap<string, JsonObject> = new Map()): Promise<void> {
    const failures: string[] = [];
    await Promise.all(
      this.#built.map(async (e) => {
        if (e.resource && isActuator(e.resource)) {
          try {
            await e.resource.stop({ ...internalCall(), extra: extras.get(resourceNameString(e.name)) ?? {} });
          } catch (err) {
            failures.push(`${resourceNameString(e.name)}: ${(err as Error).message}`);
          }
        }
      }),
    );
    if (failures.length > 0) throw new Error(`failed to stop: ${failures.join("; ")}`);
  }

  /** Closes resources in reverse build order, so dependents close before what they depend on. */
  async close(): Promise<void> {
    for (const entry of this.#built.reverse()) {
      entry.state = "removing";
      try {
        await entry.resource?.close();
      } catch (err) {
        this.logger.error({ err, resource: resourceNameString(entry.name) }, "close failed");
      }
    }
    this.#built.length = 0;
  }

  /** Depth-first order over depends_on and implicit dependencies; a cycle leaves its members unhealthy. */
  #buildOrder(): ResourceEntry[] {
    const order: ResourceEntry[] = [];
    const seen = new Set<ResourceEntry>();
    const visiting = new Set<ResourceEntry>();
    const visit = (e: ResourceEntry) => {
      if (seen.has(e)) return;
      if (visiting.has(e)) {
        e.state = "unhealthy";
        e.error = `circular dependency involving ${e.config.name}`;
        return;
      }
      visiting.add(e);
      for (const dep of this.#dependencyNames(e)) {
        const d = this.#findByShortName(dep);
        if (d) visit(d);
      }
      visiting.delete(e);
      seen.add(e);
      order.push(e);
    };
    for (const e of this.#entries.values()) visit(e);
    return order;
  }

  #dependencyNames(e: ResourceEntry): string[] {
    const model = this.registry.lookup(e.config.api, e.config.model);
    let implicit: string[] = [];
    try {
      implicit = model?.validate?.(e.config.attributes).required ?? [];
    } catch {
      // The build reports the validation error.
    }
    return [...e.config.dependsOn, ...implicit];
  }

  #findByShortName(name: string, api?: Api): ResourceEntry | undefined {
    for (const e of this.#entries.values()) if (e.name.name === name && (!api || sameApi(e.name, api))) return e;
    return undefined;
  }

  async #build(entry: ResourceEntry): Promise<void> {
    if (entry.state === "unhealthy") return;
    const { config } = entry;
    const model = this.registry.lookup(config.api, config.model);
    const fail = (message: string) => {
      entry.state = "unhealthy";
      entry.error = message;
      entry.lastUpdated = new Date();
      this.logger.error({ resource: resourceNameString(entry.name) }, message);
    };
    if (!model) return fail(`unknown resource type: API ${apiString(config.api)} with model ${config.model} not registered`);
    try {
      model.validate?.(config.attributes);
    } catch (err) {
      return fail(`invalid config for ${config.name}: ${(err as Error).message}`);
    }
    for (const dep of this.#dependencyNames(entry)) {
      const d = this.#findByShortName(dep);
      if (!d) return fail(`dependency "${dep}" of ${config.name} is not in the config`);
      if (d.state !== "ready") return fail(`dependency "${dep}" of ${config.name} is not ready`);
    }
    entry.state = "configuring";
    const deps: Dependencies = {
      get: <R extends Resource>(api: Api, name: string) => this.get<R>(api, name),
      find: <R extends Resource>(api: Api, name: string) => {
        const d = this.#findByShortName(name, api);
        return d?.state === "ready" ? (d.resource as R) : undefined;
      },
    };
    try {
      entry.resource = await model.build({
        name: config.name,
        attributes: config.attributes,
        dependencies: deps,
        logger: namedLogger(this.logger, `resource_manager.${resourceNameString(entry.name)}`),
      });
      entry.state = "ready";
      entry.error = undefined;
      entry.lastUpdated = new Date();
      this.#built.push(entry);
    } catch (err) {
      fail(`failed to build ${config.name}: ${(err as Error).message}`);
    }
  }
}
