// Remote parts of a machine (config `remotes`): one RemotePart per entry keeps a RemoteConnection up
// and tells the machine what it can reach.
//
// - A part connects at start (the host waits for each first attempt, so dependents build at once),
//   then checks its connection every `connection_check_interval` (default 10 s) with ResourceNames,
//   which also picks up resources the part gained or lost.
// - A lost link (the part closed it, a framing or protocol error, a failed check) closes the
//   connection; the part reconnects with a backoff that starts at 100 ms and doubles up to
//   `reconnect_interval` (default 1 s), for as long as it is configured.
// - The machine has a node for the part (`rdk-internal:remote:/name`, shown by GetMachineStatus) and
//   one per remote resource under it, named `name:resource` (or `prefix` + resource when the remote
//   has a prefix), ready while connected and UNHEALTHY with the reason while not; dependents of a
//   remote resource are rebuilt when it comes back (machine.updateRemote).
// - Calls reach a remote resource through the forwarder (forwarder.ts) or, for host models that
//   depend on one, through client-side resources (clients.ts); both go through `RemotePart.call`,
//   which uses whatever connection is live.
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { jsonEqual } from "../config/diff.js";
import type { RemoteConfig } from "../config/schema.js";
import { namedLogger } from "../log/logger.js";
import { REMOTE_MODEL, type Machine, type RemoteResourceUpdate } from "../machine/machine.js";
import { apiString, sameApi, type Api, type ResourceName } from "../resource/name.js";
import { NotSupportedError, type Resource } from "../resource/resource.js";
import { protoServiceFor } from "../robot/api-services.js";
import { knownServices, remoteResource, type RemoteResource } from "./clients.js";
import {
  Code,
  reasonOf,
  type RemoteCall,
  type RemoteCallOptions,
  type RemoteConnection,
  type RemoteRpcSubtype,
  type RemoteTransportRegistry,
} from "./connection.js";
import type { RemoteCaller } from "./transport.js";
import { defaultRemoteTransports } from "./transports.js";
import { failedCall } from "./typed.js";
import { managedPart, partResourceKey } from "./part-config.js";

/** First reconnect delay; it doubles per failure up to the remote's reconnect_interval. */
export const INITIAL_RECONNECT_DELAY_MS = 100;
/** Longest a connect step or a check may take, whatever the check interval. */
export const MAX_REMOTE_CALL_TIMEOUT_MS = 10_000;
const MIN_REMOTE_CALL_TIMEOUT_MS = 1_000;

export interface RemoteManagerOptions {
  machine: Machine;
  logger: Logger;
  /** Address schemes → transports; default defaultRemoteTransports(). */
  transports?: RemoteTransportRegistry;
  /** Timeout of each connect step and check; default the check interval, within 1 s … 10 s. */
  callTimeoutMs?: number;
}

export interface RemoteManagerEvents {
  connected: [remote: string];
  disconnected: [remote: string, reason: string];
}

/** A remote resource a call names, and where it goes. */
export interface RemoteTarget {
  readonly part: RemotePart;
  /** The name the host shows. */
  readonly name: ResourceName;
  /** The part's own name for it. */
  readonly remoteName: string;
}

interface RemoteEntry {
  readonly api: Api;
  readonly protoService: string | undefined;
  readonly shown: ResourceName;
  readonly remoteName: string;
  readonly aliases: readonly string[];
  readonly instance: RemoteResource | undefined;
}

export type RemotePartState = "connecting" | "connected" | "disconnected";

/** One configured remote. */
export class RemotePart implements RemoteCaller {
  /** Replaced in place only by updatePartConfig (a change of part_config alone). */
  config: RemoteConfig;
  readonly #manager: RemoteManager;
  readonly #logger: Logger;
  #connection: RemoteConnection | undefined;
  #state: RemotePartState = "connecting";
  #error: string | undefined;
  #lastLogged: string | undefined;
  #entries = new Map<string, RemoteEntry>();
  #delay = INITIAL_RECONNECT_DELAY_MS;
  #timer: NodeJS.Timeout | undefined;
  #attempt: AbortController | undefined;
  #closed = false;
  readonly #self: Resource;
  /** Settles after the first connection attempt, whatever its outcome. */
  readonly firstAttempt: Promise<void>;

  constructor(manager: RemoteManager, config: RemoteConfig, logger: Logger) {
    this.#manager = manager;
    this.config = config;
    this.#logger = logger;
    this.#self = {
      name: config.name,
      doCommand: () => Promise.reject(new NotSupportedError("DoCommand on a remote")),
      close: async () => {},
    };
    this.firstAttempt = this.#connect();
  }

  get name(): string {
    return this.config.name;
  }

  get state(): RemotePartState {
    return this.#state;
  }

  /** Why the part is not connected (the last failure). */
  get error(): string | undefined {
    return this.#error;
  }

  /** The live connection, if any. */
  get connection(): RemoteConnection | undefined {
    return this.#state === "connected" ? this.#connection : undefined;
  }

  /** Known resources (the last known while disconnected). */
  entries(): readonly RemoteEntry[] {
    return [...this.#entries.values()];
  }

  call(method: string, request: Uint8Array | AsyncIterable<Uint8Array>, options?: RemoteCallOptions): RemoteCall {
    const c = this.connection;
    if (!c) return failedCall(Code.UNAVAILABLE, `remote ${this.name} is not connected${this.#error ? `: ${this.#error}` : ""}`);
    const call = c.call(method, request, options);
    // UNAVAILABLE may mean the link is gone (a gRPC remote has no other sign of it): check now
    // rather than at the next interval.
    void call.trailers.then(({ status }) => {
      if (status.code === Code.UNAVAILABLE && this.#connection === c && !options?.signal?.aborted) this.#checkSoon();
    });
    return call;
  }

  #checkSoon(): void {
    if (this.#closed || this.#state !== "connected" || this.#checking) return;
    clearTimeout(this.#timer);
    void this.#check();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#attempt?.abort(new Error("remote removed"));
    const c = this.#connection;
    this.#connection = undefined;
    await c?.close("remote removed");
  }

  // ---------------------------------------------------------------------------------------------

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const found = this.#manager.transports.lookup(this.config.address);
    if (found instanceof Error) {
      // Not something a retry can fix; the node says why.
      await this.#down(found.message, false);
      return;
    }
    const abort = new AbortController();
    this.#attempt = abort;
    let connection: RemoteConnection;
    try {
      connection = found.transport.create({
        config: this.config,
        address: found.address,
        logger: this.#logger,
        callTimeoutMs: this.#manager.callTimeoutFor(this.config),
      });
    } catch (err) {
      await this.#down(reasonOf(err), false);
      return;
    }
    try {
      await connection.connect(abort.signal);
      const [names, subtypes] = await Promise.all([connection.resourceNames(abort.signal), connection.resourceRpcSubtypes(abort.signal)]);
      if (this.#closed) {
        await connection.close("remote removed");
        return;
      }
      this.#connection = connection;
      connection.on("disconnected", (reason) => {
        if (this.#connection === connection) void this.#lost(reason);
      });
      this.#state = "connected";
      this.#error = undefined;
      this.#delay = INITIAL_RECONNECT_DELAY_MS;
      this.#setEntries(names, subtypes);
      this.#logger.info({ remote: this.name, address: this.config.address, kind: connection.kind, resources: this.#entries.size }, "connected to remote");
      this.#lastLogged = undefined;
      await this.#push();
      this.#manager.emit("connected", this.name);
      this.#scheduleCheck();
    } catch (err) {
      await connection.close().catch(() => undefined);
      if (this.#closed) return;
      await this.#down(reasonOf(err), true);
    } finally {
      if (this.#attempt === abort) this.#attempt = undefined;
    }
  }

  /** Records a failure and schedules the next attempt. */
  async #down(reason: string, retry: boolean): Promise<void> {
    const was = this.#state;
    this.#state = "disconnected";
    this.#error = reason;
    if (reason !== this.#lastLogged) {
      this.#lastLogged = reason;
      this.#logger.warn({ remote: this.name, address: this.config.address, reason }, "remote is unreachable");
    } else {
      this.#logger.debug({ remote: this.name, reason }, "remote still unreachable");
    }
    await this.#push();
    if (was === "connected") this.#manager.emit("disconnected", this.name, reason);
    if (retry && !this.#closed) {
      const delay = this.#delay;
      this.#delay = Math.min(this.#delay * 2, Math.max(this.config.reconnectIntervalMs, INITIAL_RECONNECT_DELAY_MS));
      this.#timer = setTimeout(() => void this.#connect(), Math.min(delay, this.config.reconnectIntervalMs));
      this.#timer.unref();
    }
  }

  async #lost(reason: string): Promise<void> {
    if (this.#closed || this.#state !== "connected") return;
    clearTimeout(this.#timer);
    const c = this.#connection;
    this.#connection = undefined;
    await c?.close(reason);
    this.#delay = INITIAL_RECONNECT_DELAY_MS;
    await this.#down(reason, true);
  }

  #scheduleCheck(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#check(), this.config.connectionCheckIntervalMs);
    this.#timer.unref();
  }

  #checking = false;
  /** The managed part's statuses at the last push (part-config.ts). */
  #statusKey: string | undefined;

  /**
   * A config that differs from the running one only in `part_config`: pushed to the part over the
   * live connection (part-config.ts), without reconnecting, so the part's other work carries on.
   * False when there is no live connection that manages its part's config.
   */
  async updatePartConfig(next: RemoteConfig): Promise<boolean> {
    const c = this.connection;
    const managed = managedPart(c);
    if (!c || !managed) return false;
    this.config = next;
    try {
      await managed.updatePartConfig(next.partConfig, AbortSignal.timeout(this.#manager.callTimeoutFor(next)));
    } catch (err) {
      if (this.#connection === c) await this.#lost(`pushing part_config failed: ${reasonOf(err)}`);
      return true;
    }
    // The part's resources may have changed: the check lists them and pushes them to the machine.
    clearTimeout(this.#timer);
    await this.#check();
    return true;
  }

  /** The connection check: ResourceNames answers in time, and its list is the part's resources. */
  async #check(): Promise<void> {
    const c = this.#connection;
    if (this.#closed || !c || this.#state !== "connected" || this.#checking) return;
    this.#checking = true;
    const timeoutMs = this.#manager.callTimeoutFor(this.config);
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const names = await c.resourceNames(deadline);
      if (this.#connection !== c) return;
      if (this.#namesChanged(names) || managedPart(c)?.statusKey !== this.#statusKey) {
        const subtypes = await c.resourceRpcSubtypes(AbortSignal.timeout(timeoutMs));
        this.#setEntries(names, subtypes);
        await this.#push();
      }
      this.#scheduleCheck();
    } catch (err) {
      // A part that went silent shows as our own deadline cancelling the call: say that instead.
      const why = deadline.aborted ? `no answer within ${timeoutMs} ms` : reasonOf(err);
      if (this.#connection === c) await this.#lost(`connection check failed: ${why}`);
    } finally {
      this.#checking = false;
    }
  }

  #namesChanged(names: readonly ResourceName[]): boolean {
    const now = new Set(this.#usable(names).map((n) => `${apiString(n)}/${n.name}`));
    const before = new Set([...this.#entries.values()].map((e) => `${apiString(e.api)}/${e.remoteName}`));
    return now.size !== before.size || [...now].some((k) => !before.has(k));
  }

  /** The names worth a node: components and services, not the part's internals. */
  #usable(names: readonly ResourceName[]): ResourceName[] {
    return names.filter((n) => n.namespace !== "rdk-internal" && n.name !== "");
  }

  #setEntries(names: readonly ResourceName[], subtypes: readonly RemoteRpcSubtype[]): void {
    const { name: remote, prefix } = this.config;
    const next = new Map<string, RemoteEntry>();
    for (const n of this.#usable(names)) {
      const api: Api = { namespace: n.namespace, type: n.type, subtype: n.subtype };
      const shownName = prefix ? `${prefix}${n.name}` : `${remote}:${n.name}`;
      const shown: ResourceName = { ...api, name: shownName };
      const key = `${apiString(api)}/${shownName}`;
      const protoService = subtypes.find((s) => sameApi(s.api, api))?.protoService ?? protoServiceFor(api);
      const aliases = [...new Set([`${remote}:${n.name}`, n.name])].filter((a) => a !== shownName);
      const old = this.#entries.get(key);
      const service = protoService === undefined ? undefined : knownServices.get(protoService);
      const instance =
        old && old.remoteName === n.name && old.protoService === protoService
          ? old.instance
          : service
            ? remoteResource({ name: shownName, remoteName: n.name, service, caller: this })
            : undefined;
      next.set(key, { api, protoService, shown, remoteName: n.name, aliases, instance });
    }
    this.#entries = next;
  }

  /** Tells the machine where this part stands. */
  async #push(): Promise<void> {
    if (this.#closed) return;
    const up = this.#state === "connected";
    // A part that manages its config (part-config.ts) says which of its resources are not ready, and why.
    const managed = up ? managedPart(this.#connection) : undefined;
    const notReady = managed?.notReady();
    this.#statusKey = managed?.statusKey;
    const resources: RemoteResourceUpdate[] = [...this.#entries.values()].map((e) => {
      const problem = notReady?.get(partResourceKey({ ...e.api, name: e.remoteName }));
      return {
        name: e.shown,
        aliases: e.aliases,
        // A resource of an API the host has no client for is still listed, and reachable by forwarding.
        resource: up && problem === undefined ? (e.instance ?? this.#self) : undefined,
        ...(problem === undefined ? {} : { error: problem }),
      };
    });
    await this.#manager.machine.updateRemote({
      remote: this.name,
      resource: up ? this.#self : undefined,
      error: this.#error,
      configError: managed?.partConfigError,
      resources,
    });
  }
}

export class RemoteManager extends EventEmitter<RemoteManagerEvents> {
  readonly machine: Machine;
  readonly transports: RemoteTransportRegistry;
  readonly #logger: Logger;
  readonly #callTimeoutMs: number | undefined;
  readonly #parts = new Map<string, RemotePart>();
  #closed = false;

  constructor(opts: RemoteManagerOptions) {
    super();
    this.machine = opts.machine;
    this.transports = opts.transports ?? defaultRemoteTransports();
    this.#logger = namedLogger(opts.logger, "remotes");
    this.#callTimeoutMs = opts.callTimeoutMs;
  }

  callTimeoutFor(config: RemoteConfig): number {
    return this.#callTimeoutMs ?? Math.min(MAX_REMOTE_CALL_TIMEOUT_MS, Math.max(MIN_REMOTE_CALL_TIMEOUT_MS, config.connectionCheckIntervalMs));
  }

  parts(): RemotePart[] {
    return [...this.#parts.values()];
  }

  part(name: string): RemotePart | undefined {
    return this.#parts.get(name);
  }

  /**
   * Moves to a new list of remotes: removed ones disconnect and leave the machine, changed ones
   * reconnect (a change of part_config alone is pushed without reconnecting), new ones connect. Resolves once every new connection has had its first attempt.
   */
  async apply(configs: readonly RemoteConfig[]): Promise<void> {
    if (this.#closed) return;
    const wanted = new Map(configs.map((c) => [c.name, c]));
    const firsts: Promise<void>[] = [];
    for (const [name, part] of [...this.#parts]) {
      const next = wanted.get(name);
      if (next && sameConfig(part.config, next)) continue;
      // Only its part_config changed: pushed over the live connection.
      if (next && sameConfig({ ...part.config, partConfig: undefined }, { ...next, partConfig: undefined }) && (await part.updatePartConfig(next))) continue;
      this.#parts.delete(name);
      await part.close();
      if (!next) {
        this.#logger.info({ remote: name }, "remote removed");
        await this.machine.removeRemote(name);
      }
    }
    for (const config of configs) {
      if (this.#parts.has(config.name)) continue;
      const part = new RemotePart(this, config, this.#logger);
      this.#parts.set(config.name, part);
      firsts.push(part.firstAttempt);
    }
    await Promise.all(firsts);
  }

  /**
   * The remote resource a call to `protoService` names by `name`, unless a local resource has that
   * name: the name the host shows, or else an alias only one remote resource has.
   */
  resolve(protoService: string, name: string): RemoteTarget | undefined {
    const exact: RemoteTarget[] = [];
    const alias: RemoteTarget[] = [];
    for (const part of this.#parts.values()) {
      for (const e of part.entries()) {
        if (e.protoService !== protoService) continue;
        if (e.shown.name === name) exact.push({ part, name: e.shown, remoteName: e.remoteName });
        else if (e.aliases.includes(name)) alias.push({ part, name: e.shown, remoteName: e.remoteName });
      }
    }
    const target = exact[0] ?? (alias.length === 1 ? alias[0] : undefined);
    if (!target) return undefined;
    // A local resource of that API and name wins (a prefix can make a remote's names collide).
    const local = this.machine
      .entries()
      .some((en) => en.name.name === name && sameApi(en.name, target.name) && en.config.model !== REMOTE_MODEL);
    return local ? undefined : target;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const parts = [...this.#parts.values()];
    this.#parts.clear();
    await Promise.all(parts.map((p) => p.close()));
  }
}

function sameConfig(a: RemoteConfig, b: RemoteConfig): boolean {
  const { origin: _a, ...left } = a;
  const { origin: _b, ...right } = b;
  return jsonEqual(left, right);
}
