// Reads a machine config file: JSON syntax (jsonc-parser, strict JSON), shape (zod), then the
// semantic rules rdk applies (`Config.Ensure` and the per-entry `Validate` methods), and builds
// the normalized `MachineConfig`. Every problem is reported as `file:line:column: path: message`.
import { readFile } from "node:fs/promises";
import { parseTree, printParseErrorCode } from "jsonc-parser";
import type { Node as JsonNode, ParseError } from "jsonc-parser";
import type * as z from "zod";
import { apiString } from "../resource/name.js";
import {
  API_KEY_CREDENTIALS_TYPE,
  API_TYPE_COMPONENT,
  API_TYPE_SERVICE,
  DEFAULT_BIND_ADDRESS,
  DEFAULT_HEARTBEAT_WINDOW_MS,
  DEFAULT_MODULE_FIRST_RUN_TIMEOUT_MS,
  DEFAULT_REMOTE_CONNECTION_CHECK_INTERVAL_MS,
  DEFAULT_REMOTE_RECONNECT_INTERVAL_MS,
  DEFAULT_SERVICE_MODEL,
  DEFAULT_SERVICE_NAME,
  DEFAULT_SIGNALING_PORT,
  KNOWN_TOP_LEVEL_KEYS,
  MAX_HEARTBEAT_WINDOW_MS,
  MIN_HEARTBEAT_WINDOW_MS,
  RESERVED_MODULE_NAME,
  goQuote,
  modelToString,
  parseApi,
  parseGoDuration,
  parseLogLevel,
  parseModel,
  parsePossibleServiceApi,
  rawMachineConfigSchema,
  validateApi,
  validateModel,
  validateModuleName,
  validateResourceName,
} from "./schema.js";
import type {
  Api,
  AssociatedResourceConfig,
  AuthConfig,
  AuthHandlerConfig,
  CloudConfig,
  ConfigOrigin,
  FrameConfig,
  LogPatternConfig,
  MachineConfig,
  Model,
  ModuleConfig,
  NetworkConfig,
  RawAssociatedConfig,
  RawFrameConfig,
  RawMachineConfig,
  RawModuleConfig,
  RawRemoteConfig,
  RawResourceConfig,
  RemoteConfig,
  ResourceConfig,
} from "./schema.js";

// ---------------------------------------------------------------------------------------------
// Errors

type PathSegment = string | number;

/** One problem in a config file. `line` and `column` are 1-based; 0 when not tied to a place. */
export interface ConfigIssue {
  source: string;
  line: number;
  column: number;
  /** JSON path such as `components[2].attributes.max_rpm` ("" for the whole document). */
  path: string;
  message: string;
}

const MAX_REPORTED_ISSUES = 20;

export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.source}:${issue.line}:${issue.column}` : issue.source;
  return issue.path === "" ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

/** Thrown for any unreadable or invalid config. The message lists the issues, one per line. */
export class ConfigError extends Error {
  readonly source: string;
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    const shown = issues.slice(0, MAX_REPORTED_ISSUES).map(formatConfigIssue);
    if (issues.length > MAX_REPORTED_ISSUES) shown.push(`(and ${issues.length - MAX_REPORTED_ISSUES} more problems)`);
    super(shown.join("\n"), options);
    this.name = "ConfigError";
    this.source = source;
    this.issues = issues;
  }
}

/** Formats a JSON path: `components[2].attributes.max_rpm`, `env["A B"]`. */
export function formatJsonPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Positions

class SourceText {
  private readonly lineStarts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
  }

  /** 1-based line and column (UTF-16 code units) of an offset. */
  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
  }
}

interface PendingIssue {
  path: PathSegment[];
  message: string;
}

/** Finds the property node for a key; with duplicate keys the last one wins, as in JSON.parse and Go. */
function propertyNode(object: JsonNode, key: string): JsonNode | undefined {
  let found: JsonNode | undefined;
  for (const prop of object.children ?? []) {
    if (prop.children?.[0]?.value === key) found = prop;
  }
  return found;
}

/** The offset an issue at `path` points to: the value when it exists, else the nearest enclosing value. */
function offsetFor(root: JsonNode, path: readonly PathSegment[]): number {
  let node = root;
  for (const seg of path) {
    let next: JsonNode | undefined;
    if (node.type === "object" && typeof seg === "string") {
      next = propertyNode(node, seg)?.children?.[1];
    } else if (node.type === "array" && typeof seg === "number") {
      next = node.children?.[seg];
    }
    if (!next) return node.offset;
    node = next;
  }
  return node.offset;
}

/** Converts the syntax tree to plain values; `__proto__` keys stay ordinary data. */
function nodeToValue(node: JsonNode): unknown {
  switch (node.type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const prop of node.children ?? []) {
        const [key, value] = prop.children ?? [];
        if (!key || !value) continue;
        Object.defineProperty(out, key.value as string, {
          value: nodeToValue(value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    case "array":
      return (node.children ?? []).map(nodeToValue);
    default:
      return node.value;
  }
}

// ---------------------------------------------------------------------------------------------
// Syntax

function previousSignificantChar(text: string, offset: number): string | undefined {
  for (let i = offset - 1; i >= 0; i--) {
    if (!/\s/.test(text[i]!)) return text[i];
  }
  return undefined;
}

function syntaxMessage(text: string, error: ParseError, root: JsonNode | undefined): string {
  const code = printParseErrorCode(error.error);
  const atEnd = text.slice(error.offset).trim() === "";
  const here = text[error.offset];
  const token = text.slice(error.offset, error.offset + Math.max(error.length, 1));
  if (text.trim() === "") return "empty file: expected a JSON object";
  if (root && error.offset >= root.offset + root.length && (code === "EndOfFileExpected" || code === "InvalidSymbol")) {
    return `unexpected ${JSON.stringify(token)} after the end of the JSON value`;
  }
  const prev = previousSignificantChar(text, error.offset);
  switch (code) {
    case "PropertyNameExpected":
      if (prev === "," && here === "}") return "trailing comma is not allowed in JSON";
      return atEnd ? "unexpected end of file: expected a property name" : "expected a property name in double quotes";
    case "ValueExpected":
      if (prev === "," && here === "]") return "trailing comma is not allowed in JSON";
      return atEnd ? "unexpected end of file: expected a value" : `expected a value, got ${JSON.stringify(token)}`;
    case "ColonExpected":
      return atEnd ? "unexpected end of file: expected ':'" : "expected ':' after the property name";
    case "CommaExpected":
      if (prev === "0" && /[0-9]/.test(here ?? "") && !/[0-9.eE+-]/.test(text[error.offset - 2] ?? "")) {
        return "numbers may not have leading zeros";
      }
      return atEnd ? "unexpected end of file: expected ','" : "expected ',' before this value";
    case "CloseBraceExpected":
      return atEnd ? "unexpected end of file: expected '}'" : "expected ',' or '}'";
    case "CloseBracketExpected":
      return atEnd ? "unexpected end of file: expected ']'" : "expected ',' or ']'";
    case "EndOfFileExpected":
      return `unexpected ${JSON.stringify(token)} after the end of the JSON value`;
    case "InvalidSymbol":
      return `unexpected ${JSON.stringify(token)}`;
    case "InvalidCommentToken":
    case "UnexpectedEndOfComment":
      return "comments are not allowed in JSON";
    case "UnexpectedEndOfString":
      return "unterminated string";
    case "InvalidNumberFormat":
    case "UnexpectedEndOfNumber":
      return "invalid number";
    case "InvalidUnicode":
      return "invalid unicode escape in string";
    case "InvalidEscapeCharacter":
      return "invalid escape character in string";
    case "InvalidCharacter":
      return "control character in string (it must be escaped)";
    default:
      return `invalid JSON (${code})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Shape (zod issues → messages)

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") {
    const text = JSON.stringify(value);
    return text.length > 42 ? `${text.slice(0, 40)}…"` : text;
  }
  return String(value);
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "a boolean",
  array: "an array",
  object: "an object",
  record: "an object",
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function shapeIssues(issue: z.core.$ZodIssue, base: readonly PathSegment[] = []): PendingIssue[] {
  const path = [...base, ...(issue.path as PathSegment[])];
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return [{ path, message: "missing required field" }];
      return [{ path, message: `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}` }];
    case "invalid_union": {
      // Report against the branch that matches the value's kind: an object is checked field by
      // field against the object form; anything else is reported against the first (string) form.
      if (!("errors" in issue) || issue.errors.length === 0) return [{ path, message: issue.message }];
      const input = issue.input;
      const branches = issue.errors;
      const objectBranch = branches.find((b) => b.length > 0 && b.every((i) => i.path.length > 0));
      if (isPlainObject(input) && objectBranch) return objectBranch.flatMap((i) => shapeIssues(i, path));
      const first = branches[0]![0]!;
      if (first.code === "invalid_type" && first.path.length === 0) {
        return [{ path, message: `expected ${EXPECTED[first.expected] ?? first.expected}, got ${describeValue(input)}` }];
      }
      return [{ path, message: issue.message }];
    }
    case "invalid_value":
      return [{ path, message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${describeValue(issue.input)}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

// ---------------------------------------------------------------------------------------------
// Semantics and normalization

/** Mirrors Go's `net.SplitHostPort` checks; returns the error text or undefined. */
function splitHostPortError(hostport: string): string | undefined {
  const fail = (why: string) => `address ${hostport}: ${why}`;
  const i = hostport.lastIndexOf(":");
  if (i < 0) return fail("missing port in address");
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    if (end < 0) return fail("missing ']' in address");
    if (end + 1 === hostport.length) return fail("missing port in address");
    if (end + 1 !== i) return fail(hostport[end + 1] === ":" ? "too many colons in address" : "missing port in address");
    if (hostport.slice(1, end).includes("[")) return fail("unexpected '[' in address");
    if (hostport.slice(end + 1).includes("]")) return fail("unexpected ']' in address");
  } else {
    const host = hostport.slice(0, i);
    if (host.includes(":")) return fail("too many colons in address");
    if (host.includes("[")) return fail("unexpected '[' in address");
    if (host.includes("]")) return fail("unexpected ']' in address");
  }
  if (hostport.slice(i + 1).includes("[")) return fail("unexpected '[' in address");
  if (hostport.slice(i + 1).includes("]")) return fail("unexpected ']' in address");
  return undefined;
}

class Normalizer {
  readonly issues: PendingIssue[] = [];

  constructor(
    private readonly source: string,
    private readonly root: JsonNode,
    private readonly text: SourceText,
  ) {}

  fail(path: PathSegment[], message: string): void {
    this.issues.push({ path, message });
  }

  origin(path: PathSegment[]): ConfigOrigin {
    const { line, column } = this.text.position(offsetFor(this.root, path));
    return { source: this.source, path: formatJsonPath(path), line, column };
  }

  place(path: PathSegment[]): string {
    const { line, column } = this.text.position(offsetFor(this.root, path));
    return `${formatJsonPath(path)} (${line}:${column})`;
  }

  duration(path: PathSegment[], text: string | null | undefined): number | undefined {
    if (text === null || text === undefined || text === "") return undefined;
    try {
      return parseGoDuration(text);
    } catch (err) {
      this.fail(path, (err as Error).message);
      return undefined;
    }
  }

  machine(raw: RawMachineConfig): MachineConfig {
    const components = (raw.components ?? []).map((c, i) => this.resource(c, "components", i));
    const services = (raw.services ?? []).map((s, i) => this.resource(s, "services", i));
    this.checkDuplicateResources([...components, ...services]);
    const remotes = (raw.remotes ?? []).map((r, i) => this.remote(r, i));
    this.checkDuplicateNames(remotes, "remotes", "remote");
    const modules = (raw.modules ?? []).map((m, i) => this.module(m, i));
    this.checkDuplicateNames(modules, "modules", "module");
    const log: LogPatternConfig[] = (raw.log ?? []).map((entry, i) => ({
      pattern: entry.pattern,
      level: this.logLevel(["log", i, "level"], entry.level) ?? "info",
    }));
    const extra: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (!KNOWN_TOP_LEVEL_KEYS.has(key)) extra[key] = value;
    }
    const config: MachineConfig = {
      source: this.source,
      components,
      services,
      remotes,
      modules,
      network: this.network(raw.network ?? {}),
      auth: this.auth(raw.auth ?? {}),
      log,
      debug: raw.debug ?? false,
      enableWebProfile: raw.enable_web_profile ?? false,
      revision: raw.revision ?? "",
      disableLogDeduplication: raw.disable_log_deduplication ?? false,
      extra,
    };
    if (raw.cloud) config.cloud = this.cloud(raw.cloud, config.network.fqdn);
    if (raw.maintenance) {
      config.maintenance = {
        sensorName: raw.maintenance.sensor_name ?? "",
        maintenanceAllowedKey: raw.maintenance.maintenance_allowed_key ?? "",
      };
    }
    return config;
  }

  logLevel(path: PathSegment[], text: string): LogPatternConfig["level"] | undefined {
    try {
      return parseLogLevel(text);
    } catch (err) {
      this.fail(path, (err as Error).message);
      return undefined;
    }
  }

  resource(raw: RawResourceConfig, kind: "components" | "services", index: number): ResourceConfig {
    const at = (...rest: PathSegment[]): PathSegment[] => [kind, index, ...rest];
    const defaultType = kind === "components" ? API_TYPE_COMPONENT : API_TYPE_SERVICE;

    // API: `api` when present, else the legacy `namespace` + `type` pair.
    let api: Api = { namespace: "rdk", type: defaultType, subtype: "" };
    if (raw.api !== null && raw.api !== undefined) {
      if (typeof raw.api === "string") {
        try {
          api = parseApi(raw.api);
        } catch (err) {
          this.fail(at("api"), (err as Error).message);
        }
      } else {
        api = { namespace: raw.api.namespace ?? "", type: raw.api.type ?? "", subtype: raw.api.subtype ?? "" };
        const problem = validateApi(api);
        if (problem) this.fail(at("api"), problem);
      }
    } else {
      api = { namespace: raw.namespace || "rdk", type: defaultType, subtype: raw.type ?? "" };
      if (api.subtype === "") {
        this.fail(at("api"), 'missing required field (set "api", e.g. "rdk:component:motor", or the legacy "type")');
      } else {
        const problem = validateApi(api);
        if (problem) this.fail(at(raw.namespace ? "namespace" : "type"), problem);
      }
    }
    const isService = api.type === API_TYPE_SERVICE;

    // Model: a triplet, a short name (rdk:builtin:<name>) or an object; services default to builtin.
    let model: Model = { ...DEFAULT_SERVICE_MODEL };
    if (raw.model === null || raw.model === undefined) {
      if (!isService) this.fail(at("model"), "missing required field");
    } else if (typeof raw.model === "string") {
      try {
        model = parseModel(raw.model);
      } catch (err) {
        this.fail(at("model"), (err as Error).message);
      }
    } else {
      model = { namespace: raw.model.namespace ?? "", family: raw.model.model_family ?? "", name: raw.model.name ?? "" };
      if (model.name === "" && isService) model = { ...model, name: DEFAULT_SERVICE_MODEL.name };
      const problem = validateModel(model);
      if (problem) this.fail(at("model"), problem);
    }

    let name = raw.name ?? "";
    if (name === "" && isService) name = DEFAULT_SERVICE_NAME;
    if (name === "") {
      this.fail(at("name"), "missing required field");
    } else {
      const problem = validateResourceName(name);
      if (problem) this.fail(at("name"), problem);
    }

    const config: ResourceConfig = {
      name,
      api,
      apiString: apiString(api),
      model,
      modelString: modelToString(model),
      attributes: raw.attributes ?? {},
      dependsOn: raw.depends_on ?? [],
      serviceConfigs: this.serviceConfigs(raw.service_configs, at("service_configs")),
      origin: this.origin(at()),
    };
    if (raw.frame) config.frame = this.frame(raw.frame);
    if (raw.log_configuration) {
      const level = this.logLevel(at("log_configuration", "level"), raw.log_configuration.level);
      if (level) config.logConfiguration = { level };
    }
    return config;
  }

  serviceConfigs(raw: RawAssociatedConfig[] | null | undefined, path: PathSegment[]): AssociatedResourceConfig[] {
    const out: AssociatedResourceConfig[] = [];
    (raw ?? []).forEach((entry, i) => {
      try {
        const api = parsePossibleServiceApi(entry.type);
        out.push({ api, apiString: apiString(api), attributes: entry.attributes ?? {} });
      } catch (err) {
        this.fail([...path, i, "type"], (err as Error).message);
      }
    });
    return out;
  }

  frame(raw: RawFrameConfig): FrameConfig {
    const frame: FrameConfig = {
      parent: raw.parent,
      translation: { x: raw.translation?.x ?? 0, y: raw.translation?.y ?? 0, z: raw.translation?.z ?? 0 },
    };
    if (raw.id) frame.id = raw.id;
    if (raw.orientation) frame.orientation = { type: raw.orientation.type, value: raw.orientation.value ?? {} };
    if (raw.geometry) frame.geometry = raw.geometry;
    return frame;
  }

  checkDuplicateResources(resources: ResourceConfig[]): void {
    const seen = new Map<string, ResourceConfig>();
    for (const res of resources) {
      if (res.name === "" || !res.origin) continue;
      const key = `${res.apiString}/${res.name}`;
      const first = seen.get(key);
      if (!first) {
        seen.set(key, res);
        continue;
      }
      const path = this.entryPath(res.origin.path);
      const firstPath = this.entryPath(first.origin!.path);
      this.fail(
        [...path, "name"],
        `duplicate resource ${goQuote(res.name)} of API ${res.apiString}; first defined at ${this.place([...firstPath, "name"])}`,
      );
    }
  }

  checkDuplicateNames(entries: { name: string; origin?: ConfigOrigin }[], list: "remotes" | "modules", what: string): void {
    const seen = new Map<string, number>();
    entries.forEach((entry, i) => {
      if (entry.name === "") return;
      const first = seen.get(entry.name);
      if (first === undefined) {
        seen.set(entry.name, i);
        return;
      }
      this.fail([list, i, "name"], `duplicate ${what} name ${goQuote(entry.name)}; first defined at ${this.place([list, first, "name"])}`);
    });
  }

  /** Turns "components[3]" back into path segments. */
  entryPath(path: string): PathSegment[] {
    const m = /^(\w+)\[(\d+)\]$/.exec(path)!;
    return [m[1]!, Number(m[2])];
  }

  remote(raw: RawRemoteConfig, index: number): RemoteConfig {
    const at = (...rest: PathSegment[]): PathSegment[] => ["remotes", index, ...rest];
    const name = raw.name ?? "";
    if (name === "") this.fail(at("name"), "missing required field");
    else {
      const problem = validateResourceName(name);
      if (problem) this.fail(at("name"), problem);
    }
    const address = raw.address ?? "";
    if (address === "") this.fail(at("address"), "missing required field");

    const auth: RemoteConfig["auth"] = {};
    if (raw.auth?.entity) auth.entity = raw.auth.entity;
    if (raw.auth?.credentials) auth.credentials = { type: raw.auth.credentials.type, payload: raw.auth.credentials.payload ?? "" };
    if (raw.secret) {
      // rdk: the legacy `secret` replaces `auth` with robot-location-secret credentials.
      delete auth.entity;
      auth.credentials = { type: "robot-location-secret", payload: raw.secret };
    }

    const remote: RemoteConfig = {
      name,
      address,
      auth,
      insecure: raw.insecure ?? false,
      prefix: raw.prefix ?? "",
      connectionCheckIntervalMs:
        this.duration(at("connection_check_interval"), raw.connection_check_interval) ||
        DEFAULT_REMOTE_CONNECTION_CHECK_INTERVAL_MS,
      reconnectIntervalMs:
        this.duration(at("reconnect_interval"), raw.reconnect_interval) || DEFAULT_REMOTE_RECONNECT_INTERVAL_MS,
      serviceConfigs: this.serviceConfigs(raw.service_configs, at("service_configs")),
      origin: this.origin(at()),
    };
    if (raw.frame) remote.frame = this.frame(raw.frame);
    if (raw.managed_by) remote.managedBy = raw.managed_by;
    if (raw.part_config) remote.partConfig = raw.part_config;
    return remote;
  }

  module(raw: RawModuleConfig, index: number): ModuleConfig {
    const at = (...rest: PathSegment[]): PathSegment[] => ["modules", index, ...rest];
    const name = raw.name ?? "";
    if (name === "") this.fail(at("name"), "missing required field");
    else if (name === RESERVED_MODULE_NAME) this.fail(at("name"), `module name ${goQuote(name)} is reserved`);
    else {
      const problem = validateModuleName(name);
      if (problem) this.fail(at("name"), problem);
    }
    if (!raw.type) this.fail(at("type"), 'missing required field (one of "local", "registry")');
    const type = raw.type ?? "local";
    const executablePath = raw.executable_path ?? "";
    if (type === "local" && executablePath === "") this.fail(at("executable_path"), "missing required field");
    const module: ModuleConfig = {
      name,
      type,
      executablePath,
      logLevel: raw.log_level ?? "",
      env: raw.env ?? {},
      tcpMode: raw.tcp_mode ?? false,
      firstRunTimeoutMs: this.positive(this.duration(at("first_run_timeout"), raw.first_run_timeout)) ?? DEFAULT_MODULE_FIRST_RUN_TIMEOUT_MS,
      origin: this.origin(at()),
    };
    if (raw.module_id) module.moduleId = raw.module_id;
    return module;
  }

  positive(value: number | undefined): number | undefined {
    return value !== undefined && value > 0 ? value : undefined;
  }

  network(raw: NonNullable<RawMachineConfig["network"]>): NetworkConfig {
    const bindAddress = raw.bind_address || DEFAULT_BIND_ADDRESS;
    const hostPortProblem = splitHostPortError(bindAddress);
    if (hostPortProblem) this.fail(["network", "bind_address"], `error validating bind_address: ${hostPortProblem}`);

    const cert = raw.tls_cert_file ?? "";
    const key = raw.tls_key_file ?? "";
    if ((cert === "") !== (key === "")) {
      this.fail(["network", cert === "" ? "tls_key_file" : "tls_cert_file"], "must provide both tls_cert_file and tls_key_file");
    }

    const windowPath = ["network", "sessions", "heartbeat_window"];
    let heartbeatWindowMs = this.duration(windowPath, raw.sessions?.heartbeat_window) ?? 0;
    if (heartbeatWindowMs === 0) heartbeatWindowMs = DEFAULT_HEARTBEAT_WINDOW_MS;
    else if (heartbeatWindowMs < MIN_HEARTBEAT_WINDOW_MS || heartbeatWindowMs > MAX_HEARTBEAT_WINDOW_MS) {
      this.fail(windowPath, `heartbeat_window must be between [30ms, 1m], got ${JSON.stringify(raw.sessions?.heartbeat_window)}`);
    }

    const network: NetworkConfig = {
      fqdn: raw.fqdn ?? "",
      bindAddress,
      bindAddressDefaultSet: !raw.bind_address,
      noTls: raw.no_tls ?? false,
      sessions: { heartbeatWindowMs },
      trafficTunnelEndpoints: (raw.traffic_tunnel_endpoints ?? []).map((t, i) => {
        const timeout = this.duration(["network", "traffic_tunnel_endpoints", i, "connection_timeout"], t.connection_timeout);
        return timeout === undefined ? { port: t.port } : { port: t.port, connectionTimeoutMs: timeout };
      }),
    };
    if (cert !== "") network.tlsCertFile = cert;
    if (key !== "") network.tlsKeyFile = key;
    return network;
  }

  /**
   * rdk's `Cloud.Validate` (not from the cloud): `id` is required, and credentials for the signaling
   * server: a whole `api_key`, or `secret`. `signaling_address` is rdk's `host[:port]` (port 443, TLS
   * unless `signaling_insecure`) or, as a Sprocket extension, an `http://` / `https://` URL.
   */
  cloud(raw: NonNullable<RawMachineConfig["cloud"]>, networkFqdn: string): CloudConfig {
    const at = (...rest: PathSegment[]): PathSegment[] => ["cloud", ...rest];
    const id = raw.id ?? "";
    const secret = raw.secret ?? "";
    const keyId = raw.api_key?.id ?? "";
    const key = raw.api_key?.key ?? "";
    if (id === "") this.fail(at("id"), "missing required field");
    if ((keyId === "") !== (key === "")) {
      this.fail(at("api_key", keyId === "" ? "id" : "key"), "missing required field (api_key needs both id and key)");
    } else if (keyId === "" && secret === "") {
      this.fail(at("api_key"), "missing required field (the machine's credentials: api_key, or secret)");
    }
    const cloud: CloudConfig = {
      id,
      secret,
      fqdn: raw.fqdn ?? "",
      localFqdn: raw.local_fqdn ?? "",
      signalingAddress: raw.signaling_address ?? "",
      signalingInsecure: raw.signaling_insecure ?? false,
    };
    if (keyId !== "" && key !== "") cloud.apiKey = { id: keyId, key };
    if (cloud.signalingAddress !== "") {
      const url = this.signalingUrl(at("signaling_address"), cloud.signalingAddress, cloud.signalingInsecure);
      if (url !== undefined) cloud.signalingUrl = url;
      if (cloud.fqdn === "" && networkFqdn === "") {
        this.fail(at("fqdn"), "missing required field (the name callers ask the signaling server for; or set network.fqdn)");
      }
    }
    return cloud;
  }

  signalingUrl(path: PathSegment[], address: string, insecure: boolean): string | undefined {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) {
      let url: URL;
      try {
        url = new URL(address);
      } catch {
        this.fail(path, `invalid URL ${goQuote(address)}`);
        return undefined;
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        this.fail(path, `unsupported scheme ${goQuote(url.protocol.slice(0, -1))} (use http or https, or host:port)`);
        return undefined;
      }
      if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
        this.fail(path, `${goQuote(address)} must be a base URL (no credentials, query or fragment)`);
        return undefined;
      }
      return url.href.replace(/\/+$/, "");
    }
    // goutils dials a bare host on port 443.
    const hostPort = splitHostPortError(address) === undefined ? address : `${address}:${DEFAULT_SIGNALING_PORT}`;
    const problem = splitHostPortError(hostPort);
    if (problem || hostPort.startsWith(":")) {
      this.fail(path, `error validating signaling_address: ${problem ?? `address ${address}: missing host in address`}`);
      return undefined;
    }
    return `${insecure ? "http" : "https"}://${hostPort}`;
  }

  auth(raw: NonNullable<RawMachineConfig["auth"]>): AuthConfig {
    const handlers: AuthHandlerConfig[] = [];
    const seenTypes = new Set<string>();
    (raw.handlers ?? []).forEach((handler, i) => {
      const at = (...rest: PathSegment[]): PathSegment[] => ["auth", "handlers", i, ...rest];
      const type = handler.type ?? "";
      if (seenTypes.has(type)) {
        this.fail(at("type"), `duplicate handler type ${goQuote(type)}`);
        return;
      }
      seenTypes.add(type);
      if (type === "") return this.fail(at("type"), "handler must have type");
      if (type === "external") return this.fail(at("type"), "robot cannot issue external auth tokens");
      if (type !== API_KEY_CREDENTIALS_TYPE) return this.fail(at("type"), `do not know how to handle auth for ${goQuote(type)}`);

      const config = handler.config ?? {};
      const keysValue = config["keys"];
      let keys: string[] = [];
      if (Array.isArray(keysValue)) {
        keysValue.forEach((k, j) => {
          if (typeof k === "string") keys.push(k);
          else this.fail(at("config", "keys", j), `expected a string, got ${describeValue(k)}`);
        });
      } else if (keysValue !== undefined && keysValue !== null) {
        this.fail(at("config", "keys"), `expected an array of key ids, got ${describeValue(keysValue)}`);
        keys = ["invalid"]; // reported above; do not also report "keys is required"
      }
      if (keys.length === 0) this.fail(at("config", "keys"), "keys is required");

      const apiKeys: Record<string, string> = {};
      let badEntries = 0;
      for (const [keyId, secret] of Object.entries(config)) {
        if (keyId === "keys" || keyId === "key") continue; // legacy entries
        if (typeof secret !== "string") this.fail(at("config", keyId), `expected a string, got ${describeValue(secret)}`);
        else if (secret === "") this.fail(at("config", keyId), "API key must not be empty");
        else {
          Object.defineProperty(apiKeys, keyId, { value: secret, enumerable: true, writable: true, configurable: true });
          continue;
        }
        badEntries++;
      }
      if (Object.keys(apiKeys).length === 0 && keys.length > 0 && badEntries === 0) {
        this.fail(at("config"), `${goQuote(type)} handler requires non-empty API keys`);
      }
      handlers.push({ type: API_KEY_CREDENTIALS_TYPE, config, keys: Array.isArray(keysValue) ? keys : [], apiKeys });
    });

    const auth: AuthConfig = { handlers, tlsAuthEntities: raw.tls_auth_entities ?? [] };
    if (raw.external_auth_config) {
      const jwks = raw.external_auth_config.jwks ?? {};
      this.checkJwks(jwks);
      auth.externalAuthConfig = { jwks };
    }
    return auth;
  }

  /** rdk's `ExternalAuthConfig.Validate`: at least one key, RSA keys with RS256/384/512 only. */
  checkJwks(jwks: Record<string, unknown>): void {
    const path: PathSegment[] = ["auth", "external_auth_config", "jwks"];
    const keys = jwks["keys"];
    if (!Array.isArray(keys) || keys.length === 0) {
      this.fail(path, "must contain at least 1 key");
      return;
    }
    keys.forEach((key: unknown, i) => {
      const k = isPlainObject(key) ? key : {};
      if (k["kty"] !== "RSA") {
        this.fail([...path, "keys", i, "kty"], `failed to parse jwks, invalid key type (${String(k["kty"] ?? "")}) only (RSA) supported`);
      } else if (!["RS256", "RS384", "RS512"].includes(String(k["alg"]))) {
        this.fail([...path, "keys", i, "alg"], `failed to parse jwks, invalid alg (${String(k["alg"] ?? "")}) type only (RS256, RS384, RS512) supported`);
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * Parses and validates the text of a machine config. `source` names the file in messages.
 * Throws `ConfigError` listing every problem found (syntax errors stop at the first).
 */
export function parseMachineConfig(text: string, source: string): MachineConfig {
  // A byte-order mark is not JSON; blank it out so offsets stay the same.
  const body = text.startsWith("\ufeff") ? ` ${text.slice(1)}` : text;
  const sourceText = new SourceText(body);
  const toIssues = (pending: PendingIssue[], root: JsonNode): ConfigIssue[] =>
    pending
      .map((p) => ({ p, offset: offsetFor(root, p.path) }))
      .sort((a, b) => a.offset - b.offset)
      .map(({ p, offset }) => ({ source, ...sourceText.position(offset), path: formatJsonPath(p.path), message: p.message }));

  const errors: ParseError[] = [];
  const root = parseTree(body, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length > 0 || !root) {
    const first = errors[0] ?? { error: 4, offset: 0, length: 0 };
    const issue: ConfigIssue = { source, ...sourceText.position(first.offset), path: "", message: syntaxMessage(body, first, root) };
    throw new ConfigError(source, [issue]);
  }

  const value = nodeToValue(root);
  const shape = rawMachineConfigSchema.safeParse(value, { reportInput: true });
  if (!shape.success) {
    throw new ConfigError(source, toIssues(shape.error.issues.flatMap((i) => shapeIssues(i)), root));
  }

  const normalizer = new Normalizer(source, root, sourceText);
  const config = normalizer.machine(shape.data);
  if (normalizer.issues.length > 0) throw new ConfigError(source, toIssues(normalizer.issues, root));
  return config;
}

/** Reads and parses a machine config file; the path as given names the file in messages. */
export async function loadMachineConfig(path: string): Promise<MachineConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError(path, [{ source: path, line: 0, column: 0, path: "", message: `cannot read config: ${(err as Error).message}` }], { cause: err });
  }
  return parseMachineConfig(text, path);
}
