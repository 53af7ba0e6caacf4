// The embedded default: a remote whose address is `sim:<micro config path>` is a simulated micro part
// the host starts itself, from that config: the unmodified firmware on a simulated ESP32 with a
// device model for every driver the config names (tools/cli/micro-sim.ts, the code behind
// `sprocket micro-sim`), listening on a free loopback port, and reached like any `tcp://` micro part.
//
//   { "name": "esp", "address": "sim:examples/micro.json" }
//   { "name": "esp", "address": "sim:examples/micro.json?engine=xs" }
//
// The path is relative to the working directory (then to the host config's directory). The part is
// provisioned with the remote's auth when it has one (auth.entity = part id, credentials.payload =
// part key), else with part id "sim-<name>" and a random key; the host authenticates with the same.
// `engine=node` (default) runs the firmware in the host's process, and a process holds one such
// part at a time (the simulator's IO reaches its World through one global); `engine=xs` runs it on
// the XS engine, as many as wanted.
//
// A part lives as long as its remote is configured with the same address and auth: reconnections
// reach the same running part (its state and its World stay), and it stops when the remote goes.
// The firmware's log lines go to the host's log (logger "remotes.sim.<name>").
import { randomBytes } from "node:crypto";
import { access, readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Logger } from "pino";
import type { RemoteConfig } from "../config/schema.js";
import { namedLogger } from "../log/logger.js";
import type { RemoteTransport } from "./connection.js";
import { tcpLink } from "./links.js";
import { MicroConnection } from "./micro.js";

export type SimEngine = "node" | "xs";

export interface SimAddress {
  /** The micro config's path as written. */
  readonly path: string;
  readonly engine: SimEngine;
}

/** Parses `sim:PATH[?engine=node|xs]`; throws on anything else. */
export function parseSimAddress(address: string): SimAddress {
  const m = /^sim:([^?#]+)(?:\?([^#]*))?$/i.exec(address.trim());
  if (!m) throw new Error(`"${address}" is not sim:PATH_TO_MICRO_CONFIG`);
  let engine: SimEngine = "node";
  for (const [key, value] of new URLSearchParams(m[2] ?? "")) {
    if (key !== "engine") throw new Error(`"${address}": unknown option "${key}" (only engine=node|xs)`);
    if (value !== "node" && value !== "xs") throw new Error(`"${address}": engine must be node or xs, not "${value}"`);
    engine = value;
  }
  return { path: m[1].replace(/^\/\/(?=[./])/, ""), engine };
}

/** A running simulated part. */
export interface SimPart {
  readonly remote: string;
  readonly engine: SimEngine;
  readonly configPath: string;
  readonly partId: string;
  readonly partKey: string;
  readonly port: number;
  /** The simulator (its World, devices, firmware), as tools/cli/micro-sim.ts made it. */
  readonly simulator: import("../../tools/cli/micro-sim.js").MicroSimulator;
}

interface Entry {
  readonly key: string;
  readonly starting: Promise<SimPart>;
}

function identity(config: RemoteConfig, sim: SimAddress): string {
  return JSON.stringify([config.address.trim(), sim.engine, config.auth.entity ?? "", config.auth.credentials?.payload ?? ""]);
}

/** The firmware's trace lines ("info: built …") at their level in the host's log. */
function logLine(logger: Logger, text: string): void {
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const m = /^(debug|info|warn|error): (.*)$/s.exec(line);
    const level = m?.[1] ?? "info";
    const message = m?.[2] ?? line;
    // The part's warnings (a resource it cannot build, a dropped link) show at info: the host
    // reports what matters on its own (GetMachineStatus, its remote log lines).
    if (level === "error") logger.error(message);
    else if (level === "warn") logger.info(message);
    else logger.debug(message);
  }
}

/** Where the host's config file is, to resolve a sim path relative to it. */
function configDir(config: RemoteConfig): string | undefined {
  const source = config.origin?.source;
  return source ? dirname(source) : undefined;
}

async function findConfig(path: string, config: RemoteConfig): Promise<string> {
  const candidates = [resolve(path)];
  const dir = configDir(config);
  if (dir !== undefined) candidates.push(resolve(dir, path));
  for (const c of candidates) {
    if (await access(c).then(() => true, () => false)) return c;
  }
  throw new Error(`micro config "${path}" not found (looked at ${candidates.join(", ")})`);
}

/** The simulated parts of a host, one per `sim:` remote. */
export class SimParts {
  readonly #logger: Logger;
  readonly #entries = new Map<string, Entry>();
  #nodeEngineUser: string | undefined;
  #closed = false;

  constructor(opts: { logger: Logger }) {
    this.#logger = namedLogger(opts.logger, "remotes.sim");
  }

  /** The running part of a remote, if it started. */
  async part(remote: string): Promise<SimPart | undefined> {
    return this.#entries.get(remote)?.starting.catch(() => undefined);
  }

  /** Starts the remote's part (or returns the one running for the same address and auth). */
  ensure(config: RemoteConfig): Promise<SimPart> {
    if (this.#closed) return Promise.reject(new Error("the host is closing"));
    const sim = parseSimAddress(config.address);
    const key = identity(config, sim);
    const existing = this.#entries.get(config.name);
    if (existing && existing.key === key) {
      // A part that failed to start is tried again on the next connection attempt.
      return existing.starting.catch(() => {
        if (this.#entries.get(config.name) === existing) this.#entries.delete(config.name);
        return this.ensure(config);
      });
    }
    if (existing) void this.#stop(config.name, existing);
    const starting = this.#start(config, sim);
    this.#entries.set(config.name, { key, starting });
    return starting;
  }

  async #start(config: RemoteConfig, sim: SimAddress): Promise<SimPart> {
    if (sim.engine === "node") {
      if (this.#nodeEngineUser !== undefined && this.#nodeEngineUser !== config.name) {
        throw new Error(
          `remote "${this.#nodeEngineUser}" already runs a simulated part on the node engine (one per process); use "${config.address.split("?")[0]}?engine=xs"`,
        );
      }
      this.#nodeEngineUser = config.name;
    }
    try {
      const configPath = await findConfig(parseSimAddress(config.address).path, config);
      const configText = await readFile(configPath, "utf8");
      const partId = config.auth.entity || `sim-${config.name}`;
      const partKey = config.auth.credentials?.payload || randomBytes(16).toString("hex");
      const log = namedLogger(this.#logger, config.name);
      const { startMicroSimulator } = await import("../../tools/cli/micro-sim.js");
      const simulator = await startMicroSimulator({
        engine: sim.engine,
        host: "127.0.0.1",
        port: 0,
        configText,
        partId,
        partKey,
        onLog: (text) => logLine(log, text),
      });
      for (const w of simulator.warnings) log.warn(w);
      log.info({ config: configPath, engine: sim.engine, port: simulator.port, devices: simulator.devices.length }, "simulated micro part started");
      return { remote: config.name, engine: sim.engine, configPath, partId, partKey, port: simulator.port, simulator };
    } catch (err) {
      if (this.#nodeEngineUser === config.name && sim.engine === "node") this.#nodeEngineUser = undefined;
      throw err;
    }
  }

  async #stop(remote: string, entry: Entry): Promise<void> {
    if (this.#entries.get(remote) === entry) this.#entries.delete(remote);
    const part = await entry.starting.catch(() => undefined);
    if (!part) return;
    await part.simulator.stop();
    if (part.engine === "node" && this.#nodeEngineUser === remote) this.#nodeEngineUser = undefined;
    this.#logger.info({ remote }, "simulated micro part stopped");
  }

  /** Stops the parts of remotes no longer configured as `sim:` with the same address and auth. */
  async configure(remotes: readonly RemoteConfig[]): Promise<void> {
    const keep = new Map<string, string>();
    for (const r of remotes) {
      try {
        keep.set(r.name, identity(r, parseSimAddress(r.address)));
      } catch {
        // Not a sim: remote.
      }
    }
    const stops: Promise<void>[] = [];
    for (const [name, entry] of [...this.#entries]) {
      if (keep.get(name) !== entry.key) stops.push(this.#stop(name, entry));
    }
    await Promise.all(stops);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#entries].map(([name, entry]) => this.#stop(name, entry)));
  }
}

/** The `sim:` address as a transport: start (or find) the part, then a tcp:// micro connection to it. */
export function simTransport(parts: SimParts): RemoteTransport {
  return {
    schemes: ["sim"],
    create: ({ config, logger, callTimeoutMs }) => {
      parseSimAddress(config.address); // refuse a malformed address early
      // The part's id and key are known once it runs; MicroConnection reads `auth` after open().
      const auth: RemoteConfig["auth"] = { ...config.auth };
      const connection = new MicroConnection({
        open: async (signal, handlers) => {
          const part = await parts.ensure(config);
          if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error("aborted");
          auth.entity = part.partId;
          auth.credentials = { type: "api-key", payload: part.partKey };
          return tcpLink("127.0.0.1", part.port)(signal, handlers);
        },
        auth,
        callTimeoutMs,
        logger,
      });
      return connection;
    },
  };
}
