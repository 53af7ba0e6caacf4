// The host's loggers by name, with levels from the config (rdk `logging/logger_registry.go`,
// `logging/log_config.go`, `config.UpdateLoggerRegistryFromConfig`) and rdk's deduplication of noisy
// lines (`logging/impl.go`).
//
// * Names are dotted under the root `rdk`; a resource's logger is `rdk.resource_manager.<full name>`.
// * Levels: the global `log` patterns apply top to bottom, the last match wins; each resource's
//   `log_configuration.level` is appended as the pattern `rdk.resource_manager.<full name>`, so it
//   wins over the global ones. A logger no pattern matches gets the base level. `debug: true` (or
//   `-debug`) puts every logger at debug, whatever the patterns say.
// * Deduplication: per logger, a line (message and fields) seen more than 3 times within a window of
//   1 minute is logged 3 times, then once as "Message logged 3 times; suppressing for rest of window
//   (1m0s): …"; the first line after the window ends emits "Message logged N times in past 1m0s: …"
//   for each suppressed line. Off in debug, for loggers at debug, and with `disable_log_deduplication`.
import { pino, type Logger } from "pino";
import type { MachineConfig } from "../config/schema.js";
import { consoleStream, type LogRecord } from "./console-format.js";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogPattern {
  readonly pattern: string;
  readonly level: LogLevel;
}

/** What the config says about logging. */
export interface LogSettings {
  /** `debug: true`: everything at debug, no deduplication. */
  readonly debug: boolean;
  /** Global patterns, then one per resource with a `log_configuration`. */
  readonly patterns: readonly LogPattern[];
  /** False with `disable_log_deduplication`. */
  readonly deduplicate: boolean;
}

export const ROOT_LOGGER_NAME = "rdk";
/** rdk `noisyMessageWindowDuration` and `noisyMessageCountThreshold`. */
export const NOISY_MESSAGE_WINDOW_MS = 60_000;
export const NOISY_MESSAGE_COUNT_THRESHOLD = 3;
/** Fields that do not make two lines different (rdk `ignoredLogFieldKeys`). */
const IGNORED_FIELD_KEYS = new Set(["grpc.time_ms", "grpc.start_time", "log_ts"]);
/** Record keys that are not fields. */
const RECORD_KEYS = new Set(["time", "level", "name", "msg", "caller", "pid", "hostname"]);

/** The logger name a resource gets (rdk: the resource manager's sublogger named by the resource's full name). */
export function resourceLoggerName(fullResourceName: string): string {
  return `${ROOT_LOGGER_NAME}.resource_manager.${fullResourceName}`;
}

/** rdk `BuildRegexFromPattern`: `*` matches anything, `.` is literal, the whole name must match. */
export function globToRegExp(pattern: string): RegExp {
  let source = "^";
  for (const ch of pattern) {
    if (ch === "*") source += ".*";
    else source += ch.replace(/[.+?^${}()|[\]\\/-]/g, "\\$&");
  }
  return new RegExp(`${source}$`);
}

/** The log settings a machine config asks for (rdk `UpdateLoggerRegistryFromConfig`). */
export function logSettingsFromConfig(config: MachineConfig): LogSettings {
  const patterns: LogPattern[] = config.log.map((p) => ({ pattern: p.pattern, level: p.level }));
  for (const res of [...config.services, ...config.components]) {
    if (res.logConfiguration) {
      patterns.push({ pattern: resourceLoggerName(`${res.apiString}/${res.name}`), level: res.logConfiguration.level });
    }
  }
  return { debug: config.debug, patterns, deduplicate: !config.disableLogDeduplication };
}

interface Window {
  start: number;
  counts: Map<string, number>;
  last: Map<string, LogRecord>;
}

export interface LogRegistryOptions {
  /** The level of loggers no pattern matches. Default info. */
  level?: LogLevel;
  /** Forces debug everywhere (the `-debug` flag), whatever the config says. */
  debug?: boolean;
  out?: NodeJS.WritableStream;
  settings?: Partial<LogSettings>;
  /** Clock for the deduplication window (tests). */
  now?: () => number;
}

const registries = new WeakMap<Logger, LogRegistry>();

/** The registry a logger was made by, if any. */
export function registryOf(logger: Logger): LogRegistry | undefined {
  return registries.get(logger);
}

export class LogRegistry {
  readonly root: Logger;
  readonly #baseLevel: LogLevel;
  readonly #forceDebug: boolean;
  readonly #loggers = new Map<string, Logger>();
  readonly #windows = new Map<string, Window>();
  readonly #now: () => number;
  #settings: LogSettings = { debug: false, patterns: [], deduplicate: true };
  #compiled: { re: RegExp; level: LogLevel }[] = [];

  constructor(opts: LogRegistryOptions = {}) {
    this.#baseLevel = opts.level ?? "info";
    this.#forceDebug = opts.debug ?? false;
    this.#now = opts.now ?? Date.now;
    this.root = pino(
      { name: ROOT_LOGGER_NAME, level: this.#baseLevel, base: undefined },
      consoleStream(opts.out, (record) => this.#filter(record)),
    );
    registries.set(this.root, this);
    this.#loggers.set(ROOT_LOGGER_NAME, this.root);
    this.update(opts.settings ?? {});
  }

  get settings(): LogSettings {
    return this.#settings;
  }

  get debug(): boolean {
    return this.#forceDebug || this.#settings.debug;
  }

  /** The logger with this full name (`rdk.…`), made on first use and kept, so its level can be changed later. */
  logger(name: string): Logger {
    let logger = this.#loggers.get(name);
    if (!logger) {
      logger = this.root.child({ name });
      logger.level = this.levelOf(name);
      registries.set(logger, this);
      this.#loggers.set(name, logger);
    }
    return logger;
  }

  /** Applies new settings to every logger made so far and to those made later. */
  update(settings: Partial<LogSettings>): void {
    this.#settings = { ...this.#settings, ...settings };
    this.#compiled = this.#settings.patterns.map((p) => ({ re: globToRegExp(p.pattern), level: p.level }));
    for (const [name, logger] of this.#loggers) logger.level = this.levelOf(name);
  }

  /** The level a logger of this name runs at. */
  levelOf(name: string): LogLevel {
    if (this.debug) return "debug";
    let level = this.#baseLevel;
    for (const { re, level: l } of this.#compiled) if (re.test(name)) level = l;
    return level;
  }

  /** Records to print for one record pino wrote: none while it is suppressed, two when a window closes. */
  #filter(record: LogRecord): LogRecord[] {
    const name = typeof record.name === "string" ? record.name : ROOT_LOGGER_NAME;
    if (!this.#settings.deduplicate || this.debug || this.levelOf(name) === "debug") return [record];
    const now = this.#now();
    let window = this.#windows.get(name);
    if (!window) {
      window = { start: now, counts: new Map(), last: new Map() };
      this.#windows.set(name, window);
    }
    const out: LogRecord[] = [];
    if (now - window.start > NOISY_MESSAGE_WINDOW_MS) {
      for (const [key, count] of window.counts) {
        if (count > NOISY_MESSAGE_COUNT_THRESHOLD) {
          const last = window.last.get(key)!;
          out.push({ ...last, msg: `Message logged ${count} times in past 1m0s: ${String(last.msg ?? "")}` });
        }
      }
      window.counts.clear();
      window.last.clear();
      window.start = now;
    }
    const key = hashKey(record);
    const count = (window.counts.get(key) ?? 0) + 1;
    window.counts.set(key, count);
    window.last.set(key, record);
    if (count > NOISY_MESSAGE_COUNT_THRESHOLD) {
      if (count === NOISY_MESSAGE_COUNT_THRESHOLD + 1) {
        out.push({
          ...record,
          msg: `Message logged ${NOISY_MESSAGE_COUNT_THRESHOLD} times; suppressing for rest of window (1m0s): ${String(record.msg ?? "")}`,
        });
      }
      return out;
    }
    out.push(record);
    return out;
  }
}

/** rdk `LogEntry.HashKey`: the message and the fields that matter, so identical lines collide. */
function hashKey(record: LogRecord): string {
  let key = typeof record.msg === "string" ? record.msg : "";
  for (const [k, v] of Object.entries(record)) {
    if (RECORD_KEYS.has(k) || IGNORED_FIELD_KEYS.has(k)) continue;
    key += ` ${k} ${typeof v === "string" ? v : JSON.stringify(v)}`;
  }
  return key;
}
