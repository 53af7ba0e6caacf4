// The firmware's log: one line per message through XS's `trace` (the serial console on a board,
// xsbug in debug builds), or a sink a test installs. On Node without a sink, messages are dropped.
// No `console`: a board has it only when the manifest asks for it.

export type LogLevel = "debug" | "info" | "warn" | "error";

type Sink = (level: LogLevel, message: string) => void;

function traceSink(): Sink | undefined {
  const trace = (globalThis as { trace?: (text: string) => void }).trace;
  if (typeof trace !== "function") return undefined;
  return (level, message) => trace(level + ": " + message + "\n");
}

let sink: Sink | undefined = traceSink();

/** Replaces where log lines go (undefined: back to `trace`, if any). */
export function setLogSink(next: Sink | undefined): void {
  sink = next ?? traceSink();
}

export function log(level: LogLevel, message: string): void {
  if (sink === undefined) return;
  try {
    sink(level, message);
  } catch {
    // Logging must never take the firmware down.
  }
}

/** The text of anything thrown. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
