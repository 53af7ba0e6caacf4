// Managed micro config: a remote entry may carry the micro part's own config (`part_config`, the
// JSON a micro part understands: firmware/config/schema.ts). The host pushes it with the part's
// `sprocket.micro.v1.ConfigService/SetConfig` when it connects, and again when the host config
// changes only in that remote's `part_config` (without reconnecting: RemoteManager.apply). The
// part applies it without a reboot (firmware/config/service.ts) and keeps it in flash.
//
// What the host then shows (RemoteManager → machine.updateRemote → GetMachineStatus):
// - every resource of the part's config, also those that are not ready: the part's own
//   GetMachineStatus says which failed to build and why (a sensor not answering on its bus, a pin
//   in use), and that resource is UNHEALTHY on the host with the part's error;
// - a part_config the part refuses (INVALID_ARGUMENT naming the problem, RESOURCE_EXHAUSTED when it
//   does not fit in flash) leaves the part running its previous config; the remote's own node
//   (`rdk-internal:remote:/name`) is UNHEALTHY with "part_config rejected by the part: …" while the
//   part's resources stay usable, and the host logs it.
//
// This is a decorator around any micro connection (tcp://, ws://, serial://, dial-in, sim:):
// withPartConfig(transport) wraps what the transport creates.
import type { Logger } from "pino";
import { RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { ResourceStatus_State } from "../../proto/gen/robot/v1/robot_pb.js";
import { ConfigService } from "../../proto/gen/sprocket/micro/v1/config_pb.js";
import type { RemoteConfig } from "../config/schema.js";
import { apiString, type ResourceName } from "../resource/name.js";
import {
  ChannelError,
  Code,
  reasonOf,
  type RemoteCall,
  type RemoteCallOptions,
  type RemoteConnection,
  type RemoteConnectionEvents,
  type RemoteRpcSubtype,
  type RemoteTransport,
} from "./connection.js";
import { unaryTyped } from "./typed.js";

/** A resource of the part as its GetMachineStatus reports it. */
export interface PartResourceStatus {
  /** The part's own name. */
  readonly name: ResourceName;
  readonly ready: boolean;
  /** Why it is not ready ("configuring" when it is still being built). */
  readonly error?: string;
}

/** What the remote manager reads from a connection that manages its part's config. */
export interface ManagedPart {
  /** Why the part does not run the host's part_config (undefined: it does, or there is none). */
  readonly partConfigError: string | undefined;
  /** The revision the part reported for the pushed part_config. */
  readonly partConfigRevision: string | undefined;
  /** The part's resources that are not ready, by the part's own `api/name`, with why. */
  notReady(): ReadonlyMap<string, string>;
  /** Changes whenever partConfigError or notReady() does (for change detection). */
  readonly statusKey: string;
  /** Pushes a new part_config over the live connection and refreshes the statuses. */
  updatePartConfig(partConfig: Record<string, unknown> | undefined, signal?: AbortSignal): Promise<void>;
}

/** The connection's ManagedPart side, if it has one. */
export function managedPart(connection: RemoteConnection | undefined): ManagedPart | undefined {
  return connection instanceof PartConfigConnection ? connection : undefined;
}

/** `api/name` of a resource name, the key notReady() uses. */
export function partResourceKey(name: ResourceName): string {
  return `${apiString(name)}/${name.name}`;
}

const STATE_TEXT: Partial<Record<ResourceStatus_State, string>> = {
  [ResourceStatus_State.CONFIGURING]: "configuring",
  [ResourceStatus_State.UNCONFIGURED]: "unconfigured",
  [ResourceStatus_State.REMOVING]: "removing",
};

export interface PartConfigConnectionOptions {
  config: RemoteConfig;
  logger: Logger;
  callTimeoutMs: number;
}

export class PartConfigConnection implements RemoteConnection {
  readonly #inner: RemoteConnection;
  readonly #remote: string;
  readonly #logger: Logger;
  readonly #callTimeoutMs: number;
  #partConfig: Record<string, unknown> | undefined;
  #statuses: PartResourceStatus[] = [];
  /** GetMachineStatus answered UNIMPLEMENTED (not a Sprocket micro part): statuses are not asked again. */
  #noStatus = false;
  partConfigError: string | undefined;
  partConfigRevision: string | undefined;

  constructor(inner: RemoteConnection, opts: PartConfigConnectionOptions) {
    this.#inner = inner;
    this.#remote = opts.config.name;
    this.#partConfig = opts.config.partConfig;
    this.#logger = opts.logger;
    this.#callTimeoutMs = opts.callTimeoutMs;
  }

  get kind(): string {
    return this.#inner.kind;
  }

  get connected(): boolean {
    return this.#inner.connected;
  }

  async connect(signal: AbortSignal): Promise<void> {
    await this.#inner.connect(signal);
    try {
      if (this.#partConfig !== undefined) await this.#push(signal);
      await this.#refresh(signal);
    } catch (err) {
      // The link itself failed (not the config): the connection attempt fails.
      await this.#inner.close(reasonOf(err)).catch(() => undefined);
      throw err;
    }
  }

  close(reason?: string): Promise<void> {
    return this.#inner.close(reason);
  }

  call(method: string, request: Uint8Array | AsyncIterable<Uint8Array>, options?: RemoteCallOptions): RemoteCall {
    return this.#inner.call(method, request, options);
  }

  on<E extends keyof RemoteConnectionEvents>(event: E, listener: RemoteConnectionEvents[E]): () => void {
    return this.#inner.on(event, listener);
  }

  /** The part's ready resources and, from its GetMachineStatus, the ones that are not. Refreshes the statuses. */
  async resourceNames(signal?: AbortSignal): Promise<ResourceName[]> {
    const names = await this.#inner.resourceNames(signal);
    await this.#refresh(signal);
    const seen = new Set(names.map(partResourceKey));
    for (const s of this.#statuses) {
      if (!s.ready && !seen.has(partResourceKey(s.name))) names.push(s.name);
    }
    return names;
  }

  resourceRpcSubtypes(signal?: AbortSignal): Promise<RemoteRpcSubtype[]> {
    return this.#inner.resourceRpcSubtypes(signal);
  }

  notReady(): ReadonlyMap<string, string> {
    const out = new Map<string, string>();
    for (const s of this.#statuses) if (!s.ready) out.set(partResourceKey(s.name), s.error ?? "not ready");
    return out;
  }

  get statusKey(): string {
    return JSON.stringify([this.partConfigError ?? "", [...this.notReady()].sort()]);
  }

  async updatePartConfig(partConfig: Record<string, unknown> | undefined, signal?: AbortSignal): Promise<void> {
    this.#partConfig = partConfig;
    if (partConfig === undefined) {
      // No longer managed: the part keeps what it runs.
      this.partConfigError = undefined;
      return;
    }
    await this.#push(signal);
    await this.#refresh(signal);
  }

  #options(signal: AbortSignal | undefined): RemoteCallOptions {
    return { signal, timeoutMs: this.#callTimeoutMs };
  }

  /**
   * SetConfig with the part_config. A refusal by the part (the config is invalid or too big; the
   * part keeps its previous one) is recorded and logged, not thrown; a failure of the link is thrown.
   */
  async #push(signal: AbortSignal | undefined): Promise<void> {
    const json = JSON.stringify(this.#partConfig);
    try {
      const res = await unaryTyped(this.#unary, ConfigService.method.setConfig, { configJson: json }, this.#options(signal));
      this.partConfigRevision = res.revision;
      if (this.partConfigError !== undefined) this.#logger.info({ remote: this.#remote }, "the part now runs its part_config");
      this.partConfigError = undefined;
      this.#logger.info({ remote: this.#remote, revision: res.revision }, "part_config applied on the remote part");
    } catch (err) {
      if (!(err instanceof ChannelError) || !refusal(err.code)) throw err;
      this.partConfigError = `part_config rejected by the part (it keeps its previous config): ${reasonOf(err)}`;
      this.#logger.error({ remote: this.#remote }, this.partConfigError);
    }
  }

  /** The part's resource states from its GetMachineStatus. */
  async #refresh(signal: AbortSignal | undefined): Promise<void> {
    if (this.#noStatus) return;
    try {
      const res = await unaryTyped(this.#unary, RobotService.method.getMachineStatus, {}, this.#options(signal));
      this.#statuses = res.resources.flatMap((r) => {
        if (!r.name || r.name.namespace === "rdk-internal") return [];
        const name: ResourceName = { namespace: r.name.namespace, type: r.name.type, subtype: r.name.subtype, name: r.name.name };
        const ready = r.state === ResourceStatus_State.READY;
        return [{ name, ready, ...(ready ? {} : { error: r.error || STATE_TEXT[r.state] || "not ready" }) }];
      });
    } catch (err) {
      if (err instanceof ChannelError && err.code === Code.UNIMPLEMENTED) {
        this.#noStatus = true;
        this.#statuses = [];
        return;
      }
      throw err;
    }
  }

  readonly #unary = (method: string, request: Uint8Array, options?: RemoteCallOptions): RemoteCall => this.#inner.call(method, request, options);
}

/** Status codes by which a part refuses a config (as opposed to a failing link). */
function refusal(code: number): boolean {
  return code === Code.INVALID_ARGUMENT || code === Code.RESOURCE_EXHAUSTED || code === Code.FAILED_PRECONDITION || code === Code.UNIMPLEMENTED;
}

/** A transport whose micro connections push the remote's part_config and report the part's resource states. */
export function withPartConfig(transport: RemoteTransport): RemoteTransport {
  return {
    schemes: transport.schemes,
    create: (ctx) => new PartConfigConnection(transport.create(ctx), { config: ctx.config, logger: ctx.logger, callTimeoutMs: ctx.callTimeoutMs }),
  };
}
