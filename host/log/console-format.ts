// rdk's console line: time, LEVEL, logger name, caller, message, then the other fields as one JSON
// object, tab-separated. Pino writes JSON records; this stream turns each into such a line.
import { Writable } from "node:stream";

const levelNames: Record<number, string> = { 10: "DEBUG", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "ERROR" };

export function formatRecord(record: Record<string, unknown>): string {
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

/** A stream pino can write to that prints rdk-style lines to `out`. */
export function consoleStream(out: NodeJS.WritableStream = process.stdout): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line === "") continue;
        try {
          out.write(formatRecord(JSON.parse(line) as Record<string, unknown>) + "\n");
        } catch {
          out.write(line + "\n");
        }
      }
      done();
    },
  });
}
