// Bundles firmware for the XS engine: esbuild turns the firmware's ES modules into one script that
// xsnap evaluates (its `e` command runs a script with the global eval; it has no module loader for
// our files). The modules a Moddable manifest provides (`embedded:io/*`, `timer`, `preference`,
// `wifi`, `net`, `mdns`, `instrumentation`) are aliased to the bridge modules in ./guest, which
// forward to the Node shims through the host (./host.ts). The guest bridge is evaluated first, so
// firmware starts in a board-like global environment.
//
// Bundle the JavaScript that tsc emitted (dist/…/*.js): it is what the Node engine runs and what
// Moddable's mcconfig (which runs tsc) compiles for a board. esbuild only links it, with no syntax
// lowering beyond ES2022. A bare specifier with no guest module fails the bundle: nothing else
// exists on a board.
import { fileURLToPath } from "node:url";
import { isAbsolute, resolve } from "node:path";
import { build, type Plugin } from "esbuild";

/** Moddable module specifier → the guest module (relative to this file) that implements it on XS. */
export const GUEST_MODULES: Readonly<Record<string, string>> = {
  "embedded:io/digital": "./guest/digital.js",
  "embedded:io/pwm": "./guest/pwm.js",
  "embedded:io/analog": "./guest/analog.js",
  "embedded:io/i2c": "./guest/i2c.js",
  timer: "./guest/timer.js",
  preference: "./guest/preference.js",
  "embedded:io/socket/tcp": "./guest/tcp.js",
  "embedded:io/socket/listener": "./guest/listener.js",
  "embedded:io/serial": "./guest/serial.js",
  wifi: "./guest/wifi.js",
  net: "./guest/net.js",
  mdns: "./guest/mdns.js",
  instrumentation: "./guest/instrumentation.js",
  // A new one: its shim in SHIMS (../node-hooks.ts) and a guest module, usually a small IOProxy
  // subclass like ./guest/i2c.ts.
};

export interface BundleOptions {
  /** The firmware's main module (a path or file URL), evaluated for its effects. */
  entry?: string;
  /** Modules to make reachable from XsHost.run() as `modules[name]` (name → path, file URL or Moddable specifier). */
  expose?: Record<string, string>;
  /** Minify the output (smaller, for heap figures closer to a release build; worse error messages). */
  minify?: boolean;
}

/** A module name such as "embedded:io/i2c" or "timer", rather than a file (which has an extension). */
export function isModuleName(specifier: string): boolean {
  return !specifier.startsWith("file:") && !specifier.startsWith(".") && !isAbsolute(specifier) && !/\.[cm]?[jt]s$/.test(specifier);
}

/** A file URL or path as an absolute path; a module name as it is. */
function pathOf(file: string): string {
  if (file.startsWith("file:")) return fileURLToPath(file);
  return isModuleName(file) ? file : resolve(file);
}

const guestAliases: Plugin = {
  name: "sprocket-xs-guest",
  setup(b) {
    // Bare specifiers: Moddable's module names. Relative and absolute paths resolve as usual.
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const guest = Object.hasOwn(GUEST_MODULES, args.path) ? GUEST_MODULES[args.path] : undefined;
      if (guest !== undefined) return { path: fileURLToPath(new URL(guest, import.meta.url)) };
      return {
        errors: [{ text: `"${args.path}" is not available on the XS engine: no guest module in tools/sim/xs/guest (GUEST_MODULES in tools/sim/xs/bundle.ts)` }],
      };
    });
  },
};

/** A script for XsHost: the guest bridge, then `entry`, then the exposed modules. */
export async function bundleFirmware(options: BundleOptions): Promise<string> {
  const bridge = fileURLToPath(new URL("./guest/bridge.js", import.meta.url));
  const lines = [`import { expose } from ${JSON.stringify(bridge)};`];
  if (options.entry !== undefined) lines.push(`import ${JSON.stringify(pathOf(options.entry))};`);
  Object.entries(options.expose ?? {}).forEach(([name, file], i) => {
    lines.push(`import * as m${i} from ${JSON.stringify(pathOf(file))};`, `expose(${JSON.stringify(name)}, m${i});`);
  });
  const result = await build({
    stdin: { contents: lines.join("\n"), loader: "js", resolveDir: process.cwd(), sourcefile: "xs-entry.js" },
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2022",
    minify: options.minify ?? false,
    legalComments: "none",
    logLevel: "silent",
    plugins: [guestAliases],
  });
  return result.outputFiles[0].text;
}
