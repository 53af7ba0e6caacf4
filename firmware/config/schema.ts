// The machine-config subset a micro part understands: the JSON of a viam-server config, reduced to
// what the firmware uses, so a part's section of a machine config carries over as it is.
//
//   {
//     "components": [
//       { "name": "board", "api": "rdk:component:board", "model": "esp32", "attributes": { … } },
//       { "name": "m1", "type": "motor", "model": "rdk:builtin:gpio", "attributes": { … },
//         "depends_on": ["board"] }
//     ],
//     "network": { "bind_address": ":8081",              optional: the TCP port served
//                  "sessions": { "heartbeat_window": "2s" } },   optional: as viam-server's
//     "rpc_uart": { "port": 2, "receive": 16, "transmit": 17, "baud": 115200 }   optional
//   }
//
// A component names its API either as `api` ("rdk:component:motor") or, as older configs do, as
// `type` ("motor") with an optional `namespace`. A model without a colon is a builtin
// ("gpio" = "rdk:builtin:gpio"). Names are unique across components and may not contain ":" or
// "/". Other top-level keys (services, modules, remotes, …) are ignored; a micro part has none.
//
// Plain data and JSON.parse only: portable to XS, and importable by the host, which builds configs
// for its micro parts.
import type { JsonObject, JsonValue } from "../../proto/micro/runtime.js";
import { Attributes, ConfigError, isObject } from "./attributes.js";

export interface Api {
  readonly namespace: string;
  readonly type: string;
  readonly subtype: string;
}

export interface ComponentConfig {
  readonly name: string;
  readonly api: Api;
  /** Full model triplet, e.g. "rdk:builtin:gpio". */
  readonly model: string;
  readonly attributes: JsonObject;
  readonly dependsOn: readonly string[];
  /** Where the component sits in the config, for error texts: `components[2] (m1)`. */
  readonly path: string;
}

export interface UartConfig {
  readonly port: number;
  readonly receive: number;
  readonly transmit: number;
  readonly baud: number;
}

export interface MachineConfig {
  readonly components: readonly ComponentConfig[];
  /** TCP port of the RPC server: network.bind_address's port, else DEFAULT_RPC_PORT. */
  readonly port: number;
  readonly uart: UartConfig | undefined;
  /** network.sessions.heartbeat_window in ms, DEFAULT_HEARTBEAT_WINDOW_MS when not given. */
  readonly heartbeatWindowMs: number;
}

/**
 * The RPC port when the config names none. Not viam-server's 8080, so a host and a simulated part
 * can share a computer, and not micro-rdk's 12346, which speaks gRPC over HTTP/2, not this framing.
 */
export const DEFAULT_RPC_PORT = 8081;

/** viam-server's default session heartbeat window, and its bounds (rdk config.go). */
export const DEFAULT_HEARTBEAT_WINDOW_MS = 2000;
export const MIN_HEARTBEAT_WINDOW_MS = 30;
export const MAX_HEARTBEAT_WINDOW_MS = 60_000;

export const EMPTY_CONFIG: MachineConfig = { components: [], port: DEFAULT_RPC_PORT, uart: undefined, heartbeatWindowMs: DEFAULT_HEARTBEAT_WINDOW_MS };

export function apiString(api: Api): string {
  return api.namespace + ":" + api.type + ":" + api.subtype;
}

function triplet(text: string, what: string, path: string): [string, string, string] {
  const parts = text.split(":");
  if (parts.length !== 3 || parts.some((p) => p === "")) {
    throw new ConfigError(path + what + " " + JSON.stringify(text) + " is not of the form namespace:" + (what === "api" ? "type:subtype" : "family:name"));
  }
  return [parts[0], parts[1], parts[2]];
}

function parsePort(bindAddress: string): number {
  const colon = bindAddress.lastIndexOf(":");
  const text = colon < 0 ? bindAddress : bindAddress.slice(colon + 1);
  const port = Number(text);
  if (text === "" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError("network.bind_address " + JSON.stringify(bindAddress) + " has no valid port (expected host:port or :port)");
  }
  return port;
}

const MS_PER_UNIT: { readonly [unit: string]: number } = { ns: 1e-6, us: 1e-3, "\u00b5s": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as viam-server's config gives one, a Go duration string ("1.5s", "1m30s", "250ms"),
 * or a number of milliseconds; returns milliseconds.
 */
export function parseDurationMs(value: JsonValue, key: string): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value !== "string") throw new ConfigError(key + " must be a duration such as \"2s\" or a number of milliseconds, not " + JSON.stringify(value));
  if (value === "0") return 0;
  const part = /([0-9]*\.?[0-9]+)([a-z\u00b5]+)/y;
  let ms = 0;
  let at = 0;
  while (at < value.length) {
    part.lastIndex = at;
    const m = part.exec(value);
    const scale = m === null ? undefined : MS_PER_UNIT[m[2]];
    if (m === null || scale === undefined) throw new ConfigError(key + " " + JSON.stringify(value) + " is not a duration such as \"2s\", \"500ms\" or \"1m30s\"");
    ms += Number(m[1]) * scale;
    at = part.lastIndex;
  }
  if (at === 0) throw new ConfigError(key + " " + JSON.stringify(value) + " is not a duration such as \"2s\", \"500ms\" or \"1m30s\"");
  return ms;
}

function heartbeatWindow(network: JsonObject): number {
  const sessions = network.sessions;
  if (sessions === undefined || sessions === null) return DEFAULT_HEARTBEAT_WINDOW_MS;
  if (!isObject(sessions)) throw new ConfigError("network.sessions must be an object");
  const raw = sessions.heartbeat_window;
  if (raw === undefined || raw === null || raw === "") return DEFAULT_HEARTBEAT_WINDOW_MS;
  const key = "network.sessions.heartbeat_window";
  const ms = parseDurationMs(raw, key);
  // As viam-server: zero means the default.
  if (ms === 0) return DEFAULT_HEARTBEAT_WINDOW_MS;
  if (ms < MIN_HEARTBEAT_WINDOW_MS || ms > MAX_HEARTBEAT_WINDOW_MS) throw new ConfigError(key + " must be between 30ms and 1m, not " + JSON.stringify(raw));
  return ms;
}

function component(raw: JsonObject, index: number): ComponentConfig {
  const where = "components[" + index + "]";
  const name = raw.name;
  if (typeof name !== "string" || name === "") throw new ConfigError(where + ".name is required");
  if (name.indexOf(":") >= 0 || name.indexOf("/") >= 0) throw new ConfigError(where + ".name " + JSON.stringify(name) + " may not contain ':' or '/'");
  const path = where + " (" + name + "): ";
  let api: Api;
  if (raw.api !== undefined && raw.api !== null) {
    if (typeof raw.api !== "string") throw new ConfigError(path + "api must be a string such as \"rdk:component:motor\"");
    const [namespace, type, subtype] = triplet(raw.api, "api", path);
    api = { namespace, type, subtype };
  } else if (typeof raw.type === "string" && raw.type !== "") {
    const namespace = typeof raw.namespace === "string" && raw.namespace !== "" ? raw.namespace : "rdk";
    api = { namespace, type: "component", subtype: raw.type };
  } else {
    throw new ConfigError(path + 'api is required (e.g. "rdk:component:motor", or the legacy "type": "motor")');
  }
  if (api.type !== "component") throw new ConfigError(path + "api " + JSON.stringify(apiString(api)) + " is not a component API");
  if (typeof raw.model !== "string" || raw.model === "") throw new ConfigError(path + "model is required");
  const model = raw.model.indexOf(":") < 0 ? "rdk:builtin:" + raw.model : triplet(raw.model, "model", path).join(":");
  let attributes: JsonObject = {};
  if (raw.attributes !== undefined && raw.attributes !== null) {
    if (!isObject(raw.attributes)) throw new ConfigError(path + "attributes must be an object");
    attributes = raw.attributes;
  }
  const dependsOn: string[] = [];
  if (raw.depends_on !== undefined && raw.depends_on !== null) {
    if (!Array.isArray(raw.depends_on)) throw new ConfigError(path + "depends_on must be an array of names");
    for (const d of raw.depends_on) {
      if (typeof d !== "string" || d === "") throw new ConfigError(path + "depends_on must be an array of names");
      dependsOn.push(d);
    }
  }
  return { name, api, model, attributes, dependsOn, path };
}

/** Parses and checks a config's JSON text; throws ConfigError naming the first problem. */
export function parseConfig(text: string): MachineConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError("config is not valid JSON: " + (error instanceof Error ? error.message : String(error)));
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError("config must be a JSON object");
  const top = raw as JsonObject;
  const components: ComponentConfig[] = [];
  if (top.components !== undefined && top.components !== null) {
    if (!Array.isArray(top.components)) throw new ConfigError("components must be an array");
    const seen = new Set<string>();
    top.components.forEach((c, i) => {
      if (!isObject(c)) throw new ConfigError("components[" + i + "] must be an object");
      const parsed = component(c, i);
      if (seen.has(parsed.name)) throw new ConfigError("components[" + i + "]: duplicate component name " + JSON.stringify(parsed.name));
      seen.add(parsed.name);
      components.push(parsed);
    });
  }
  let port = DEFAULT_RPC_PORT;
  if (isObject(top.network) && top.network.bind_address !== undefined && top.network.bind_address !== null) {
    if (typeof top.network.bind_address !== "string") throw new ConfigError("network.bind_address must be a string such as \":8081\"");
    port = parsePort(top.network.bind_address);
  }
  const heartbeatWindowMs = isObject(top.network) ? heartbeatWindow(top.network) : DEFAULT_HEARTBEAT_WINDOW_MS;
  let uart: UartConfig | undefined;
  if (top.rpc_uart !== undefined && top.rpc_uart !== null) {
    if (!isObject(top.rpc_uart)) throw new ConfigError("rpc_uart must be an object");
    const a = new Attributes(top.rpc_uart, "rpc_uart.");
    uart = {
      port: a.integer("port", 1, { min: 0, max: 2 }),
      receive: a.pin("receive"),
      transmit: a.pin("transmit"),
      baud: a.integer("baud", 115200, { min: 300, max: 5_000_000 }),
    };
  }
  return { components, port, uart, heartbeatWindowMs };
}
