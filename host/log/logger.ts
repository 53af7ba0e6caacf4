// The host's loggers: pino records, printed in rdk's console format, named per component. Loggers
// made here belong to a LogRegistry (registry.ts), which sets their levels from the config.
import type { Logger } from "pino";
import { LogRegistry, registryOf, type LogLevel } from "./registry.js";

export type { LogLevel };

/** The root logger (`rdk`) of a new registry. `debug` forces debug everywhere (the `-debug` flag). */
export function createLogger(opts: { level?: LogLevel; debug?: boolean; out?: NodeJS.WritableStream } = {}): Logger {
  return new LogRegistry(opts).root;
}

/** A child logger whose name extends its parent's with a dot, as rdk's names do. */
export function namedLogger(parent: Logger, name: string): Logger {
  const parentName = (parent.bindings().name as string | undefined) ?? "rdk";
  const full = `${parentName}.${name}`;
  return registryOf(parent)?.logger(full) ?? parent.child({ name: full });
}
