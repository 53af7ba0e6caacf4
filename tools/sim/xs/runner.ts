// One way to start firmware on either engine, so a test can be written once and run on both:
//
//   for (const engine of ["node", "xs"] as const) {
//     test(`… (${engine})`, async () => {
//       const world = new World();             // wire devices into it first
//       const fw = await startFirmware({ engine, world, entry: "dist/firmware/main.js" });
//       try { /* talk to it the way a client would: sockets, serial, the World's pins */ }
//       finally { await fw.stop(); }
//     });
//   }
//
// engine "node": the entry is imported in this process with the embedded:* resolve hook
//   (../register.ts) and `world` made current (one Node-engine firmware per process at a time:
//   the shims reach the world through a single accessor). Each start imports a fresh instance of
//   the entry module (its imports are shared, as Node caches them).
// engine "xs": the entry is bundled (./bundle.ts) and evaluated on real XS (./host.ts); its IO goes
//   to the same shims against `world`. Several XS firmwares can run in one process, each with its
//   own World.
// `run` evaluates a function body in the firmware's engine with `modules` (the `expose`d modules'
// namespaces) in scope, and returns its JSON-like result: the same call works on both engines.
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { setWorld, world as currentWorld, type World } from "../world.js";
import { bundleFirmware, isModuleName } from "./bundle.js";
import { XsHost, type XsHostOptions } from "./host.js";

export type EngineName = "node" | "xs";

export interface StartFirmwareOptions {
  engine: EngineName;
  world: World;
  /** The firmware's main module as tsc emitted it (a path or file URL), e.g. dist/firmware/main.js. */
  entry?: string;
  /** Modules to reach from run() as `modules[name]`: paths, file URLs or Moddable specifiers ("embedded:io/i2c"). */
  expose?: Record<string, string>;
  /** XS only: options for the host (trace and error handlers, metering limit, debug build). */
  xs?: Omit<XsHostOptions, "world" | "bundle">;
}

export interface RunningFirmware {
  readonly engine: EngineName;
  readonly world: World;
  /** The XS host, on the XS engine. */
  readonly xs: XsHost | undefined;
  /** Evaluates `body` (a function body that sees `modules`) in the firmware's engine. */
  run<T = unknown>(body: string): Promise<T>;
  /** Stops timers (and on XS the worker); the World stays readable. */
  stop(): Promise<void>;
}

let instances = 0;

/** A path as a file URL; a file URL or a module name ("embedded:io/i2c", "timer") as it is. */
function urlOf(file: string): string {
  if (file.startsWith("file:") || isModuleName(file)) return file;
  return pathToFileURL(resolve(file)).href;
}

export async function startFirmware(options: StartFirmwareOptions): Promise<RunningFirmware> {
  const { engine, world } = options;
  if (engine === "xs") {
    const bundle = await bundleFirmware({ entry: options.entry, expose: options.expose });
    const xs = await XsHost.start({ ...options.xs, world, bundle });
    return {
      engine,
      world,
      xs,
      run: async <T>(body: string) => xs.run<T>(body),
      stop: async () => xs.close(),
    };
  }
  await import("../register.js");
  setWorld(world);
  const instance = ++instances;
  const modules: Record<string, unknown> = {};
  try {
    for (const [name, file] of Object.entries(options.expose ?? {})) modules[name] = await import(urlOf(file));
    if (options.entry !== undefined) {
      const url = new URL(urlOf(options.entry));
      url.searchParams.set("sprocket-instance", String(instance)); // a fresh instance of the entry each start
      await import(url.href);
    }
  } catch (error) {
    world.dispose();
    throw error;
  }
  return {
    engine,
    world,
    xs: undefined,
    run: async <T>(body: string) => {
      const previous = setWorld(world);
      try {
        const fn = new Function("modules", body) as (modules: Record<string, unknown>) => T;
        return structuredClone(fn(modules));
      } finally {
        setWorld(previous);
      }
    },
    stop: async () => {
      world.dispose();
      let current: World | undefined;
      try {
        current = currentWorld();
      } catch {
        current = undefined;
      }
      if (current === world) setWorld(undefined);
    },
  };
}
