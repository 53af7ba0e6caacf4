// rdk's console line: time, LEVEL, logger name, caller, message, then the other fields as one JSON
// object, tab-separated. Pino writes JSON records; this stream turns each into such a line.
import { Writable } from "node:stream";

const levelNames: Record<number, string> = { 10: "DEBUG", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "ERROR" };

/** One record as pino writes it (`time`, `level`, `name`, `msg` and the fields). */
export type LogRecord = Record<string, unknown>;

export function formatRecord(record: LogRecord): string {
  const { time, level, name, msg, caller, pid: _pid, hostname: _host, ...fields } = record;
  const when = new Date(typeof time === "number" ? time : Date.now()).toISOString();
  const parts = [when, levelNames[level as number] ?? String(level), typeof name === "string" ? name : "sprocket"];
  parts.push(typeof caller === "string" ? caller : "");
  parts.push(typeof msg === "string" ? msg : "");
  if (Object.keys(fields).length > 0) parts.push(JSON.stringify(fields, errorReplacer));
  return parts.join("\t");
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { message: value.message, stack: value.stack } : value;
}

/**
 * A stream pino can write to that prints rdk-style lines to `out`. `filter` sees each record and
 * returns what to print instead (nothing to drop it, more than one to add lines).
 */
export function consoleStream(
  out: NodeJS.WritableStream = process.stdout,
  filter: (record: LogRecord) => LogRecord[] = (record) => [record],
): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line === "") continue;
        let record: LogRecord;
        try {
          record = JSON.parse(line) as LogRecord;
        } catch {
          out.write(line + "\n");
          continue;
        }
        for (const r of filter(record)) out.write(formatRecord(r) + "\n");
      }
      done();
    },
  });
}
