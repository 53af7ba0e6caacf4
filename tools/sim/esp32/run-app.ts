// What a simulated chip runs after the bootloader jumps to the app: the micro runtime (firmware/),
// on a simulated World for that chip whose NVS holds what was flashed into the nvs partition
// (the provisioning keys of firmware/provisioning/keys.ts and anything else there). The firmware
// reads it through `Preference` as on a board, joins the provisioned Wi-Fi (simulated) and serves
// RPC on a real TCP port of this machine.
//
// runApp(info) starts one app from an AppBootInfo (the simulator's `appBoot` event / onAppBoot);
// runAppOnBoot(sim) follows a simulator: it starts the app whenever the chip boots into it and
// stops it when the chip is reset (or re-flashed), as a board would.
//
// Engines: "node" (the firmware's compiled JavaScript in this process, on the tools/sim shims; one
// Node-engine app per process at a time, since the shims reach the World through one accessor) or
// "xs" (the same JavaScript bundled onto real XS by tools/sim/xs). Node only (sockets, modules).
//
// Dial-in (the part connecting out to the provisioned `host` over WebSocket) is not started here:
// the handle exposes the World, the firmware and the provisioning for whoever wires that up.
import type { ChipName } from "../chips.js";
import { network } from "../network.js";
import type { NvsEntry as SimNvsEntry } from "../nvs.js";
import { World, setWorld } from "../world.js";
import { startFirmware, type EngineName, type RunningFirmware } from "../xs/runner.js";
import type { NvsEntry } from "../../image/nvs.js";
import { PartitionType, subtypeCode } from "../../image/partition-table.js";
import type { ProvisioningValues } from "../../image/provisioning.js";
import type { MicroRuntime } from "../../../firmware/runtime/boot.js";
import type { AppBootInfo } from "./boot.js";
import type { Esp32Sim } from "./esp32-sim.js";

/** The firmware's boot module as tsc emitted it (next to this file in dist/). */
const BOOT_MODULE = new URL("../../../firmware/runtime/boot.js", import.meta.url).href;
/** The port the firmware listens on when its config names none (firmware/config/schema.ts). */
const DEFAULT_PART_PORT = 8081;

export interface RunAppOptions {
  /** The engine the firmware runs on (default "node"). */
  engine?: EngineName;
  /**
   * The port the part's RPC listener really binds on this machine: 0 picks a free one (the
   * default: several simulated boards, parallel tests); undefined binds the firmware's own
   * (8081 or its config's network.bind_address).
   */
  port?: number | undefined;
  /** Address the listener binds (default 127.0.0.1). */
  bindAddress?: string;
  /** Wires simulated devices (I2C sensors, motors…) into the world before the firmware starts. */
  wire?: (world: World, info: AppBootInfo) => unknown;
  /** Passed to the firmware's start(): how long a length-prefixed frame may stay incomplete. */
  frameTimeoutMs?: number;
}

export interface RunningApp {
  readonly engine: EngineName;
  /** The simulated board the firmware runs on: pins, I2C devices, NVS, network state. */
  readonly world: World;
  /** The firmware as started by tools/sim/xs/runner.ts (its engine, run(), stop()). */
  readonly firmware: RunningFirmware;
  /** What `wire` returned. */
  readonly wiring: unknown;
  /** The provisioning the app booted with (read from the flashed NVS). */
  readonly provisioning: ProvisioningValues;
  /** Where the part serves RPC (4-byte length-prefix framing over TCP). */
  readonly address: { host: string; port: number };
  /** NVS entries that were not loaded: types the simulated store does not model (u16, i64, …). */
  readonly skippedNvs: readonly string[];
  /** The firmware's MicroRuntime (Node engine only; on XS use run()). */
  readonly runtime: MicroRuntime;
  /** Evaluates a function body in the firmware's engine with `runtime` in scope; JSON-like result. */
  run<T = unknown>(body: string): Promise<T>;
  /** Stops serving and the firmware's timers; the World stays readable. Idempotent. */
  stop(): Promise<void>;
}

/** The World chip of an app's chip family ("ESP32-S3" → "esp32s3"). */
export function worldChip(family: string): ChipName {
  const name = family.toLowerCase().replace(/-/g, "");
  if (name !== "esp32" && name !== "esp32s3" && name !== "esp32c3") throw new Error(`the micro runtime simulation has no ${family} board`);
  return name;
}

function simEntry(entry: NvsEntry): SimNvsEntry | undefined {
  switch (entry.type) {
    case "u8":
    case "i32":
      return { type: entry.type, value: entry.value };
    case "str":
      return { type: "str", value: entry.value };
    case "blob":
      return { type: "blob", value: entry.value.slice() };
    default:
      return undefined;
  }
}

/**
 * A World for the app's chip whose NVS store holds the flashed nvs partition's entries (sized
 * like that partition). Returns the keys it could not load.
 */
export function appWorld(info: AppBootInfo): { world: World; skipped: string[] } {
  const nvsPartition = info.partitions.find((p) => p.type === PartitionType.data && p.subtype === subtypeCode("data", "nvs"));
  const world = new World({ chip: worldChip(info.chip), ...(nvsPartition ? { nvs: { partitionBytes: nvsPartition.size } } : {}) });
  const skipped: string[] = [];
  for (const entry of info.nvs) {
    const value = simEntry(entry);
    const where = `${entry.namespace}.${entry.key}`;
    if (value === undefined || world.nvs.open(entry.namespace, true) !== undefined || world.nvs.set(entry.namespace, entry.key, value) !== undefined) {
      skipped.push(`${where} (${entry.type})`);
    }
  }
  return { world, skipped };
}

/** Boots the micro runtime as the app the simulator just booted. */
export async function runApp(info: AppBootInfo, options: RunAppOptions = {}): Promise<RunningApp> {
  const engine = options.engine ?? "node";
  const { world, skipped } = appWorld(info);
  const net = network(world);
  net.portOverride = "port" in options ? options.port : 0;
  if (options.bindAddress !== undefined) net.bindAddress = options.bindAddress;
  const wiring = options.wire?.(world, info);
  const startOptions = options.frameTimeoutMs === undefined ? {} : { frameTimeoutMs: options.frameTimeoutMs };
  const firmware = await startFirmware({ engine, world, expose: { boot: BOOT_MODULE } });

  let runtime: MicroRuntime | undefined;
  let requested: number;
  let run: <T>(body: string) => Promise<T>;
  try {
    if (engine === "node") {
      // The module startFirmware exposed (the same URL, so the same instance); the world is current.
      const boot = (await import(BOOT_MODULE)) as typeof import("../../../firmware/runtime/boot.js");
      const started = boot.start(startOptions);
      runtime = started;
      requested = started.tcp?.port ?? DEFAULT_PART_PORT;
      run = async <T>(body: string) => {
        const previous = setWorld(world);
        try {
          return structuredClone((new Function("runtime", body) as (r: MicroRuntime) => T)(started));
        } finally {
          setWorld(previous);
        }
      };
    } else {
      requested = await firmware.run<number>(`modules.runtime = modules.boot.start(${JSON.stringify(startOptions)});
        return modules.runtime.tcp === undefined ? ${DEFAULT_PART_PORT} : modules.runtime.tcp.port;`);
      run = <T>(body: string) => firmware.run<T>(`return (function (runtime) {\n${body}\n})(modules.runtime);`);
    }
  } catch (error) {
    await firmware.stop();
    throw error;
  }
  const port = await net.listening(requested);
  let stopped: Promise<void> | undefined;
  return {
    engine,
    world,
    firmware,
    wiring,
    provisioning: info.provisioning,
    address: { host: net.bindAddress, port },
    skippedNvs: skipped,
    get runtime(): MicroRuntime {
      if (runtime === undefined) throw new Error("on the XS engine the runtime lives in the XS machine: use run()");
      return runtime;
    },
    run,
    stop() {
      stopped ??= (async () => {
        try {
          if (runtime !== undefined) runtime.stop();
          else if (firmware.xs?.alive) await firmware.run(`modules.runtime.stop();`);
        } finally {
          await new Promise((r) => setImmediate(r));
          await firmware.stop();
        }
      })();
      return stopped;
    },
  };
}

export interface AppOnBootOptions extends RunAppOptions {
  /** The app is up (listening). */
  onStarted?: (app: RunningApp) => void;
  /** The app was stopped (the chip was reset). */
  onStopped?: (app: RunningApp) => void;
  /** The app could not start (it stays down until the next boot). */
  onError?: (error: unknown) => void;
}

export interface AppOnBoot {
  /** The app running now, if any. */
  readonly current: RunningApp | undefined;
  /** Resolves with the next app that starts (or the running one, when `current` is set). */
  started(): Promise<RunningApp>;
  /** Stops following the simulator and stops the running app. */
  close(): Promise<void>;
}

/**
 * Runs the micro runtime whenever `sim` boots into the app (after a reset into the app, with the
 * flashed NVS), and stops it when the chip leaves the app (EN pulled low: a reset, a flasher
 * entering download mode). Starts and stops are done one after the other, in order.
 */
export function runAppOnBoot(sim: Esp32Sim, options: AppOnBootOptions = {}): AppOnBoot {
  let current: RunningApp | undefined;
  let queue: Promise<void> = Promise.resolve();
  let closed = false;
  const waiters: ((app: RunningApp) => void)[] = [];
  const stopCurrent = async () => {
    const app = current;
    current = undefined;
    if (app === undefined) return;
    await app.stop();
    options.onStopped?.(app);
  };
  const enqueue = (step: () => Promise<void>) => {
    queue = queue.then(step).catch((error: unknown) => options.onError?.(error));
  };
  const offBoot = sim.on("appBoot", (info) =>
    enqueue(async () => {
      await stopCurrent();
      if (closed || sim.mode !== "app") return;
      const app = await runApp(info, options);
      if (closed || sim.mode !== "app") {
        await app.stop();
        return;
      }
      current = app;
      options.onStarted?.(app);
      for (const w of waiters.splice(0)) w(app);
    }),
  );
  const offMode = sim.on("mode", (mode) => {
    if (mode !== "app") enqueue(stopCurrent);
  });
  return {
    get current() {
      return current;
    },
    started() {
      if (current !== undefined) return Promise.resolve(current);
      return new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      closed = true;
      offBoot();
      offMode();
      enqueue(stopCurrent);
      await queue;
    },
  };
}
