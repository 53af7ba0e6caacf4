// `sprocket nvs create|dump`: write a provisioning NVS partition image for a board, or print what an
// NVS image holds. The image format lives in tools/image/nvs.ts, the keys in
// firmware/provisioning/keys.ts.
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ImageError, fromUtf8, hex, toHex, utf8 } from "../image/bytes.js";
import { NVS_DEFAULT_SIZE, NVS_PAGE_SIZE, buildNvs, parseNvs, type NvsEntry } from "../image/nvs.js";
import { configBlob, provisioningEntries, provisioningKeyFor, type ProvisioningValues } from "../image/provisioning.js";

export const nvsUsage = `usage: sprocket nvs create --out FILE [--size BYTES] [--wifi-ssid SSID] [--wifi-password PASS]
                          [--host URL] [--part-id ID] [--part-key KEY] [--config FILE.json]
       sprocket nvs dump FILE [--show-secrets]

  create   write an NVS partition image (default size ${hex(NVS_DEFAULT_SIZE)}, Moddable's nvs partition)
           holding the provisioning keys the firmware reads
  dump     print every namespace/key/type/value in an NVS image; secrets are masked
           unless --show-secrets`;

export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

const consoleOutput: CliOutput = { out: (t) => console.log(t), err: (t) => console.error(t) };

/** A problem with the command line or its inputs: reported without a stack, exit code 2. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
  }
}

function parseSize(text: string): number {
  const m = /^(0x[0-9a-f]+|[0-9]+)([km]?)$/i.exec(text.trim());
  if (m === null) throw new UsageError(`--size ${JSON.stringify(text)} is not a number of bytes (e.g. 0x6000 or 24K)`);
  const scale = { "": 1, k: 1024, m: 1024 * 1024 }[m[2]!.toLowerCase() as "" | "k" | "m"];
  return Number(m[1]) * scale;
}

async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${(err as Error).message}`, false);
  }
}

async function create(argv: string[], io: CliOutput): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: "string", short: "o" },
      size: { type: "string" },
      "wifi-ssid": { type: "string" },
      "wifi-password": { type: "string" },
      host: { type: "string" },
      "part-id": { type: "string" },
      "part-key": { type: "string" },
      config: { type: "string" },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.out === undefined) throw new UsageError(`--out FILE is required`);
  const size = values.size === undefined ? NVS_DEFAULT_SIZE : parseSize(values.size);

  const provisioning: ProvisioningValues = {
    wifiSsid: values["wifi-ssid"],
    wifiPassword: values["wifi-password"],
    host: values.host,
    partId: values["part-id"],
    partKey: values["part-key"],
  };
  if (values.config !== undefined) {
    const text = await readInput(values.config, "--config");
    let config: unknown;
    try {
      config = JSON.parse(fromUtf8(text));
    } catch (err) {
      throw new UsageError(`--config ${values.config} is not valid JSON: ${(err as Error).message}`, false);
    }
    provisioning.config = configBlob(config);
  }
  const entries = provisioningEntries(provisioning);
  const image = buildNvs(entries, { size });
  await writeFile(values.out, image);
  const used = parseNvs(image).pages.filter((p) => p.state !== "empty").length;
  const keys = entries.map((e) => e.key).join(", ") || "no keys";
  io.out(`wrote ${values.out} (${hex(size)} bytes, ${used} of ${size / NVS_PAGE_SIZE} pages used): ${keys}`);
  return 0;
}

function isPrintable(text: string): boolean {
  // Control characters other than tab, newline and carriage return mean "binary".
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return false;
  }
  return true;
}

function formatValue(entry: NvsEntry, showSecrets: boolean): string {
  const bytes = entry.type === "blob" ? entry.value.length : entry.type === "str" ? utf8(entry.value).length : 0;
  if (!showSecrets && provisioningKeyFor(entry.namespace, entry.key)?.secret) {
    return `******** (${bytes} bytes; --show-secrets prints it)`;
  }
  switch (entry.type) {
    case "str":
      return JSON.stringify(entry.value);
    case "blob": {
      let text: string | undefined;
      try {
        text = fromUtf8(entry.value);
      } catch {
        text = undefined;
      }
      if (text !== undefined && isPrintable(text)) return `${bytes} bytes: ${text}`;
      const shown = entry.value.subarray(0, 64);
      return `${bytes} bytes: ${toHex(shown)}${shown.length < bytes ? "…" : ""}`;
    }
    default:
      return String(entry.value);
  }
}

async function dump(argv: string[], io: CliOutput): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { "show-secrets": { type: "boolean" } },
  });
  if (positionals.length !== 1) throw new UsageError(`dump takes one NVS image file`);
  const path = positionals[0]!;
  const contents = parseNvs(await readInput(path, "NVS image"));
  const count = (state: string) => contents.pages.filter((p) => p.state === state).length;
  io.out(
    `${path}: ${contents.pages.length} pages (${count("active")} active, ${count("full")} full, ${count("empty")} empty), ` +
      `${contents.namespaces.size} namespace${contents.namespaces.size === 1 ? "" : "s"}, ${contents.entries.length} keys`,
  );
  const rows = [["namespace", "key", "type", "value"], ...contents.entries.map((e) => [e.namespace, e.key, e.type, formatValue(e, values["show-secrets"] === true)])];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) io.out(r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell)).join("  "));
  return 0;
}

/** `sprocket nvs …`; returns the exit code (2 for bad input, with the problem on stderr). */
export async function nvsCommand(argv: string[], io: CliOutput = consoleOutput): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case "create":
        return await create(rest, io);
      case "dump":
        return await dump(rest, io);
      case "help":
      case "--help":
      case "-h":
        io.out(nvsUsage);
        return 0;
      default:
        throw new UsageError(sub === undefined ? `missing subcommand` : `unknown subcommand ${JSON.stringify(sub)}`);
    }
  } catch (err) {
    const parseArgsError = typeof (err as { code?: unknown }).code === "string" && String((err as { code: string }).code).startsWith("ERR_PARSE_ARGS");
    if (err instanceof UsageError || parseArgsError) {
      const usage = err instanceof UsageError && !err.showUsage ? "" : `\n\n${nvsUsage}`;
      io.err(`sprocket nvs: ${(err as Error).message}${usage}`);
      return 2;
    }
    if (err instanceof ImageError) {
      io.err(`sprocket nvs: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
