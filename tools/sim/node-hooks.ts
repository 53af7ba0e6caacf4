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
  "embedded:io/socket/tcp": "./shims/tcp.js",
  "embedded:io/socket/listener": "./shims/listener.js",
  "embedded:io/serial": "./shims/serial.js",
  wifi: "./shims/wifi.js",
  net: "./shims/net.js",
  mdns: "./shims/mdns.js",
  instrumentation: "./shims/instrumentation.js",
  // Not yet: "embedded:io/socket/udp", "flash", "mc/config".
};

/** Moddable names that are also Node built-ins: mapped only for imports from firmware/. */
const FIRMWARE_ONLY: ReadonlySet<string> = new Set(["net"]);

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const shim = Object.hasOwn(SHIMS, specifier) ? SHIMS[specifier] : undefined;
  // Bare names such as "timer" are Moddable's only outside node_modules.
  const parent = context.parentURL ?? "";
  if (shim !== undefined && !parent.includes("/node_modules/") && (!FIRMWARE_ONLY.has(specifier) || parent.includes("/firmware/"))) {
    return { url: new URL(shim, import.meta.url).href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
};
