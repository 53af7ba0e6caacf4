// Node module customization hooks that let firmware/ run on Node unmodified: the module names a
// Moddable manifest provides on a board resolve to the shims in ./shims, which act on the current
// simulated World (./world.ts). Registered by ./register.ts (`node --import .../register.js`) or
// in-process with module.register().
import type { ResolveHook } from "node:module";

/** Moddable module specifier → shim, relative to this file. */
export const SHIMS: Readonly<Record<string, string>> = {
  "embedded:io/digital": "./shims/digital.js",
  "embedded:io/pwm": "./shims/pwm.js",
  "embedded:io/analog": "./shims/analog.js",
  "embedded:io/i2c": "./shims/i2c.js",
  timer: "./shims/timer.js",
  preference: "./shims/preference.js",
  // Networking and serial shims come from other work. Add them here as they land:
  //   "embedded:io/socket/tcp", "embedded:io/socket/udp", "embedded:io/socket/listener",
  //   "embedded:io/serial", "wifi", "net", "mdns", "flash", "mc/config".
};

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const shim = Object.hasOwn(SHIMS, specifier) ? SHIMS[specifier] : undefined;
  // Bare names such as "timer" are Moddable's only outside node_modules.
  if (shim !== undefined && !(context.parentURL ?? "").includes("/node_modules/")) {
    return { url: new URL(shim, import.meta.url).href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
};
