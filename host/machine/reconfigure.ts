// Applying a new config to a running machine (rdk `localRobot.reconfigure`): the text is parsed and
// validated first, and a file that does not parse or validate leaves the machine as it was (the
// ConfigError text is logged). Logging settings apply at once. Resource changes wait for the
// maintenance sensor when the new config names one (rdk `reconfigureAllowed`): its reading at
// `maintenance_allowed_key` must be `true`; a reading that errors, is missing or is not a bool
// blocks; a sensor that cannot be parsed or found allows. The check is re-done every second while a
// config waits, and the newest config wins.
import { EventEmitter } from "node:events";
import type { JsonValue } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { diffConfigs } from "../config/diff.js";
import { ConfigError, parseMachineConfig } from "../config/load.js";
import type { MachineConfig, MaintenanceConfig } from "../config/schema.js";
import { logSettingsFromConfig, registryOf } from "../log/registry.js";
import { parseResourceName } from "../resource/name.js";
import { internalCall, type Resource } from "../resource/resource.js";
import { machineResources, type Machine } from "./machine.js";

/** rdk `checkMaintenanceSensorReadings` timeout. */
export const MAINTENANCE_READ_TIMEOUT_MS = 5_000;
export const MAINTENANCE_RECHECK_MS = 1_000;

export interface ReconfigurerOptions {
  machine: Machine;
  /** The host's root logger; its registry (if any) gets the new log settings. */
  logger: Logger;
  /** The config the machine runs now. */
  current: MachineConfig;
  /** Applies the config's `remotes` (host/remote); remotes stay as they are without it. */
  remotes?: { apply(remotes: MachineConfig["remotes"]): Promise<void> };
  maintenanceRecheckMs?: number;
  maintenanceReadTimeoutMs?: number;
}

export interface ReconfigurerEvents {
  /** A config is live (resources reconfigured). */
  applied: [MachineConfig];
  /** A config text did not parse or validate; nothing changed. */
  rejected: [ConfigError];
  /** The maintenance sensor holds a config back; the text says why. */
  deferred: [string];
}

interface Allowed {
  allowed: boolean;
  /** Set when the check itself went wrong. */
  error?: string;
}

export class Reconfigurer extends EventEmitter<ReconfigurerEvents> {
  readonly #machine: Machine;
  readonly #logger: Logger;
  readonly #recheckMs: number;
  readonly #readTimeoutMs: number;
  readonly #remotes: ReconfigurerOptions["remotes"];
  #current: MachineConfig;
  #pending: MachineConfig | undefined;
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();
  #lastDeferral = "";
  #closed = false;

  constructor(opts: ReconfigurerOptions) {
    super();
    this.#machine = opts.machine;
    this.#logger = opts.logger;
    this.#current = opts.current;
    this.#remotes = opts.remotes;
    this.#recheckMs = opts.maintenanceRecheckMs ?? MAINTENANCE_RECHECK_MS;
    this.#readTimeoutMs = opts.maintenanceReadTimeoutMs ?? MAINTENANCE_READ_TIMEOUT_MS;
  }

  /** The config the machine runs. */
  get current(): MachineConfig {
    return this.#current;
  }

  /** A config waiting for the maintenance sensor, if any. */
  get pending(): MachineConfig | undefined {
    return this.#pending;
  }

  /** Parses a config file's new text and applies it; an invalid text is logged and changes nothing. */
  submitText(text: string, source: string): Promise<void> {
    let config: MachineConfig;
    try {
      config = parseMachineConfig(text, source);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.#logger.error(`invalid config; keeping the running machine as it is:\n${err.message}`);
      this.emit("rejected", err);
      return Promise.resolve();
    }
    return this.submit(config);
  }

  /** Applies a new config, now or once the maintenance sensor allows. Resolves when applied or deferred. */
  submit(config: MachineConfig): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#pending = config;
    this.#lastDeferral = "";
    return this.#kick();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #kick(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const run = this.#queue.then(() => this.#tryApply());
    this.#queue = run.catch((err: unknown) => this.#logger.error({ err }, "reconfiguration failed"));
    return run;
  }

  async #tryApply(): Promise<void> {
    const next = this.#pending;
    if (!next || this.#closed) return;
    const diff = diffConfigs(this.#current, next);
    const registry = registryOf(this.#logger);
    if (!diff.loggingEqual || !diff.resourcesEqual) registry?.update(logSettingsFromConfig(next));
    if (!diff.networkEqual) {
      this.#logger.warn("network and auth changes take effect when the machine restarts; the listener keeps its settings");
    }

    const gate = next.maintenance ? await this.#reconfigureAllowed(next.maintenance) : { allowed: true };
    if (this.#closed || this.#pending !== next) return;
    if (!gate.allowed) {
      if (!diff.resourcesEqual) {
        const why = gate.error ?? `sensor ${next.maintenance!.sensorName}`;
        if (why !== this.#lastDeferral) {
          this.#lastDeferral = why;
          if (gate.error) this.#logger.info({ error: gate.error }, "Reconfigure NOT allowed due to error");
          else this.#logger.info({ sensor: next.maintenance!.sensorName }, "Reconfigure NOT allowed by maintenance sensor");
          this.emit("deferred", why);
        }
        this.#timer = setTimeout(() => void this.#kick(), this.#recheckMs);
        this.#timer.unref();
        return;
      }
    } else if (next.maintenance && !diff.resourcesEqual) {
      if (gate.error) this.#logger.info({ error: gate.error }, "Reconfigure allowed despite error while checking");
      else this.#logger.info({ sensor: next.maintenance.sensorName }, "Reconfigure allowed by maintenance sensor");
    }

    this.#pending = undefined;
    this.#current = next;
    if (!diff.remotesEqual) await this.#remotes?.apply(next.remotes);
    if (diff.resourcesEqual && diff.revisionEqual) {
      this.emit("applied", next);
      return;
    }
    await this.#machine.reconfigure(machineResources(next), next.revision);
    this.emit("applied", next);
  }

  /** rdk `reconfigureAllowed` and `checkMaintenanceSensorReadings`, with rdk's texts. */
  async #reconfigureAllowed(m: MaintenanceConfig): Promise<Allowed> {
    const name = parseResourceName(m.sensorName);
    if (!name) return { allowed: true, error: `sensor_name ${m.sensorName} in maintenance config is not in a supported format` };
    let sensor: Resource & { readings?: (call: ReturnType<typeof internalCall>) => Promise<Record<string, JsonValue>> };
    try {
      sensor = this.#machine.get(name, name.name);
    } catch (err) {
      return { allowed: true, error: `could not find sensor named ${m.sensorName}: ${(err as Error).message}` };
    }
    if (typeof sensor.readings !== "function") {
      return { allowed: true, error: `could not find sensor named ${m.sensorName}: resource does not have readings` };
    }
    const blocked = (why: string): Allowed => ({ allowed: false, error: `failed to check maintenance sensor readings: ${why}` });
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let readings: Record<string, JsonValue>;
    try {
      readings = await Promise.race([
        sensor.readings(internalCall(abort.signal)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            abort.abort();
            reject(new Error("context deadline exceeded"));
          }, this.#readTimeoutMs);
        }),
      ]);
    } catch (err) {
      return blocked(`error reading maintenance sensor readings. ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    if (!Object.hasOwn(readings, m.maintenanceAllowedKey)) {
      return blocked(`error getting maintenance_allowed_key ${m.maintenanceAllowedKey} from sensor reading`);
    }
    const value = readings[m.maintenanceAllowedKey];
    if (typeof value !== "boolean") return blocked(`maintenance_allowed_key ${m.maintenanceAllowedKey} is not a bool value`);
    return { allowed: value };
  }
}
