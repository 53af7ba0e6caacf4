// Machine config schema: the raw JSON shape (checked with zod) and the normalized form the
// runtime uses. The rules follow viam-server's config package (rdk `config/config.go`,
// `config/module.go`, `resource/config.go`, `resource/api.go`, `resource/model.go`,
// `utils/variables.go`); error texts are rdk's where rdk has one.
import * as z from "zod";
import type { Api } from "../resource/name.js";

// ---------------------------------------------------------------------------------------------
// Constants

/** Default listen address when the config sets none (rdk `DefaultBindAddress`). */
export const DEFAULT_BIND_ADDRESS = "localhost:8080";
/** Default session heartbeat window (rdk `DefaultSessionHeartbeatWindow`). */
export const DEFAULT_HEARTBEAT_WINDOW_MS = 2000;
export const MIN_HEARTBEAT_WINDOW_MS = 30;
export const MAX_HEARTBEAT_WINDOW_MS = 60_000;
/** Remote client defaults (goutils/rdk remote client). */
export const DEFAULT_REMOTE_CONNECTION_CHECK_INTERVAL_MS = 10_000;
export const DEFAULT_REMOTE_RECONNECT_INTERVAL_MS = 1000;
/** Module `first_run_timeout` default (rdk `defaultFirstRunTimeout`). */
export const DEFAULT_MODULE_FIRST_RUN_TIMEOUT_MS = 3_600_000;
/** Services without a name get this one (rdk `DefaultServiceName`). */
export const DEFAULT_SERVICE_NAME = "builtin";
/** The module name rdk reserves for the parent process. */
export const RESERVED_MODULE_NAME = "parent";
/** The only auth handler type a config may declare. */
export const API_KEY_CREDENTIALS_TYPE = "api-key";

// ---------------------------------------------------------------------------------------------
// API and model triplets

export type { Api };

/** A resource model, e.g. `rdk:builtin:fake`. */
export interface Model {
  namespace: string;
  family: string;
  name: string;
}

const TRIPLET = /^([\w-]+):([\w-]+):([\w-]+)$/;
const SINGLE_FIELD = /^[\w-]+$/;

export const API_TYPE_COMPONENT = "component";
export const API_TYPE_SERVICE = "service";
export const DEFAULT_MODEL_NAMESPACE = "rdk";
export const DEFAULT_MODEL_FAMILY = "builtin";
export const DEFAULT_SERVICE_MODEL: Readonly<Model> = Object.freeze({
  namespace: DEFAULT_MODEL_NAMESPACE,
  family: DEFAULT_MODEL_FAMILY,
  name: "builtin",
});

/** Parses `namespace:type:subtype`. Throws with rdk's text when the string is not a triplet. */
export function parseApi(text: string): Api {
  const m = TRIPLET.exec(text);
  if (!m) throw new Error(`not a valid API config string. Input: \`${text}\``);
  return { namespace: m[1]!, type: m[2]!, subtype: m[3]! };
}

/** Checks the parts of an API the way rdk's `API.Validate` does; returns the error text or undefined. */
export function validateApi(api: Api): string | undefined {
  if (api.namespace === "") return "namespace field for resource missing or invalid";
  if (api.type === "") return "type field for resource missing or invalid";
  const reserved = reservedCharacterError(api.namespace) ?? reservedCharacterError(api.type);
  if (reserved) return reserved;
  if (!SINGLE_FIELD.test(api.namespace)) return `string ${goQuote(api.namespace)} is not a valid type namespace`;
  if (!SINGLE_FIELD.test(api.type)) return `string ${goQuote(api.type)} is not a valid type name`;
  if (api.subtype === "") return "subtype field for resource missing or invalid";
  const reservedSub = reservedCharacterError(api.subtype);
  if (reservedSub) return reservedSub;
  if (!SINGLE_FIELD.test(api.subtype)) return `string ${goQuote(api.subtype)} is not a valid subtype name`;
  return undefined;
}

/**
 * Parses `service_configs[].type`: a full API triplet, or a single word meaning an rdk service
 * (`data_manager` → `rdk:service:data_manager`), as rdk's `NewPossibleRDKServiceAPIFromString`.
 */
export function parsePossibleServiceApi(text: string): Api {
  const m = TRIPLET.exec(text);
  if (m) return { namespace: m[1]!, type: m[2]!, subtype: m[3]! };
  if (!SINGLE_FIELD.test(text)) throw new Error(`string ${goQuote(text)} is not a valid api name`);
  return { namespace: "rdk", type: API_TYPE_SERVICE, subtype: text };
}

/** Parses `namespace:family:name`, or a single name meaning `rdk:builtin:<name>`. */
export function parseModel(text: string): Model {
  const m = TRIPLET.exec(text);
  if (m) return { namespace: m[1]!, family: m[2]!, name: m[3]! };
  if (SINGLE_FIELD.test(text)) return { namespace: DEFAULT_MODEL_NAMESPACE, family: DEFAULT_MODEL_FAMILY, name: text };
  throw new Error(`not a valid Model config string. Input: \`${text}\``);
}

export function modelToString(model: Model): string {
  return `${model.namespace}:${model.family}:${model.name}`;
}

/** Checks the parts of a model like rdk's `Model.Validate`; returns the error text or undefined. */
export function validateModel(model: Model): string | undefined {
  if (model.namespace === "") return 'missing required field "namespace"';
  if (model.family === "") return 'missing required field "model_family"';
  const reserved = reservedCharacterError(model.namespace) ?? reservedCharacterError(model.family);
  if (reserved) return reserved;
  if (!SINGLE_FIELD.test(model.namespace)) return `string ${goQuote(model.namespace)} is not a valid model namespace`;
  if (!SINGLE_FIELD.test(model.family)) return `string ${goQuote(model.family)} is not a valid model family`;
  if (model.name === "") return 'missing required field "name"';
  const reservedName = reservedCharacterError(model.name);
  if (reservedName) return reservedName;
  if (!SINGLE_FIELD.test(model.name)) return `string ${goQuote(model.name)} is not a valid model name`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Names

const VALID_NAME = /^[a-zA-Z0-9][-\w]*$/;
const NAME_EXPLANATION =
  "must start with a letter or number and must only contain letters, numbers, dashes, and underscores";
/** Colons delimit remote names and plus signs are used in WebRTC track names. */
export const RESERVED_NAME_CHARACTERS = [":", "+"] as const;

function reservedCharacterError(value: string): string | undefined {
  for (const ch of RESERVED_NAME_CHARACTERS) {
    if (value.includes(ch)) return `reserved character ${ch} used in name:${goQuote(value)}`;
  }
  return undefined;
}

/**
 * Validates a component, service or remote name (rdk `utils.ValidateResourceName`). Config
 * entries may not use the `remote:name` form; that form is only for references to remote
 * resources (e.g. in `depends_on` or `maintenance.sensor_name`). Returns the error text or undefined.
 */
export function validateResourceName(name: string): string | undefined {
  if (name.length > 60) return `name ${goQuote(name)} must be 60 characters or fewer`;
  if (!VALID_NAME.test(name)) return `name ${goQuote(name)} ${NAME_EXPLANATION}`;
  return undefined;
}

/** Validates a module name (rdk `utils.ValidateModuleName`). Returns the error text or undefined. */
export function validateModuleName(name: string): string | undefined {
  if (name.length > 200) return `module name ${goQuote(name)} must be 200 characters or fewer`;
  if (!VALID_NAME.test(name)) return `module name ${goQuote(name)} ${NAME_EXPLANATION}`;
  return undefined;
}

/** Formats a string as Go's `%q` does for the characters that occur in practice. */
export function goQuote(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; break;
      case "\\": out += "\\\\"; break;
      case "\n": out += "\\n"; break;
      case "\r": out += "\\r"; break;
      case "\t": out += "\\t"; break;
      case "\x07": out += "\\a"; break;
      case "\b": out += "\\b"; break;
      case "\f": out += "\\f"; break;
      case "\v": out += "\\v"; break;
      default:
        out += code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : ch;
    }
  }
  return out + '"';
}

// ---------------------------------------------------------------------------------------------
// Log levels

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Parses a log level like rdk's `logging.LevelFromString` (case-insensitive, `warning` = `warn`). */
export function parseLogLevel(text: string): LogLevel {
  switch (text.toLowerCase()) {
    case "debug": return "debug";
    case "info": return "info";
    case "warn":
    case "warning": return "warn";
    case "error": return "error";
    default: throw new Error(`unknown log level: ${goQuote(text)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Go durations (Go's `time.ParseDuration` grammar: `[-+]?(\d*\.?\d*unit)+` or `0`)

/** 2^63 - 1 ns, the largest Go duration (as a float). */
const MAX_DURATION_NS = 2 ** 63 - 1;

const NS_PER_UNIT: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "\u00b5s": 1e3, // micro sign
  "\u03bcs": 1e3, // Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * Parses a Go duration string such as `1m30s`, `250ms` or `1.5h` and returns milliseconds
 * (fractional below 1 ms). Throws with Go's error text (`time: invalid duration "x"`, ...).
 */
export function parseGoDuration(text: string): number {
  const invalid = () => new Error(`time: invalid duration ${goQuote(text)}`);
  let s = text;
  let negative = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    negative = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw invalid();
  let totalNs = 0;
  const segment = /^(\d*)(?:\.(\d*))?/;
  while (s !== "") {
    if (!/^[0-9.]/.test(s)) throw invalid();
    const m = segment.exec(s)!;
    const whole = m[1] ?? "";
    const frac = m[2];
    if (whole === "" && (frac === undefined || frac === "")) throw invalid();
    s = s.slice(m[0].length);
    let unitLength = 0;
    while (unitLength < s.length && !/[0-9.]/.test(s[unitLength]!)) unitLength++;
    if (unitLength === 0) throw new Error(`time: missing unit in duration ${goQuote(text)}`);
    const unit = s.slice(0, unitLength);
    s = s.slice(unitLength);
    const scale = NS_PER_UNIT[unit];
    if (scale === undefined) throw new Error(`time: unknown unit ${goQuote(unit)} in duration ${goQuote(text)}`);
    const value = Number(`${whole === "" ? "0" : whole}.${frac ?? ""}0`);
    totalNs += value * scale;
    if (totalNs > MAX_DURATION_NS) throw invalid(); // beyond Go's int64 nanoseconds
  }
  const ms = totalNs / 1e6;
  return negative ? -ms : ms;
}

/** Formats milliseconds as Go's `time.Duration.String` does (`1m30s`, `250ms`, `1.5µs`, `0s`). */
export function formatGoDuration(ms: number): string {
  let ns = Math.round(ms * 1e6);
  if (ns === 0) return "0s";
  const sign = ns < 0 ? "-" : "";
  ns = Math.abs(ns);
  const trim = (whole: number, frac: number, digits: number): string => {
    if (frac === 0) return String(whole);
    return `${whole}.${String(frac).padStart(digits, "0").replace(/0+$/, "")}`;
  };
  if (ns < 1e3) return `${sign}${ns}ns`;
  if (ns < 1e6) return `${sign}${trim(Math.floor(ns / 1e3), ns % 1e3, 3)}\u00b5s`;
  if (ns < 1e9) return `${sign}${trim(Math.floor(ns / 1e6), ns % 1e6, 6)}ms`;
  const hours = Math.floor(ns / 3600e9);
  const minutes = Math.floor((ns % 3600e9) / 60e9);
  const secNs = ns % 60e9;
  const seconds = trim(Math.floor(secNs / 1e9), secNs % 1e9, 9);
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

// ---------------------------------------------------------------------------------------------
// Raw JSON shape (what the file may contain). Go's encoding/json treats `null` like an absent
// field, so every optional field is nullish. Unknown keys are allowed and ignored, as in rdk.

const nullish = <T extends z.ZodType>(schema: T) => schema.nullish();
const jsonObject = z.record(z.string(), z.unknown());

export const rawFrameSchema = z.looseObject({
  id: nullish(z.string()),
  parent: z.string(),
  translation: nullish(
    z.looseObject({ x: nullish(z.number()), y: nullish(z.number()), z: nullish(z.number()) }),
  ),
  orientation: nullish(z.looseObject({ type: z.string(), value: nullish(jsonObject) })),
  geometry: nullish(jsonObject),
});

export const rawAssociatedConfigSchema = z.looseObject({
  type: z.string(),
  attributes: nullish(jsonObject),
});

export const rawResourceSchema = z.looseObject({
  name: nullish(z.string()),
  api: nullish(
    z.union([
      z.string(),
      z.looseObject({ namespace: nullish(z.string()), type: nullish(z.string()), subtype: nullish(z.string()) }),
    ]),
  ),
  namespace: nullish(z.string()),
  type: nullish(z.string()),
  model: nullish(
    z.union([
      z.string(),
      z.looseObject({ namespace: nullish(z.string()), model_family: nullish(z.string()), name: nullish(z.string()) }),
    ]),
  ),
  attributes: nullish(jsonObject),
  depends_on: nullish(z.array(z.string())),
  frame: nullish(rawFrameSchema),
  service_configs: nullish(z.array(rawAssociatedConfigSchema)),
  log_configuration: nullish(z.looseObject({ level: z.string() })),
});

export const rawRemoteSchema = z.looseObject({
  name: nullish(z.string()),
  address: nullish(z.string()),
  auth: nullish(
    z.looseObject({
      entity: nullish(z.string()),
      credentials: nullish(z.looseObject({ type: z.string(), payload: nullish(z.string()) })),
    }),
  ),
  secret: nullish(z.string()),
  insecure: nullish(z.boolean()),
  prefix: nullish(z.string()),
  frame: nullish(rawFrameSchema),
  connection_check_interval: nullish(z.string()),
  reconnect_interval: nullish(z.string()),
  service_configs: nullish(z.array(rawAssociatedConfigSchema)),
  managed_by: nullish(z.string()),
  part_config: nullish(jsonObject),
});

export const rawModuleSchema = z.looseObject({
  name: nullish(z.string()),
  type: nullish(z.enum(["local", "registry"])),
  executable_path: nullish(z.string()),
  module_id: nullish(z.string()),
  log_level: nullish(z.string()),
  env: nullish(z.record(z.string(), z.string())),
  tcp_mode: nullish(z.boolean()),
  first_run_timeout: nullish(z.string()),
});

export const rawNetworkSchema = z.looseObject({
  fqdn: nullish(z.string()),
  bind_address: nullish(z.string()),
  tls_cert_file: nullish(z.string()),
  tls_key_file: nullish(z.string()),
  no_tls: nullish(z.boolean()),
  sessions: nullish(z.looseObject({ heartbeat_window: nullish(z.string()) })),
  traffic_tunnel_endpoints: nullish(
    z.array(z.looseObject({ port: z.number().int(), connection_timeout: nullish(z.string()) })),
  ),
});

export const rawAuthSchema = z.looseObject({
  handlers: nullish(z.array(z.looseObject({ type: nullish(z.string()), config: nullish(jsonObject) }))),
  tls_auth_entities: nullish(z.array(z.string())),
  external_auth_config: nullish(z.looseObject({ jwks: nullish(jsonObject) })),
});

/** rdk `cloudData`: only the fields Sprocket uses are typed; the rest stay verbatim in `extra.cloud`. */
export const rawCloudSchema = z.looseObject({
  id: nullish(z.string()),
  secret: nullish(z.string()),
  api_key: nullish(z.looseObject({ id: nullish(z.string()), key: nullish(z.string()) })),
  fqdn: nullish(z.string()),
  local_fqdn: nullish(z.string()),
  signaling_address: nullish(z.string()),
  signaling_insecure: nullish(z.boolean()),
});

export const rawMachineConfigSchema = z.looseObject({
  components: nullish(z.array(rawResourceSchema)),
  services: nullish(z.array(rawResourceSchema)),
  remotes: nullish(z.array(rawRemoteSchema)),
  modules: nullish(z.array(rawModuleSchema)),
  network: nullish(rawNetworkSchema),
  auth: nullish(rawAuthSchema),
  debug: nullish(z.boolean()),
  enable_web_profile: nullish(z.boolean()),
  log: nullish(z.array(z.looseObject({ pattern: z.string(), level: z.string() }))),
  revision: nullish(z.string()),
  maintenance: nullish(
    z.looseObject({ sensor_name: nullish(z.string()), maintenance_allowed_key: nullish(z.string()) }),
  ),
  disable_log_deduplication: nullish(z.boolean()),
  cloud: nullish(rawCloudSchema),
});

export type RawMachineConfig = z.infer<typeof rawMachineConfigSchema>;
export type RawResourceConfig = z.infer<typeof rawResourceSchema>;
export type RawRemoteConfig = z.infer<typeof rawRemoteSchema>;
export type RawModuleConfig = z.infer<typeof rawModuleSchema>;
export type RawFrameConfig = z.infer<typeof rawFrameSchema>;
export type RawAssociatedConfig = z.infer<typeof rawAssociatedConfigSchema>;

/** Top-level keys this schema interprets; anything else lands in `MachineConfig.extra`. */
export const KNOWN_TOP_LEVEL_KEYS: ReadonlySet<string> = new Set(
  // `cloud` is parsed into `MachineConfig.cloud` and also kept verbatim in `extra` (its other fields).
  Object.keys(rawMachineConfigSchema.shape).filter((k) => k !== "cloud"),
);

// ---------------------------------------------------------------------------------------------
// Normalized form

/** Where an entry came from in its file (1-based line and column of the entry's `{`). */
export interface ConfigOrigin {
  source: string;
  path: string;
  line: number;
  column: number;
}

export interface Translation {
  x: number;
  y: number;
  z: number;
}

export interface Orientation {
  type: string;
  value: Record<string, unknown>;
}

export interface FrameConfig {
  id?: string;
  parent: string;
  translation: Translation;
  orientation?: Orientation;
  geometry?: Record<string, unknown>;
}

/** One `service_configs` entry: configuration a service (e.g. data_manager) keeps for this resource. */
export interface AssociatedResourceConfig {
  api: Api;
  apiString: string;
  attributes: Record<string, unknown>;
}

export interface ResourceConfig {
  name: string;
  api: Api;
  /** `namespace:type:subtype` */
  apiString: string;
  model: Model;
  /** `namespace:family:name` */
  modelString: string;
  attributes: Record<string, unknown>;
  /** Explicit dependencies, as written (may use `remote:name`); resolved later by the graph. */
  dependsOn: string[];
  frame?: FrameConfig;
  serviceConfigs: AssociatedResourceConfig[];
  logConfiguration?: { level: LogLevel };
  origin?: ConfigOrigin;
}

export interface Credentials {
  type: string;
  payload: string;
}

export interface RemoteConfig {
  name: string;
  /** `host:port` */
  address: string;
  auth: { entity?: string; credentials?: Credentials };
  insecure: boolean;
  /** Prepended to the remote's resource names. */
  prefix: string;
  frame?: FrameConfig;
  connectionCheckIntervalMs: number;
  reconnectIntervalMs: number;
  serviceConfigs: AssociatedResourceConfig[];
  managedBy?: string;
  /** Sprocket extension: an inline config for the remote part (used by later work). */
  partConfig?: Record<string, unknown>;
  origin?: ConfigOrigin;
}

export type ModuleType = "local" | "registry";

export interface ModuleConfig {
  name: string;
  type: ModuleType;
  executablePath: string;
  moduleId?: string;
  /** Passed as `--log-level=<level>`; empty means "follow the server's debug flag". */
  logLevel: string;
  env: Record<string, string>;
  tcpMode: boolean;
  firstRunTimeoutMs: number;
  origin?: ConfigOrigin;
}

export interface NetworkConfig {
  fqdn: string;
  bindAddress: string;
  /** True when `bind_address` was absent and the default was filled in. */
  bindAddressDefaultSet: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  noTls: boolean;
  sessions: { heartbeatWindowMs: number };
  trafficTunnelEndpoints: { port: number; connectionTimeoutMs?: number }[];
}

export interface ApiKeyHandlerConfig {
  type: typeof API_KEY_CREDENTIALS_TYPE;
  /** The handler's `config` object as written. */
  config: Record<string, unknown>;
  /** The legacy `keys` list (required non-empty by rdk, not used for checking). */
  keys: string[];
  /** key id → key secret (every `config` entry except `keys`/`key`). */
  apiKeys: Record<string, string>;
}

export type AuthHandlerConfig = ApiKeyHandlerConfig;

export interface AuthConfig {
  handlers: AuthHandlerConfig[];
  tlsAuthEntities: string[];
  externalAuthConfig?: { jwks: Record<string, unknown> };
}

export interface LogPatternConfig {
  pattern: string;
  level: LogLevel;
}

export interface MaintenanceConfig {
  /** Full resource name, e.g. `rdk:component:sensor/s1`. */
  sensorName: string;
  maintenanceAllowedKey: string;
}

/** Default port of a signaling address without one (goutils dials TLS on 443). */
export const DEFAULT_SIGNALING_PORT = 443;

/**
 * rdk's `cloud` section, as far as the external answerer needs it: the machine answers WebRTC calls
 * through the signaling server at `signaling_address`, authenticated with `api_key` (or `id` +
 * `secret`, a robot-secret), under the names `fqdn` and `local_fqdn`.
 */
export interface CloudConfig {
  /** The machine part id (`robot-secret` entity). */
  id: string;
  secret: string;
  apiKey?: { id: string; key: string };
  fqdn: string;
  localFqdn: string;
  /** As written: `host:port` (rdk), or a Sprocket `http://`/`https://` URL. Empty: no external signaling. */
  signalingAddress: string;
  signalingInsecure: boolean;
  /** The signaling server's base URL, derived from the two above; undefined when there is no address. */
  signalingUrl?: string;
}

export interface MachineConfig {
  /** The file name (or other label) the config was read from. */
  source: string;
  components: ResourceConfig[];
  services: ResourceConfig[];
  remotes: RemoteConfig[];
  modules: ModuleConfig[];
  network: NetworkConfig;
  auth: AuthConfig;
  log: LogPatternConfig[];
  debug: boolean;
  enableWebProfile: boolean;
  revision: string;
  maintenance?: MaintenanceConfig;
  disableLogDeduplication: boolean;
  /** The `cloud` section, when present and not null. */
  cloud?: CloudConfig;
  /** Top-level keys not interpreted here (cloud, packages, jobs, processes, tracing, unknown keys), verbatim. */
  extra: Record<string, unknown>;
}
