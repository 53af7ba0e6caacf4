// The host's loggers: pino records, printed in rdk's console format, named per component.
import { pino, type Logger } from "pino";
import { consoleStream } from "./console-format.js";

export type LogLevel = "debug" | "info" | "warn" | "error";

export function createLogger(opts: { level?: LogLevel; out?: NodeJS.WritableStream } = {}): Logger {
  return pino({ name: "rdk", level: opts.level ?? "info", base: undefined }, consoleStream(opts.out));
}

/** A child logger whose name extends its parent's with a dot, as rdk's names do. */
export function namedLogger(parent: Logger, name: string): Logger {
  const parentName = (parent.bindings().name as string | undefined) ?? "rdk";
  return parent.child({ name: `${parentName}.${name}` });
}
