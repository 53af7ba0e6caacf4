// The running set of resources (rdk `robot/impl/resource_manager.go`, `resource/graph_node.go`):
// every component and service is a node of the resource graph (graph.ts), with edges from
// `depends_on` and from its model's `validate` (required implicit dependencies). Construction runs
// over the graph's topological levels, up to 10 builds at once within a level, each with a timeout;
// a resource whose dependencies are not ready fails with rdk's text and is retried every 5 s, and one
// bad resource never stops the others. `reconfigure` applies a new set of resource configs: removed
// resources close together with their dependents, changed ones are closed and rebuilt together with
// their dependents, and the rest keep running untouched. Closing runs dependents first.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { diffResources, jsonEqual } from "../config/diff.js";
import { formatGoDuration, parseGoDuration, type MachineConfig } from "../config/schema.js";
import { namedLogger } from "../log/logger.js";
import { parseResourceName, resourceNameString, sameApi, type Api, type ResourceName } from "../resource/name.js";
import type { Dependencies, Model, ModelRegistry } from "../resource/registry.js";
import { internalCall, isActuator, type Resource } from "../resource/resource.js";
import { DependencyEdgeError, ResourceGraph } from "./graph.js";

/** rdk `DefaultResourceConfigurationTimeout`. */
export const DEFAULT_RESOURCE_CONFIGURATION_TIMEOUT_MS = 120_000;
export const RESOURCE_CONFIGURATION_TIMEOUT_ENV = "VIAM_RESOURCE_CONFIGURATION_TIMEOUT";
/** rdk `resourceCloseTimeout`. */
export const RESOURCE_CLOSE_TIMEOUT_MS = 30_000;
/** How often resources that are not built yet are tried again (rdk's completeConfigWorker). */
export const DEFAULT_RETRY_INTERVAL_MS = 5_000;
/** Builds at once within a level (rdk's errgroup limit). */
export const MAX_CONCURRENT_BUILDS = 10;

export interface MachineResourceConfig {
  readonly name: string;
  readonly api: Api;
  /** Full model triplet. */
  readonly model: string;
  readonly attributes: JsonObject;
  readonly dependsOn: readonly string[];
  /**
   * The rest of the entry (frame, service_configs, log_configuration): not used to build, but a
   * change in it is a change of the resource, which rebuilds it (as rdk's config diff does).
   */
  readonly extra?: JsonObject;
}

export type ResourceState = "unconfigured" | "configuring" | "ready" | "removing" | "unhealthy";

/** What the machine knows about one configured resource. */
export interface ResourceEntry {
  readonly name: ResourceName;
  readonly config: MachineResourceConfig;
  readonly state: ResourceState;
  /** Set iff the state is unhealthy. */
  readonly error?: string;
  /** When the state last changed. */
  readonly lastUpdated: Date;
  readonly resource?: Resource;
  /** The config revision that built the running instance ("" until one did). */
  readonly revision: string;
}

export interface MachineOptions {
  /** Retry interval for resources not built yet; default 5 s. */
  retryIntervalMs?: number;
  /** Per-build timeout; default from VIAM_RESOURCE_CONFIGURATION_TIMEOUT, else 2 min. */
  buildTimeoutMs?: number;
  /** Per-close timeout; default 30 s. */
  closeTimeoutMs?: number;
  /** Builds at once within a level; default 10. */
  maxConcurrentBuilds?: number;
}

/** Thrown for a lookup of a resource that is not on the machine; services answer NOT_FOUND. */
export class ResourceNotFoundError extends Error {
  constructor(readonly resourceName: ResourceName) {
    super(`resource "${resourceNameString(resourceName)}" not found`);
    this.name = "ResourceNotFoundError";
  }
}

/** Thrown for a resource that exists but is not built; services answer UNAVAILABLE. */
export class ResourceUnavailableError extends Error {
  constructor(entry: ResourceEntry) {
    super(`resource "${resourceNameString(entry.name)}" is ${entry.state}${entry.error ? `: ${entry.error}` : ""}`);
    this.name = "ResourceUnavailableError";
  }
}

/** The API of a remote part's own node (rdk `client.RemoteAPI`): `rdk-internal:remote:` + the remote's name. */
export const REMOTE_NODE_API: Api = { namespace: "rdk-internal", type: "remote", subtype: "" };

/** The model remote parts' nodes and their resources' nodes carry (they are not built from config). */
export const REMOTE_MODEL = "rdk:builtin:remote";

/** One resource of a remote part, as the host shows it. */
export interface RemoteResourceUpdate {
  /** The name the host shows (`remote:name`, or the remote's prefix + name). */
  readonly name: ResourceName;
  /** Other short names that mean it too (`remote:name` under a prefix, the bare name). */
  readonly aliases: readonly string[];
  /** The client-side instance; undefined while the remote is down. */
  readonly resource?: Resource;
  /** Why the part itself has this resource not ready (its own GetMachineStatus); UNHEALTHY with it. */
  readonly error?: string;
}

/**
 * A remote part's state (host/remote): its own node is ready while connected, and its resources are
 * nodes under it, ready while it is connected and unhealthy with `error` while it is not. A remote
 * that is down keeps its last known resources; one that is up replaces them.
 */
export interface RemoteUpdate {
  readonly remote: string;
  /** The connection as a resource; undefined while down. */
  readonly resource?: Resource;
  /** Why the remote is down. */
  readonly error?: string;
  /** While up: why the part does not run the host's part_config; its own node is UNHEALTHY with it, its resources carry on. */
  readonly configError?: string;
  readonly resources: readonly RemoteResourceUpdate[];
}

/** The machine's view of a config's components and services. */
export function machineResources(config: MachineConfig): MachineResourceConfig[] {
  return [...config.components, ...config.services].map((c) => {
    const extra: Record<string, unknown> = { service_configs: c.serviceConfigs };
    if (c.frame) extra.frame = c.frame;
    if (c.logConfiguration) extra.log_configuration = c.logConfiguration;
    return {
      name: c.name,
      api: c.api,
      model: c.modelString,
      attributes: c.attributes as JsonObject,
      dependsOn: c.dependsOn,
      extra: JSON.parse(JSON.stringify(extra)) as JsonObject,
    };
  });
}

/** The build timeout from VIAM_RESOURCE_CONFIGURATION_TIMEOUT (a Go duration), as rdk reads it. */
export function resourceConfigurationTimeoutMs(logger?: Logger, env: NodeJS.ProcessEnv = process.env): number {
  const text = env[RESOURCE_CONFIGURATION_TIMEOUT_ENV];
  if (!text) return DEFAULT_RESOURCE_CONFIGURATION_TIMEOUT_MS;
  try {
    const ms = parseGoDuration(text);
    if (ms > 0) return ms;
  } catch {
    // fall through
  }
  logger?.warn(
    `Failed to parse ${RESOURCE_CONFIGURATION_TIMEOUT_ENV} env var, falling back to default ${formatGoDuration(DEFAULT_RESOURCE_CONFIGURATION_TIMEOUT_MS)} timeout`,
  );
  return DEFAULT_RESOURCE_CONFIGURATION_TIMEOUT_MS;
}

/** rdk's text for names no node answers to. */
export function unresolvedDependenciesText(names: readonly string[]): string {
  return `resource has unresolved dependencies not found in machine config or connected remotes: [${names.join(" ")}]`;
}

interface Node {
  readonly key: string;
  readonly name: ResourceName;
  config: MachineResourceConfig;
  state: ResourceState;
  error?: string;
  lastUpdated: Date;
  resource?: Resource;
  revision: string;
  /** The revision the next successful build takes. */
  pendingRevision: string;
  needsBuild: boolean;
  everBuilt: boolean;
  model?: Model;
  validationError?: string;
  required: string[];
  optional: string[];
  /** Required dependency names that are not edges yet. */
  unresolved: string[];
  /** Why a name could not become an edge (a cycle, itself, an ambiguous name). */
  resolveErrors: Map<string, string>;
  /** Dependency name -> the node key it resolved to. */
  resolved: Map<string, string>;
  /** The optional dependencies the running instance was given (by name; undefined = absent). */
  optionalGiven?: Map<string, Resource | undefined>;
  /** Bumped whenever the running instance is closed or the config changes; a build that finds it changed throws its result away. */
  generation: number;
  /** A build in flight, including one that outlived its timeout. */
  building?: Promise<void>;
  /** Set on nodes of remote parts: never built or closed by the machine, the remote manager sets their state. */
  remote?: { readonly remote: string; aliases: readonly string[] };
}

export class Machine {
  readonly #nodes = new Map<string, Node>();
  readonly #graph = new ResourceGraph((key) => parseResourceName(key)?.name ?? key);
  readonly #registry: ModelRegistry;
  readonly #logger: Logger;
  readonly #rmLogger: Logger;
  readonly #retryIntervalMs: number;
  readonly #buildTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #maxConcurrentBuilds: number;
  #queue: Promise<void> = Promise.resolve();
  #retryTimer: NodeJS.Timeout | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;

  /** initializing until the first config has been applied. */
  state: "initializing" | "running" = "initializing";
  /** The revision of the config applied last. */
  revision = "";
  /** When the config applied last was taken in. */
  configuredAt = new Date();

  constructor(registry: ModelRegistry, logger: Logger, options: MachineOptions = {}) {
    this.#registry = registry;
    this.#logger = logger;
    this.#rmLogger = namedLogger(logger, "resource_manager");
    this.#retryIntervalMs = options.retryIntervalMs ?? DEFAULT_RETRY_INTERVAL_MS;
    this.#buildTimeoutMs = options.buildTimeoutMs ?? resourceConfigurationTimeoutMs(logger);
    this.#closeTimeoutMs = options.closeTimeoutMs ?? RESOURCE_CLOSE_TIMEOUT_MS;
    this.#maxConcurrentBuilds = options.maxConcurrentBuilds ?? MAX_CONCURRENT_BUILDS;
  }

  /** Applies the first config; the machine is running once it returns, whatever failed to build. */
  async start(configs: readonly MachineResourceConfig[], revision = ""): Promise<void> {
    await this.reconfigure(configs, revision);
    if (!this.#closing) this.state = "running";
  }

  /**
   * Moves the machine to a new set of resource configs. Resolves once every resource that can be
   * built now has been tried; the rest are retried in the background.
   */
  reconfigure(configs: readonly MachineResourceConfig[], revision = ""): Promise<void> {
    return this.#serialize(() => this.#reconfigure(configs, revision));
  }

  /** Every configured resource, in config order. */
  entries(): ResourceEntry[] {
    return [...this.#nodes.values()];
  }

  /** The resource for a call; throws ResourceNotFoundError or ResourceUnavailableError. */
  get<R extends Resource>(api: Api, name: string): R {
    const node = this.#nodes.get(resourceNameString({ ...api, name })) ?? this.#remoteByAlias(api, name);
    if (!node) throw new ResourceNotFoundError({ ...api, name });
    if (node.state !== "ready" || !node.resource) throw new ResourceUnavailableError(node);
    return node.resource as R;
  }

  /** The remote resource `name` means under `api` through one of its aliases, when exactly one does. */
  #remoteByAlias(api: Api, name: string): Node | undefined {
    const found = [...this.#nodes.values()].filter((n) => n.remote?.aliases.includes(name) && sameApi(n.name, api));
    return found.length === 1 ? found[0] : undefined;
  }

  /** Applies a remote part's state (host/remote); dependents of what changed are rebuilt. */
  updateRemote(update: RemoteUpdate): Promise<void> {
    return this.#serialize(() => this.#updateRemote(update));
  }

  /** Drops a remote part's nodes; their dependents are rebuilt (and wait for the names again). */
  removeRemote(remote: string): Promise<void> {
    return this.#serialize(async () => {
      if (this.#closing) return;
      await this.#dropRemoteNodes(remote, new Set());
      await this.#completeConfig();
    });
  }

  /** What `name` depends on (full names), as the graph has it now. */
  dependenciesOf(name: ResourceName): string[] {
    return this.#graph.parents(resourceNameString(name));
  }

  /**
   * Stops every actuator, with per-resource `extra` keyed by full resource name; collects failures
   * so one broken motor does not keep the others running.
   */
  async stopAll(extras: ReadonlyMap<string, JsonObject> = new Map()): Promise<void> {
    const failures: string[] = [];
    await Promise.all(
      [...this.#nodes.values()].map(async (n) => {
        const r = n.state === "ready" ? n.resource : undefined;
        if (r && isActuator(r)) {
          try {
            await r.stop({ ...internalCall(), extra: extras.get(n.key) ?? {} });
          } catch (err) {
            failures.push(`${n.key}: ${(err as Error).message}`);
          }
        }
      }),
    );
    if (failures.length > 0) throw new Error(`failed to stop: ${failures.join("; ")}`);
  }

  /**
   * Closes every resource, dependents before what they depend on (levels in parallel), each
   * within the close timeout. Does not wait for builds in flight: their results are closed when
   * they arrive.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true;
      clearTimeout(this.#retryTimer);
      await this.#closeNodes(new Set(this.#nodes.keys()), () => "remove");
    })();
    return this.#closed;
  }

  // -------------------------------------------------------------------------------------------
  // Reconfiguration

  #serialize(fn: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch((err: unknown) => this.#rmLogger.error({ err }, "reconfiguration failed"));
    return run;
  }

  async #reconfigure(configs: readonly MachineResourceConfig[], revision: string): Promise<void> {
    if (this.#closing) return;
    const current = [...this.#nodes.values()].filter((n) => n.remote === undefined).map((n) => n.config);
    const diff = diffResources(current, configs, jsonEqual);
    this.revision = revision;
    this.configuredAt = new Date();
    for (const c of diff.unmodified) {
      const node = this.#nodes.get(keyOf(c))!;
      node.pendingRevision = revision;
      if (node.state === "ready") node.revision = revision;
    }
    if (diff.added.length + diff.modified.length + diff.removed.length === 0) {
      await this.#completeConfig();
      return;
    }

    // Close what goes away or changes, and everything depending on it, dependents first.
    const removed = new Set(diff.removed.map(keyOf));
    const modified = new Set(diff.modified.map(keyOf));
    for (const key of removed) this.#setState(this.#nodes.get(key)!, "removing");
    const affected = this.#graph.withDescendants([...removed, ...modified]);
    await this.#closeNodes(affected, (key) => (removed.has(key) ? "remove" : "rebuild"));

    for (const key of removed) this.#removeNode(key);
    for (const config of diff.modified) {
      const node = this.#nodes.get(keyOf(config))!;
      node.config = config;
      node.pendingRevision = revision;
      node.generation += 1;
      this.#analyze(node);
    }
    for (const config of diff.added) {
      const key = keyOf(config);
      const node: Node = {
        key,
        name: { ...config.api, name: config.name },
        config,
        state: "unconfigured",
        lastUpdated: new Date(),
        revision: "",
        pendingRevision: revision,
        needsBuild: true,
        everBuilt: false,
        required: [],
        optional: [],
        unresolved: [],
        resolveErrors: new Map(),
        resolved: new Map(),
        generation: 0,
      };
      this.#nodes.set(key, node);
      this.#graph.add(key);
      this.#analyze(node);
    }
    await this.#completeConfig();
  }

  /** Looks up the model and runs its validate: the node's dependencies, or its validation error. */
  #analyze(node: Node): void {
    const { config } = node;
    node.model = this.#registry.lookup(config.api, config.model);
    node.validationError = undefined;
    let implicit = { required: [] as string[], optional: [] as string[] };
    if (node.model?.validate) {
      try {
        implicit = node.model.validate(config.attributes);
      } catch (err) {
        node.validationError = errorText(err);
      }
    }
    node.required = unique([...config.dependsOn, ...implicit.required]);
    node.optional = unique(implicit.optional).filter((n) => !node.required.includes(n));
    this.#graph.removeParentEdges(node.key);
    node.unresolved = [...node.required];
    node.resolved.clear();
    node.resolveErrors.clear();
  }

  async #updateRemote(u: RemoteUpdate): Promise<void> {
    if (this.#closing) return;
    const rootName: ResourceName = { ...REMOTE_NODE_API, name: u.remote };
    const rootKey = resourceNameString(rootName);
    const error = u.error ?? "remote is not connected";
    const changed: string[] = [];
    const nodesBefore = this.#nodes.size;
    const root = this.#remoteNode(rootKey, rootName, u.remote, []);
    if (root && this.#setRemoteState(root, u.resource, error, u.resource === undefined ? undefined : u.configError)) changed.push(rootKey);
    const keep = new Set([rootKey]);
    for (const r of u.resources) {
      const key = resourceNameString(r.name);
      const node = this.#remoteNode(key, r.name, u.remote, r.aliases);
      if (!node) continue;
      keep.add(key);
      if (root && !this.#graph.parents(key).includes(rootKey)) this.#graph.addEdge(key, rootKey);
      if (this.#setRemoteState(node, u.resource === undefined ? undefined : r.resource, r.error ?? error)) changed.push(key);
    }
    // A connected remote's list is the truth; a disconnected one keeps its last names.
    const gone = u.resource !== undefined && [...this.#nodes.values()].some((n) => n.remote?.remote === u.remote && !keep.has(n.key));
    // Nothing new (a check, another failed reconnect): the machine stays as it is.
    if (changed.length === 0 && !gone && this.#nodes.size === nodesBefore) return;
    const closeDependents = this.#graph.withDescendants(changed);
    if (u.resource !== undefined) {
      await this.#dropRemoteNodes(u.remote, keep, closeDependents);
    } else {
      await this.#closeNodes(closeDependents, () => "rebuild");
    }
    await this.#completeConfig();
  }

  /** The node of a remote part or of one of its resources, made when new; undefined on a name clash. */
  #remoteNode(key: string, name: ResourceName, remote: string, aliases: readonly string[]): Node | undefined {
    const existing = this.#nodes.get(key);
    if (existing) {
      if (existing.remote?.remote !== remote) {
        this.#rmLogger.error(
          { name: key, remote },
          "Found resource name collision when querying remote, please rename this resource or use a remote prefix",
        );
        return undefined;
      }
      existing.remote.aliases = aliases;
      return existing;
    }
    const node: Node = {
      key,
      name,
      config: { name: name.name, api: { namespace: name.namespace, type: name.type, subtype: name.subtype }, model: REMOTE_MODEL, attributes: {}, dependsOn: [] },
      state: "configuring",
      lastUpdated: new Date(),
      revision: this.revision,
      pendingRevision: this.revision,
      needsBuild: false,
      everBuilt: true,
      required: [],
      optional: [],
      unresolved: [],
      resolveErrors: new Map(),
      resolved: new Map(),
      generation: 0,
      remote: { remote, aliases },
    };
    this.#nodes.set(key, node);
    this.#graph.add(key);
    return node;
  }

  /** Sets a remote node's instance and state; true when its instance changed (dependents rebuild). */
  /** `problem` makes a node with an instance UNHEALTHY too (the instance, and so its dependents, stay). */
  #setRemoteState(node: Node, resource: Resource | undefined, error: string, problem?: string): boolean {
    const state: ResourceState = resource && problem === undefined ? "ready" : "unhealthy";
    const err = resource ? problem : error;
    const instanceChanged = node.resource !== resource;
    if (!instanceChanged && node.state === state && node.error === err) return false;
    node.resource = resource;
    node.revision = this.revision;
    this.#setState(node, state, err);
    return instanceChanged;
  }

  /** Removes `remote`'s nodes not in `keep`, closing (to rebuild) their dependents and `alsoClose` first. */
  async #dropRemoteNodes(remote: string, keep: ReadonlySet<string>, alsoClose: ReadonlySet<string> = new Set()): Promise<void> {
    const gone = [...this.#nodes.values()].filter((n) => n.remote?.remote === remote && !keep.has(n.key)).map((n) => n.key);
    const affected = new Set([...alsoClose, ...this.#graph.withDescendants(gone)]);
    await this.#closeNodes(affected, () => "rebuild");
    // Resource nodes before the remote's own node, so edges go with them.
    for (const key of gone.reverse()) this.#removeNode(key);
  }

  #removeNode(key: string): void {
    // Dependents that stay lose the edge; the name goes back to unresolved until a node answers to it again.
    for (const child of this.#graph.children(key)) {
      const c = this.#nodes.get(child);
      if (!c) continue;
      for (const [dep, target] of c.resolved) {
        if (target === key) {
          c.resolved.delete(dep);
          c.unresolved.push(dep);
        }
      }
    }
    this.#graph.remove(key);
    this.#nodes.delete(key);
  }

  /** Builds what needs building, level by level, and again while optional dependencies come and go. */
  async #completeConfig(): Promise<void> {
    for (let round = 0; round < 5 && !this.#closing; round++) {
      this.#resolve();
      const changed = [...this.#nodes.values()].filter((n) => this.#optionalChanged(n));
      if (changed.length > 0) {
        for (const n of changed) {
          this.#rmLogger.info({ resource: n.key }, "Optional dependencies changed; rebuilding resource");
        }
        await this.#closeNodes(this.#graph.withDescendants(changed.map((n) => n.key)), () => "rebuild");
      }
      if (![...this.#nodes.values()].some((n) => n.needsBuild && !n.building)) break;
      for (const level of this.#graph.levels()) {
        if (this.#closing) return;
        const todo = level.map((k) => this.#nodes.get(k)!).filter((n) => n.needsBuild && !n.building);
        await runLimited(todo, this.#maxConcurrentBuilds, (n) => this.#build(n));
      }
      if (![...this.#nodes.values()].some((n) => this.#optionalChanged(n))) break;
    }
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#closing || this.#retryTimer !== undefined) return;
    if (![...this.#nodes.values()].some((n) => n.needsBuild)) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#serialize(() => this.#completeConfig());
    }, this.#retryIntervalMs);
    this.#retryTimer.unref();
  }

  /** Turns dependency names into graph edges where a node answers to them (rdk `ResolveDependencies`). */
  #resolve(): void {
    for (const node of this.#nodes.values()) {
      if (node.unresolved.length === 0) continue;
      const before = new Map(node.resolveErrors);
      node.resolveErrors.clear();
      const remaining: string[] = [];
      for (const dep of node.unresolved) {
        const { key, error } = this.#lookupName(dep, node);
        if (key !== undefined) {
          try {
            this.#graph.addEdge(node.key, key);
            node.resolved.set(dep, key);
            continue;
          } catch (err) {
            if (!(err instanceof DependencyEdgeError)) throw err;
            node.resolveErrors.set(dep, err.message);
          }
        } else if (error !== undefined) {
          node.resolveErrors.set(dep, error);
        }
        remaining.push(dep);
      }
      node.unresolved = remaining;
      for (const [dep, error] of node.resolveErrors) {
        if (before.get(dep) !== error) {
          this.#rmLogger.error({ name: node.key, parent: dep, error }, "error adding dependency for resource as a child to parent");
        }
      }
    }
  }

  /**
   * The node a dependency name means: a full name, or a short name only one node has (a remote's
   * resource also answers to its aliases, when no node has the name itself).
   */
  #lookupName(dep: string, self: Node): { key?: string; error?: string } {
    const full = parseResourceName(dep);
    let matches: string[];
    if (full) {
      const key = resourceNameString(full);
      matches = this.#nodes.has(key) ? [key] : [];
    } else {
      const candidates = [...this.#nodes.values()].filter((n) => !sameApi(n.name, REMOTE_NODE_API));
      matches = candidates.filter((n) => n.name.name === dep).map((n) => n.key);
      if (matches.length === 0) matches = candidates.filter((n) => n.remote?.aliases.includes(dep)).map((n) => n.key);
    }
    if (matches.length === 0) return {};
    if (matches.length > 1) return { error: `conflicting names for resource "${self.key}": [${matches.join(" ")}]` };
    if (matches[0] === self.key) return { error: `node cannot depend on itself: "${self.key}"` };
    return { key: matches[0] };
  }

  /** The optional dependencies available now: name -> instance when present and ready. */
  #optionalNow(node: Node): Map<string, Resource | undefined> {
    const out = new Map<string, Resource | undefined>();
    for (const dep of node.optional) {
      const { key } = this.#lookupName(dep, node);
      const target = key === undefined ? undefined : this.#nodes.get(key);
      out.set(dep, target?.state === "ready" ? target.resource : undefined);
    }
    return out;
  }

  /** A running resource whose optional dependencies appeared, went away or were rebuilt since it was built. */
  #optionalChanged(node: Node): boolean {
    if (node.state !== "ready" || node.optional.length === 0 || !node.optionalGiven) return false;
    for (const [dep, instance] of this.#optionalNow(node)) {
      if (node.optionalGiven.get(dep) !== instance) return true;
    }
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // Building and closing

  #resourceLogger(node: Node): Logger {
    return namedLogger(this.#logger, `resource_manager.${node.key}`);
  }

  #setState(node: Node, state: ResourceState, error?: string): void {
    node.state = state;
    node.error = error;
    node.lastUpdated = new Date();
  }

  async #build(node: Node): Promise<void> {
    if (this.#closing || this.#nodes.get(node.key) !== node) return;
    const log = this.#resourceLogger(node);
    const fail = (message: string) => {
      this.#setState(node, "unhealthy", message);
      log.error({ resource: node.key, model: node.config.model }, message);
    };
    const model = node.model;
    if (!model) {
      return fail(
        `resource build error: unknown resource type: API ${apiText(node.config.api)} with model ${node.config.model} not registered; There may be no module in config that provides this model`,
      );
    }
    if (node.validationError !== undefined) return fail(`resource config validation error: ${node.validationError}`);
    if (node.unresolved.length > 0) {
      const plain = node.unresolved.filter((d) => !node.resolveErrors.has(d));
      const parts = [...node.resolveErrors.values()];
      if (plain.length > 0) parts.push(unresolvedDependenciesText(plain));
      return fail(`resource build error: ${parts.join("; ")}`);
    }
    for (const parentKey of this.#graph.parents(node.key)) {
      const parent = this.#nodes.get(parentKey)!;
      if (parent.state !== "ready" || !parent.resource) {
        const reason =
          parent.error ?? (parent.state === "removing" ? "resource is pending removal" : "resource not initialized yet");
        return fail(
          `resource build error: dependency ${parent.name.name} is not ready yet; reason=resource ${parentKey} not available; reason=${reason}`,
        );
      }
    }

    const generation = node.generation;
    this.#setState(node, "configuring");
    this.#rmLogger.info({ resource: node.key, model: node.config.model }, `Now ${node.everBuilt ? "rebuild" : "construct"}ing resource`);
    const optionalGiven = this.#optionalNow(node);
    const abort = new AbortController();
    const dependencies: Dependencies = {
      get: <R extends Resource>(api: Api, name: string) => this.get<R>(api, name),
      find: <R extends Resource>(api: Api, name: string) => {
        const n =
          [...this.#nodes.values()].find((x) => x.name.name === name && sameApi(x.name, api)) ?? this.#remoteByAlias(api, name);
        return n?.state === "ready" ? (n.resource as R | undefined) : undefined;
      },
    };
    const attempt = (async () =>
      model.build({ name: node.config.name, attributes: node.config.attributes, dependencies, logger: log, signal: abort.signal }))();
    const settled = attempt.then(
      (resource) => ({ ok: true as const, resource }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    const building = settled.then(() => undefined);
    node.building = building;
    const stopSlowLog = slowLogger(this.#rmLogger, "Waiting for resource to complete (re)configuration", node.key);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#buildTimeoutMs);
    });
    const outcome = await Promise.race([settled, timedOut]);
    clearTimeout(timer);
    stopSlowLog();

    if (outcome === "timeout") {
      const text = `resource ${node.key} timed out after ${formatGoDuration(this.#buildTimeoutMs)} during reconfigure`;
      abort.abort(new Error(text));
      this.#rmLogger.warn(text);
      fail(`resource build error: ${text}`);
      void settled.then(async (late) => {
        if (node.building === building) node.building = undefined;
        if (late.ok) {
          this.#rmLogger.info({ resource: node.key }, "resource finished building after its timeout; closing the late result");
          await this.#closeResource(node.key, late.resource);
        }
        this.#scheduleRetry();
      });
      return;
    }
    node.building = undefined;
    if (!outcome.ok) return fail(`resource build error: ${errorText(outcome.err)}`);
    if (this.#closing || node.generation !== generation || this.#nodes.get(node.key) !== node) {
      await this.#closeResource(node.key, outcome.resource);
      return;
    }
    node.resource = outcome.resource;
    node.optionalGiven = optionalGiven;
    node.revision = node.pendingRevision;
    node.needsBuild = false;
    node.everBuilt = true;
    this.#setState(node, "ready");
  }

  /**
   * Closes the running instances of `keys`, dependents first, in parallel within a level. A node
   * being removed is marked removing; one to be rebuilt is marked to be built again.
   */
  async #closeNodes(keys: ReadonlySet<string>, modeOf: (key: string) => "remove" | "rebuild"): Promise<void> {
    for (const level of this.#graph.reverseLevels(keys)) {
      await Promise.all(
        level.map(async (key) => {
            const node = this.#nodes.get(key);
            // A remote's nodes belong to the remote manager: their dependents close, they do not.
            if (!node || node.remote !== undefined) return;
            node.generation += 1;
            if (modeOf(key) === "remove") {
              if (node.state !== "removing") this.#setState(node, "removing");
            } else {
              node.needsBuild = true;
              if (node.state !== "unconfigured") this.#setState(node, "configuring");
            }
            const resource = node.resource;
            node.resource = undefined;
            if (resource) await this.#closeResource(key, resource);
          }),
      );
    }
  }

  async #closeResource(key: string, resource: Resource): Promise<void> {
    this.#rmLogger.info({ resource: key }, "Now removing resource");
    const stopSlowLog = slowLogger(this.#rmLogger, "Waiting for resource to close", key);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#closeTimeoutMs);
    });
    try {
      const outcome = await Promise.race([(async () => resource.close())().then(() => "closed" as const), timedOut]);
      if (outcome === "timeout") {
        this.#rmLogger.error({ resource: key }, `resource ${key} timed out after ${formatGoDuration(this.#closeTimeoutMs)} during close`);
      }
    } catch (err) {
      this.#rmLogger.error({ resource: key, error: errorText(err) }, "error closing resource");
    } finally {
      clearTimeout(timer);
      stopSlowLog();
    }
  }
}

function keyOf(c: { name: string; api: Api }): string {
  return resourceNameString({ ...c.api, name: c.name });
}

function apiText(api: Api): string {
  return `${api.namespace}:${api.type}:${api.subtype}`;
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function runLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}

/** rdk `SlowLogger`: warns after 2 s, then 3 s later, then every 5 s, until stopped. */
function slowLogger(logger: Logger, message: string, resource: string): () => void {
  const started = performance.now();
  let delay = 2000;
  let timer: NodeJS.Timeout;
  const tick = () => {
    const elapsed = Math.round((performance.now() - started) / 1000) * 1000;
    logger.warn({ resource, time_elapsed: formatGoDuration(elapsed) }, message);
    delay = delay === 2000 ? 3000 : 5000;
    timer = setTimeout(tick, delay).unref();
  };
  timer = setTimeout(tick, delay).unref();
  return () => clearTimeout(timer);
}
