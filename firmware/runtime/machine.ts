// The resources of a micro part: built from a config in dependency order, looked up by API and
// name, reported with their states, stopped, and replaced when a new config arrives.
//
// States follow viam-server's (GetMachineStatus): configuring → ready, or unhealthy with the
// error that stopped the build (a sensor not answering on its bus, a pin in use, a dependency
// missing or unhealthy). A resource that fails does not stop the others. Building goes round the
// list until nothing more can be built, as micro-rdk's round-robin does; closing goes in reverse
// build order, so dependents close before what they depend on.
import { ChannelError, Code } from "../../proto/channel/frames.js";
import { Attributes, ConfigError } from "../config/attributes.js";
import { apiString, type ComponentConfig, type MachineConfig } from "../config/schema.js";
import { errorText, log } from "../log.js";
import type { IO } from "../platform/io.js";
import { isActuator, resourceNameString, sameApi, type Api, type Model, type Resource, type ResourceName } from "../resource.js";
import { Safety } from "./safety.js";

export type ResourceState = "configuring" | "ready" | "unhealthy";

export interface Entry {
  readonly name: ResourceName;
  readonly config: ComponentConfig;
  state: ResourceState;
  error: string | undefined;
  resource: Resource | undefined;
  /** Milliseconds since 1970 of the last state change. */
  lastUpdated: number;
  /** The config revision that built it. */
  revision: string;
  /** Names (api:…/name) this entry waits for. */
  readonly dependencies: { api: Api; name: string }[];
}

function key(api: Api, name: string): string {
  return apiString(api) + "/" + name;
}

/** rdk's text for dependencies no resource answers to (host/machine/machine.ts has the same). */
export function unresolvedDependenciesText(names: readonly string[]): string {
  return "resource has unresolved dependencies not found in machine config or connected remotes: [" + names.join(" ") + "]";
}

/** Finds each component's model and checks its attributes; throws ConfigError naming the problem. */
export function validateConfig(config: MachineConfig, models: readonly Model[]): Map<ComponentConfig, { model: Model; dependencies: { api: Api; name: string }[] }> {
  const out = new Map<ComponentConfig, { model: Model; dependencies: { api: Api; name: string }[] }>();
  const all = config.components.map((c) => ({ name: c.name, api: c.api }));
  for (const c of config.components) {
    const model = models.find((m) => sameApi(m.api, c.api) && m.model === c.model);
    if (model === undefined) {
      const known = models.filter((m) => sameApi(m.api, c.api)).map((m) => m.model);
      throw new ConfigError(
        c.path + "unknown model " + JSON.stringify(c.model) + " for " + apiString(c.api) +
          (known.length > 0 ? " (this part has " + known.join(", ") + ")" : " (this part has no models for that API)"),
      );
    }
    let dependencies: { api: Api; name: string }[];
    try {
      dependencies = model.validate(new Attributes(c.attributes), all);
    } catch (error) {
      if (error instanceof ConfigError) throw new ConfigError(c.path + error.message);
      throw error;
    }
    for (const d of c.dependsOn) {
      if (!dependencies.some((x) => x.name === d)) {
        const target = all.find((x) => x.name === d);
        // depends_on names a component by name only; an unknown name stays unresolved at build time.
        dependencies.push(target ?? { api: { namespace: "rdk", type: "component", subtype: "*" }, name: d });
      }
    }
    out.set(c, { model, dependencies });
  }
  return out;
}

export class Machine {
  readonly safety = new Safety();
  readonly #io: IO;
  readonly #models: readonly Model[];
  #entries: Entry[] = [];
  /** Build order of the entries that were built, for closing in reverse. */
  #built: Entry[] = [];
  #revision = "";
  #configuredAt = Date.now();
  #state: "initializing" | "running" = "initializing";

  constructor(io: IO, models: readonly Model[]) {
    this.#io = io;
    this.#models = models;
  }

  get models(): readonly Model[] {
    return this.#models;
  }

  get state(): "initializing" | "running" {
    return this.#state;
  }

  get revision(): string {
    return this.#revision;
  }

  get configuredAt(): number {
    return this.#configuredAt;
  }

  entries(): readonly Entry[] {
    return this.#entries;
  }

  /** The ready resource of that API and name; NOT_FOUND or UNAVAILABLE (with the reason) otherwise. */
  resource<R extends Resource>(api: Api, name: string): R {
    const k = key(api, name);
    for (const e of this.#entries) {
      if (key(e.name, e.name.name) !== k) continue;
      if (e.state === "ready" && e.resource !== undefined) return e.resource as R;
      throw new ChannelError(Code.UNAVAILABLE, 'resource "' + resourceNameString(e.name) + '" is ' + e.state + (e.error ? ": " + e.error : ""));
    }
    throw new ChannelError(Code.NOT_FOUND, 'resource "' + apiString(api) + "/" + name + '" not found');
  }

  /**
   * Closes every resource and builds the config's (validated beforehand with validateConfig).
   * Build failures are recorded per resource, never thrown.
   */
  apply(config: MachineConfig, revision: string): void {
    const plan = validateConfig(config, this.#models);
    this.#state = "initializing";
    this.closeResources();
    this.#revision = revision;
    this.#configuredAt = Date.now();
    const now = Date.now();
    this.#entries = config.components.map((c) => ({
      name: { namespace: c.api.namespace, type: c.api.type, subtype: c.api.subtype, name: c.name },
      config: c,
      state: "configuring" as ResourceState,
      error: undefined,
      resource: undefined,
      lastUpdated: now,
      revision,
      dependencies: plan.get(c)?.dependencies ?? [],
    }));
    this.#build(plan);
    this.#state = "running";
  }

  #find(api: Api, name: string): Entry | undefined {
    for (const e of this.#entries) {
      if (e.name.name === name && (api.subtype === "*" || sameApi(e.name, api))) return e;
    }
    return undefined;
  }

  #build(plan: Map<ComponentConfig, { model: Model }>): void {
    let pending = this.#entries.slice();
    for (let pass = 0; pending.length > 0 && pass <= this.#entries.length; pass++) {
      const next: Entry[] = [];
      for (const e of pending) {
        const missing: string[] = [];
        let failed: Entry | undefined;
        let waiting = false;
        for (const d of e.dependencies) {
          const dep = this.#find(d.api, d.name);
          if (dep === undefined) missing.push(d.api.subtype === "*" ? d.name : key(d.api, d.name));
          else if (dep.state === "unhealthy") failed = dep;
          else if (dep.state !== "ready") waiting = true;
        }
        if (missing.length > 0) this.#fail(e, unresolvedDependenciesText(missing));
        else if (failed !== undefined) this.#fail(e, 'dependency "' + resourceNameString(failed.name) + '" is unhealthy: ' + (failed.error ?? ""));
        else if (waiting) next.push(e);
        else this.#construct(e, plan.get(e.config)?.model);
      }
      if (next.length === pending.length) {
        for (const e of next) this.#fail(e, "circular dependency between " + next.map((x) => resourceNameString(x.name)).join(", "));
        return;
      }
      pending = next;
    }
  }

  #construct(e: Entry, model: Model | undefined): void {
    if (model === undefined) return this.#fail(e, "no model");
    try {
      const resource = model.build({
        name: e.name,
        attributes: new Attributes(e.config.attributes),
        io: this.#io,
        dependencies: e.dependencies,
        dependency: <R extends Resource>(api: Api, name: string): R => {
          const dep = this.#find(api, name);
          if (dep === undefined || dep.resource === undefined) throw new Error("dependency " + key(api, name) + " is not built");
          return dep.resource as R;
        },
      });
      e.resource = resource;
      e.state = "ready";
      e.error = undefined;
      this.#built.push(e);
      log("info", "built " + resourceNameString(e.name) + " (" + e.config.model + ")");
    } catch (error) {
      this.#fail(e, errorText(error));
    }
    e.lastUpdated = Date.now();
  }

  #fail(e: Entry, error: string): void {
    e.state = "unhealthy";
    e.error = error;
    e.lastUpdated = Date.now();
    log("warn", "cannot build " + resourceNameString(e.name) + ": " + error);
  }

  /** Stops every actuator (StopAll); the errors of those that fail are collected. */
  stopAll(): string[] {
    const errors: string[] = [];
    for (const e of this.#entries) {
      const r = e.resource;
      if (e.state !== "ready" || r === undefined || !isActuator(r)) continue;
      try {
        r.stop();
      } catch (error) {
        errors.push(resourceNameString(e.name) + ": " + errorText(error));
      }
    }
    return errors;
  }

  /** Closes every built resource, dependents first; actuators stop as they close. */
  closeResources(): void {
    const built = this.#built;
    this.#built = [];
    for (let i = built.length - 1; i >= 0; i--) {
      const e = built[i];
      const r = e.resource;
      e.resource = undefined;
      if (r === undefined) continue;
      this.safety.forget(r);
      try {
        if (isActuator(r)) r.stop();
      } catch (error) {
        log("warn", "stopping " + resourceNameString(e.name) + ": " + errorText(error));
      }
      try {
        r.close?.();
      } catch (error) {
        log("warn", "closing " + resourceNameString(e.name) + ": " + errorText(error));
      }
    }
    this.#entries = [];
  }
}
