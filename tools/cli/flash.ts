// `sprocket flash`, `sprocket provision` and `sprocket monitor`: write firmware and provisioning
// to an ESP32 / ESP32-S3 / ESP32-C3 over a serial port with esptool-js, and watch its log.
//
// Everything that can be checked before writing is: the images (truncated, corrupted, another
// chip's), the app against its partition, the provisioning values. Exit codes: 0 done, 1 the
// board or port failed (busy, no bootloader, verification), 2 bad input (nothing was written).
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ImageError, formatSize, fromUtf8, hex } from "../image/bytes.js";
import { CHIPS, type ChipFamily } from "../image/chips.js";
import { PARTITION_TABLE_LENGTH, PARTITION_TABLE_OFFSET, parsePartitionTable } from "../image/partition-table.js";
import { configBlob, provisioningEntries, type ProvisioningValues } from "../image/provisioning.js";
import { readFirmware } from "../flash/firmware-files.js";
import { NodeSerialPort } from "../flash/node-serial-port.js";
import { NOTHING_WRITTEN, checkBeforeConnecting, nothingWritten, planForBoard } from "../flash/flow.js";
import { hasProvisioning, provisioningImage } from "../flash/plan.js";
import { ProgressBar, type ProgressSink } from "../flash/progress.js";
import { FlashError, FlashSession, type WriteImage } from "../flash/session.js";
import type { WebSerialPortLike } from "../sim/esp32/web-serial-port.js";

export const flashUsage = `usage: sprocket flash --port PATH --firmware DIR|manifest.json [--baud 921600] [--chip auto|esp32|esp32s3|esp32c3]
                      [--erase] [--no-compress] [provisioning flags] [--attempts N] [--verbose]
       sprocket provision --port PATH [--baud 921600] provisioning flags
       sprocket monitor --port PATH [--baud 115200] [--reset]

  flash      write a Moddable build directory (xs_esp32.bin, bootloader.bin, partition-table.bin)
             or the parts of an esp-web-tools manifest, verify each by MD5, and reset into the app
  provision  rewrite only the NVS partition (read from the board's partition table)
  monitor    print the board's serial log until Ctrl-C (--reset pulses EN first)

  provisioning flags: --wifi-ssid SSID --wifi-password PASS --host URL --part-id ID --part-key KEY
                      --config micro.json
  ports without modem lines (DTR/RTS) cannot reset the board: hold BOOT and press EN to start the
  bootloader, and press EN after flashing.`;

export interface FlashCliIo {
  out(text: string): void;
  err(text: string): void;
  /** The board's serial output for `monitor` (default: stdout as is). */
  serial?(text: string): void;
  /** Progress bars (default stderr). */
  progress?: ProgressSink;
}

export interface FlashCliDeps {
  /** Opens a port by path (default: a NodeSerialPort). `warn` tells the user about missing modem lines. */
  openPort?(path: string, warn: (message: string) => void): WebSerialPortLike;
  /** Resolves when `monitor` should stop (default: SIGINT). */
  stopSignal?: Promise<void>;
}

const consoleIo: FlashCliIo = {
  out: (t) => console.log(t),
  err: (t) => console.error(t),
  progress: { write: (t) => process.stderr.write(t), isTTY: process.stderr.isTTY },
};

class UsageError extends Error {}

const provisioningOptions = {
  "wifi-ssid": { type: "string" },
  "wifi-password": { type: "string" },
  host: { type: "string" },
  "part-id": { type: "string" },
  "part-key": { type: "string" },
  config: { type: "string" },
} as const;

type ProvisioningFlags = { [K in keyof typeof provisioningOptions]?: string | undefined };

async function provisioningFrom(values: ProvisioningFlags): Promise<ProvisioningValues> {
  const provisioning: ProvisioningValues = {
    wifiSsid: values["wifi-ssid"],
    wifiPassword: values["wifi-password"],
    host: values.host,
    partId: values["part-id"],
    partKey: values["part-key"],
  };
  if (values.config !== undefined) {
    let text: string;
    try {
      text = fromUtf8(new Uint8Array(await readFile(values.config)));
    } catch (err) {
      throw new UsageError(`cannot read --config ${values.config}: ${(err as Error).message}`);
    }
    try {
      provisioning.config = configBlob(JSON.parse(text));
    } catch (err) {
      throw new UsageError(`--config ${values.config} is not valid JSON: ${(err as Error).message}`);
    }
  }
  provisioningEntries(provisioning); // checks types and sizes now
  return provisioning;
}

function parseChip(text: string | undefined): ChipFamily | "auto" {
  if (text === undefined || text === "auto") return "auto";
  const key = text.toLowerCase().replace(/[-_]/g, "");
  const chip = CHIPS.find((c) => c.family.toLowerCase().replace(/-/g, "") === key);
  if (chip === undefined) throw new UsageError(`--chip ${JSON.stringify(text)} is not auto or one of ${CHIPS.map((c) => c.family.toLowerCase().replace(/-/g, "")).join(", ")}`);
  return chip.family;
}

function parseBaud(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const baud = Number(text);
  if (!Number.isInteger(baud) || baud < 9600 || baud > 5_000_000) throw new UsageError(`--baud ${JSON.stringify(text)} is not a baud rate (e.g. 115200, 460800, 921600)`);
  return baud;
}

function parseAttempts(text: string | undefined): number {
  if (text === undefined) return 7;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 50) throw new UsageError(`--attempts wants a whole number from 1 to 50`);
  return n;
}

function defaultOpenPort(path: string, warn: (message: string) => void): WebSerialPortLike {
  return new NodeSerialPort(path, { onNoModemLines: warn });
}

interface Connected {
  session: FlashSession;
  noModemLines: () => boolean;
}

async function connect(path: string, baud: number, attempts: number, verbose: boolean, io: FlashCliIo, deps: FlashCliDeps): Promise<Connected> {
  let warned = false;
  const warn = (message: string) => {
    warned = true;
    io.err(`warning: ${message}`);
  };
  const port = (deps.openPort ?? defaultOpenPort)(path, warn);
  io.err(`connecting to ${path}...`);
  const debug = verbose ? (line: string) => io.err(`  esptool: ${line}`) : undefined;
  const session = await FlashSession.connect(port, { baud, attempts, portName: path, ...(debug ? { debug } : {}) });
  const size = session.flashSize;
  io.err(`connected: ${session.description}, MAC ${session.mac}, flash ${size === undefined ? `id ${hex(session.flashId)}` : formatSize(size)}, stub at ${baud} baud`);
  return { session, noModemLines: () => warned };
}

async function writeImages(session: FlashSession, images: WriteImage[], compress: boolean, eraseAll: boolean, io: FlashCliIo): Promise<void> {
  const sink = io.progress ?? consoleIo.progress!;
  const width = Math.max(...images.map((i) => i.name.length));
  const bars = new Map<WriteImage, ProgressBar>();
  if (eraseAll) io.err(`erasing the whole flash...`);
  await session.write(images, {
    compress,
    eraseAll,
    onProgress: (image, sent, total) => {
      let bar = bars.get(image);
      if (bar === undefined) {
        bar = new ProgressBar(sink, `${image.name.padEnd(width)} @${hex(image.offset, 5)}`);
        bars.set(image, bar);
      }
      bar.update(sent, total);
    },
    onVerified: (image, digest) => io.err(`  ${image.name.padEnd(width)} verified (${formatSize(image.bytes.length)}, md5 ${digest})`),
  });
}

async function finish(connected: Connected, io: FlashCliIo): Promise<void> {
  await connected.session.resetIntoApp();
  if (connected.noModemLines()) io.err(`press EN (RST) on the board to run it: this port cannot reset it`);
  else io.err(`reset into the app`);
  await connected.session.close();
}

async function flash(argv: string[], io: FlashCliIo, deps: FlashCliDeps): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: "string", short: "p" },
      firmware: { type: "string", short: "f" },
      baud: { type: "string", short: "b" },
      chip: { type: "string" },
      erase: { type: "boolean" },
      "no-compress": { type: "boolean" },
      attempts: { type: "string" },
      verbose: { type: "boolean", short: "v" },
      ...provisioningOptions,
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.port === undefined) throw new UsageError(`--port PATH is required`);
  if (values.firmware === undefined) throw new UsageError(`--firmware DIR|manifest.json is required`);
  const baud = parseBaud(values.baud, 921600);
  const chipArg = parseChip(values.chip);
  const attempts = parseAttempts(values.attempts);
  const provisioning = await provisioningFrom(values);

  // Everything about the files is checked before the port is opened.
  const source = await readFirmware(values.firmware);
  checkBeforeConnecting(source, provisioning, chipArg);

  const started = performance.now();
  const connected = await connect(values.port, baud, attempts, values.verbose ?? false, io, deps);
  const { session } = connected;
  try {
    if (chipArg !== "auto" && chipArg !== session.chip) throw new ImageError(`--chip ${chipArg} was given but the board is ${session.chip}`);
    // The board's chip decides; the images are checked again against it.
    const { plan, images } = await planForBoard(session, source, provisioning);
    const desc = plan.app.appDescription;
    io.err(`writing ${desc ? `${desc.projectName} ${desc.version} ` : ""}for ${session.chip}${values["no-compress"] ? " (uncompressed)" : ""}:`);
    await writeImages(session, images, !(values["no-compress"] ?? false), values.erase ?? false, io);
    await finish(connected, io);
  } catch (err) {
    await session.close();
    throw nothingWritten(err);
  }
  io.out(`flashed ${values.port} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

async function provision(argv: string[], io: FlashCliIo, deps: FlashCliDeps): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: "string", short: "p" },
      baud: { type: "string", short: "b" },
      attempts: { type: "string" },
      verbose: { type: "boolean", short: "v" },
      ...provisioningOptions,
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.port === undefined) throw new UsageError(`--port PATH is required`);
  const baud = parseBaud(values.baud, 921600);
  const attempts = parseAttempts(values.attempts);
  const provisioning = await provisioningFrom(values);
  if (!hasProvisioning(provisioning)) throw new UsageError(`nothing to provision: give at least one of --wifi-ssid, --wifi-password, --host, --part-id, --part-key, --config`);

  const connected = await connect(values.port, baud, attempts, values.verbose ?? false, io, deps);
  try {
    let table;
    try {
      table = parsePartitionTable(await connected.session.readFlash(PARTITION_TABLE_OFFSET, PARTITION_TABLE_LENGTH));
      if (table.partitions.length === 0) throw new ImageError(`the table is empty (erased flash)`);
    } catch (err) {
      if (err instanceof ImageError) throw new ImageError(`the board has no valid partition table at ${hex(PARTITION_TABLE_OFFSET)} (flash firmware first): ${err.message}`);
      throw err;
    }
    const image = provisioningImage(table.partitions, provisioning);
    io.err(`writing provisioning for ${connected.session.chip}:`);
    await writeImages(connected.session, [image], true, false, io);
    await finish(connected, io);
  } catch (err) {
    await connected.session.close();
    throw nothingWritten(err);
  }
  io.out(`provisioned ${values.port}`);
  return 0;
}

async function monitor(argv: string[], io: FlashCliIo, deps: FlashCliDeps): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { port: { type: "string", short: "p" }, baud: { type: "string", short: "b" }, reset: { type: "boolean" } },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.port === undefined) throw new UsageError(`--port PATH is required`);
  const baud = parseBaud(values.baud, 115200);
  const port = (deps.openPort ?? defaultOpenPort)(values.port, (m) => io.err(`warning: ${m}`));
  await port.open({ baudRate: baud });
  io.err(`monitoring ${values.port} at ${baud} baud; Ctrl-C to stop`);
  if (values.reset) {
    await port.setSignals({ dataTerminalReady: false, requestToSend: true });
    await new Promise((r) => setTimeout(r, 100));
    await port.setSignals({ dataTerminalReady: false, requestToSend: false });
  }
  const stop =
    deps.stopSignal ??
    new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
    });
  const reader = port.readable!.getReader();
  const decoder = new TextDecoder();
  let stopped = false;
  void stop.then(() => {
    stopped = true;
    void reader.cancel().catch(() => undefined);
  });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || stopped) break;
      const text = decoder.decode(value, { stream: true });
      if (io.serial) io.serial(text);
      else process.stdout.write(text);
    }
  } finally {
    reader.releaseLock();
    await port.close().catch(() => undefined);
  }
  return 0;
}

async function run(name: string, command: (argv: string[], io: FlashCliIo, deps: FlashCliDeps) => Promise<number>, argv: string[], io: FlashCliIo, deps: FlashCliDeps): Promise<number> {
  if (argv[0] === "help" || argv.includes("--help") || argv.includes("-h")) {
    io.out(flashUsage);
    return 0;
  }
  try {
    return await command(argv, io, deps);
  } catch (err) {
    const parseArgsError = typeof (err as { code?: unknown }).code === "string" && String((err as { code: string }).code).startsWith("ERR_PARSE_ARGS");
    if (err instanceof UsageError || parseArgsError) {
      io.err(`sprocket ${name}: ${(err as Error).message}\n\n${flashUsage}`);
      return 2;
    }
    if (err instanceof ImageError) {
      const note = name === "monitor" || err.message.endsWith(NOTHING_WRITTEN) ? "" : ` ${NOTHING_WRITTEN}`;
      io.err(`sprocket ${name}: ${err.message}${note}`);
      return 2;
    }
    if (err instanceof FlashError) {
      io.err(`sprocket ${name}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

export function flashCommand(argv: string[], io: FlashCliIo = consoleIo, deps: FlashCliDeps = {}): Promise<number> {
  return run("flash", flash, argv, io, deps);
}

export function provisionCommand(argv: string[], io: FlashCliIo = consoleIo, deps: FlashCliDeps = {}): Promise<number> {
  return run("provision", provision, argv, io, deps);
}

export function monitorCommand(argv: string[], io: FlashCliIo = consoleIo, deps: FlashCliDeps = {}): Promise<number> {
  return run("monitor", monitor, argv, io, deps);
}
