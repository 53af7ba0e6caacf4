// `sprocket micro-sim`: the micro runtime's firmware, unmodified, on a simulated ESP32 with the
// devices its config names, served on a real TCP port (and optionally on a pseudo-terminal), on
// either engine: "node" (the firmware's JavaScript in this process on the tools/sim shims) or "xs"
// (the same JavaScript on the real XS engine, bridged to the same shims; tools/sim/xs).
//
// What it does, in order:
// - reads the micro config (a machine config's micro part: firmware/config/schema.ts) and attaches
//   a device model for every driver it names, on the board's I2C bus pins and at the driver's
//   address (BME280, INA219/INA226, MPU-6050, ADXL345), a voltage on every analog reader's pin, and
//   a DC motor with encoder feedback on every gpio motor's pins (tools/sim/devices/dc-motor.ts);
// - provisions Preference (the simulated NVS) as a flashed board would be: from an NVS image
//   (`sprocket nvs create`), then the --config, --part-id and --part-key flags on top;
// - boots the firmware (main.js's default export, as Moddable calls it) and maps its Listener onto
//   --listen HOST:PORT (port 0: any free one);
// - with --serial PATH, wires the UART the config's `rpc_uart` names to a pseudo-terminal pair that
//   socat makes (tools/sim/esp32/pty.ts): clients open PATH, the simulator holds PATH.sim;
// - prints how to connect, and stops cleanly on Ctrl-C or SIGTERM.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import { SerialPort } from "serialport";
import { ConfigError } from "../../firmware/config/attributes.js";
import { parseConfig, type ComponentConfig, type MachineConfig } from "../../firmware/config/schema.js";
import { PLATFORM, VERSION } from "../../firmware/version.js";
import type { JsonObject, JsonValue } from "../../proto/micro/runtime.js";
import { ImageError } from "../image/bytes.js";
import { parseNvs, type NvsEntry as ImageNvsEntry } from "../image/nvs.js";
import { configBlob, provisioningEntries, readProvisioning, type ProvisioningValues } from "../image/provisioning.js";
import { ADXL345Model } from "../sim/devices/adxl345.js";
import { BME280Model } from "../sim/devices/bme280.js";
import { DcMotor } from "../sim/devices/dc-motor.js";
import { INA219Model } from "../sim/devices/ina219.js";
import { INA226Model } from "../sim/devices/ina226.js";
import { MPU6050Model } from "../sim/devices/mpu6050.js";
import { PtyPair, SocatMissingError } from "../sim/esp32/pty.js";
import { network } from "../sim/network.js";
import type { NvsEntry as SimNvsEntry } from "../sim/nvs.js";
import { uart } from "../sim/uart.js";
import { World } from "../sim/world.js";
import { startFirmware, type EngineName, type RunningFirmware } from "../sim/xs/runner.js";

export const microSimUsage = `usage: sprocket micro-sim --config micro.json --listen tcp://HOST:PORT [--serial PATH] [--engine node|xs]
                          [--part-id ID --part-key KEY] [--nvs nvs.bin] [--quiet]

  Runs the micro runtime's firmware on a simulated ESP32 with a device model for every driver the
  config names (BME280, INA219/INA226, MPU-6050, ADXL345 at their I2C addresses, analog readers,
  gpio motors with encoder feedback), and serves its RPC on HOST:PORT (port 0: any free port).
  --config    the part's machine config (JSON); stored in Preference as a flashed board's would be
  --nvs       an NVS image (sprocket nvs create) to provision from; --config/--part-* override it
  --part-id, --part-key
              the API key clients authenticate with (default: part id "micro-sim", a random key)
  --serial    also serve the UART of the config's rpc_uart on the pseudo-terminal PATH (needs socat)
  --engine    node (default): the firmware in this process; xs: on the real XS engine (xsnap)
  --quiet     drop the firmware's log (by default on stderr, as a board's serial console)`;

/** Where the firmware's main module is, as tsc emitted it beside this file (dist/tools/cli → dist/firmware). */
export const FIRMWARE_MAIN = new URL("../../firmware/main.js", import.meta.url).href;

/** What the simulator runs the board's sensors at. */
export const SIM_ENVIRONMENT = { temperature: 21.5, humidity: 40, pressure: 101_325 } as const;
/** The load on simulated INA219/INA226 monitors. */
export const SIM_LOAD = { supplyVolts: 5, amps: 0.5 } as const;
/** The voltage on every analog reader's pin (mid-scale of the ESP32's 0-3.3 V span). */
export const SIM_ANALOG_VOLTS = 1.65;

export class MicroSimUsageError extends Error {}

// Devices ------------------------------------------------------------------------------------------

export interface AttachedDevice {
  /** The config component it serves. */
  readonly component: string;
  /** e.g. "BME280 on i2c0 (SDA 21, SCL 22) at 0x76". */
  readonly description: string;
}

function modelName(c: ComponentConfig): string {
  return c.model.startsWith("rdk:builtin:") ? c.model.slice("rdk:builtin:".length) : c.model;
}

function attr(a: JsonObject, key: string): JsonValue | undefined {
  const v = a[key];
  return v === null ? undefined : v;
}

function pinOf(value: JsonValue | undefined): number | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

function numberOf(value: JsonValue | undefined, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

interface BusPins {
  readonly name: string;
  readonly data: number;
  readonly clock: number;
}

function hex(address: number): string {
  return "0x" + address.toString(16).padStart(2, "0");
}

/**
 * Attaches a device model for every driver `config` names to `w`, where the firmware will look for
 * it. Returns what was attached and what could not be (an unknown bus, an address in use).
 */
export function attachDevices(w: World, config: MachineConfig): { devices: AttachedDevice[]; warnings: string[] } {
  const devices: AttachedDevice[] = [];
  const warnings: string[] = [];
  const buses = new Map<string, BusPins>();
  /** Digital interrupt names → pins (encoders may name their pins by interrupt). */
  const interrupts = new Map<string, number>();

  for (const c of config.components) {
    if (c.api.subtype !== "board" || modelName(c) !== "esp32") continue;
    const a = c.attributes;
    const i2cs = attr(a, "i2cs");
    if (Array.isArray(i2cs)) {
      for (const raw of i2cs) {
        if (typeof raw !== "object" || raw === null || Array.isArray(raw)) continue;
        const name = raw.name;
        if (typeof name !== "string" || buses.has(name)) continue;
        buses.set(name, { name, data: pinOf(attr(raw, "data_pin")) ?? 21, clock: pinOf(attr(raw, "clock_pin")) ?? 22 });
      }
    }
    const analogs = attr(a, "analogs");
    if (Array.isArray(analogs)) {
      for (const raw of analogs) {
        if (typeof raw !== "object" || raw === null || Array.isArray(raw)) continue;
        const pin = pinOf(attr(raw, "pin"));
        if (pin === undefined) continue;
        w.setVoltage(pin, SIM_ANALOG_VOLTS);
        devices.push({ component: c.name, description: `${SIM_ANALOG_VOLTS} V on analog reader ${JSON.stringify(raw.name)} (pin ${pin})` });
      }
    }
    const digital = attr(a, "digital_interrupts");
    if (Array.isArray(digital)) {
      for (const raw of digital) {
        if (typeof raw !== "object" || raw === null || Array.isArray(raw)) continue;
        const pin = pinOf(attr(raw, "pin"));
        if (pin === undefined) continue;
        const name = typeof raw.name === "string" && raw.name !== "" ? raw.name : String(pin);
        interrupts.set(name, pin);
      }
    }
  }

  const onBus = (c: ComponentConfig, label: string, primary: number, alternate: number, make: () => Parameters<ReturnType<World["i2c"]>["attach"]>[1]) => {
    const a = c.attributes;
    const busName = attr(a, "i2c_bus");
    const bus = typeof busName === "string" ? buses.get(busName) : undefined;
    if (bus === undefined) {
      warnings.push(`${c.name}: no esp32 board defines i2c bus ${JSON.stringify(busName)}; no ${label} attached`);
      return;
    }
    const address = pinOf(attr(a, "i2c_address")) ?? (attr(a, "use_alt_i2c_address") === true ? alternate : primary);
    try {
      w.i2c({ data: bus.data, clock: bus.clock }).attach(address, make());
      devices.push({ component: c.name, description: `${label} on ${bus.name} (SDA ${bus.data}, SCL ${bus.clock}) at ${hex(address)}` });
    } catch (error) {
      warnings.push(`${c.name}: ${label} not attached: ${(error as Error).message}`);
    }
  };

  for (const c of config.components) {
    const a = c.attributes;
    switch (`${c.api.subtype}/${modelName(c)}`) {
      case "sensor/bme280":
        onBus(c, "BME280", 0x76, 0x77, () => new BME280Model({ environment: { ...SIM_ENVIRONMENT } }));
        break;
      case "power_sensor/ina219":
      case "power_sensor/ina226": {
        const ina219 = modelName(c) === "ina219";
        const options = { shuntOhms: numberOf(attr(a, "shunt_resistance"), 0.1), load: { ...SIM_LOAD } };
        onBus(c, ina219 ? "INA219" : "INA226", 0x40, 0x40, () => (ina219 ? new INA219Model(options) : new INA226Model(options)));
        break;
      }
      case "movement_sensor/gyro-mpu6050":
        onBus(c, "MPU-6050", 0x68, 0x69, () => new MPU6050Model({ temperature: 30 }));
        break;
      case "movement_sensor/accel-adxl345":
        onBus(c, "ADXL345", 0x53, 0x1d, () => new ADXL345Model());
        break;
      case "motor/gpio": {
        const pins = attr(a, "pins");
        if (typeof pins !== "object" || pins === null || Array.isArray(pins)) break;
        const pwm = pinOf(attr(pins, "pwm"));
        if (pwm === undefined) break;
        const motorPins = { a: pinOf(attr(pins, "a")), b: pinOf(attr(pins, "b")), dir: pinOf(attr(pins, "dir")), pwm };
        const maxRpm = numberOf(attr(a, "max_rpm"), 100);
        let encoder: { a: number; b: number; ticksPerRotation: number } | undefined;
        const encoderName = attr(a, "encoder");
        const enc = typeof encoderName === "string" ? config.components.find((e) => e.name === encoderName && e.api.subtype === "encoder") : undefined;
        if (enc !== undefined && modelName(enc) === "incremental") {
          const encPins = attr(enc.attributes, "pins");
          if (typeof encPins === "object" && encPins !== null && !Array.isArray(encPins)) {
            const resolve = (v: JsonValue | undefined) => pinOf(v) ?? (typeof v === "string" ? interrupts.get(v) : undefined);
            const ea = resolve(attr(encPins, "a"));
            const eb = resolve(attr(encPins, "b"));
            if (ea !== undefined && eb !== undefined) encoder = { a: ea, b: eb, ticksPerRotation: numberOf(attr(a, "ticks_per_rotation"), 1) };
          }
        }
        new DcMotor(w, { pins: { pwm, ...(motorPins.a === undefined ? {} : { a: motorPins.a }), ...(motorPins.b === undefined ? {} : { b: motorPins.b }), ...(motorPins.dir === undefined ? {} : { dir: motorPins.dir }) }, maxRpm, ...(encoder ? { encoder } : {}) });
        const bridge = motorPins.dir === undefined ? `A ${motorPins.a}, B ${motorPins.b}` : `DIR ${motorPins.dir}`;
        devices.push({
          component: c.name,
          description:
            `DC motor (${maxRpm} rpm at full duty) on PWM ${pwm}, ${bridge}` +
            (encoder ? `, encoder ${enc?.name} on ${encoder.a}/${encoder.b} (${encoder.ticksPerRotation} ticks/rev)` : ""),
        });
        break;
      }
    }
  }
  return { devices, warnings };
}

// Provisioning --------------------------------------------------------------------------------------

function simEntry(e: ImageNvsEntry): SimNvsEntry | undefined {
  switch (e.type) {
    case "u8":
    case "i32":
      return { type: e.type, value: e.value };
    case "str":
      return { type: "str", value: e.value };
    case "blob":
      return { type: "blob", value: e.value };
    default:
      return undefined; // Preference reads u8, i32, str and blobs only
  }
}

export interface ProvisionOptions {
  /** The config's JSON text (a --config file). */
  configText?: string;
  /** An NVS partition image. */
  nvs?: Uint8Array;
  partId?: string;
  partKey?: string;
}

export interface Provisioned {
  readonly partId: string;
  readonly partKey: string;
  /** The machine config the firmware will read. */
  readonly config: MachineConfig;
  /** Where the config came from: "--config" or "--nvs". */
  readonly configSource: string;
  readonly warnings: string[];
}

/** Writes NVS entries the way the flasher would, into the simulated NVS. */
function writeEntries(w: World, entries: readonly ImageNvsEntry[], warnings: string[]): void {
  for (const e of entries) {
    const entry = simEntry(e);
    if (entry === undefined) {
      warnings.push(`NVS ${e.namespace}/${e.key}: type ${e.type} is not one Preference reads; skipped`);
      continue;
    }
    const error = w.nvs.open(e.namespace, true) ?? w.nvs.set(e.namespace, e.key, entry);
    if (error !== undefined) throw new MicroSimUsageError(`cannot store NVS ${e.namespace}/${e.key}: ${error}`);
  }
}

/**
 * Provisions the world's NVS from an image and flags (flags win), as a board flashed with
 * `sprocket flash` would be. A part with no key gets "micro-sim" and a random key, so it is
 * reachable (the firmware accepts no one without a key).
 */
export function provisionWorld(w: World, options: ProvisionOptions): Provisioned {
  const warnings: string[] = [];
  let fromImage: ProvisioningValues = {};
  if (options.nvs !== undefined) {
    let entries: ImageNvsEntry[];
    try {
      entries = parseNvs(options.nvs).entries;
      fromImage = readProvisioning(entries);
    } catch (error) {
      throw new MicroSimUsageError(`--nvs: ${error instanceof ImageError || error instanceof Error ? error.message : String(error)}`);
    }
    writeEntries(w, entries, warnings);
  }
  let configText: string;
  let configSource: string;
  if (options.configText !== undefined) {
    configText = options.configText;
    configSource = "--config";
  } else if (fromImage.config !== undefined) {
    configText = new TextDecoder().decode(fromImage.config);
    configSource = "--nvs";
  } else {
    throw new MicroSimUsageError("--config FILE is required (or an --nvs image holding a config)");
  }
  let config: MachineConfig;
  let raw: unknown;
  try {
    config = parseConfig(configText);
    raw = JSON.parse(configText) as unknown;
  } catch (error) {
    throw new MicroSimUsageError(`${configSource}: ${error instanceof ConfigError ? error.message : (error as Error).message}`);
  }
  const partId = options.partId ?? fromImage.partId ?? "micro-sim";
  const partKey = options.partKey ?? fromImage.partKey ?? randomBytes(16).toString("hex");
  const values: ProvisioningValues = { partId, partKey };
  if (options.configText !== undefined) values.config = configBlob(raw);
  try {
    writeEntries(w, provisioningEntries(values), warnings);
  } catch (error) {
    throw error instanceof MicroSimUsageError ? error : new MicroSimUsageError((error as Error).message);
  }
  return { partId, partKey, config, configSource, warnings };
}

// The simulator ---------------------------------------------------------------------------------------

export interface MicroSimOptions extends ProvisionOptions {
  engine: EngineName;
  /** Address the firmware's listener is bound to on this computer. */
  host: string;
  /** Port it is bound to (0: any free port). */
  port: number;
  /** A pseudo-terminal path for the config's rpc_uart. */
  serial?: string;
  /** The firmware's log lines (trace); dropped when absent. */
  onLog?: (text: string) => void;
}

export interface MicroSimulator {
  readonly engine: EngineName;
  readonly world: World;
  readonly fw: RunningFirmware;
  readonly host: string;
  /** The port the firmware's listener is bound to. */
  readonly port: number;
  /** The pseudo-terminal clients open, with --serial. */
  readonly serialPath: string | undefined;
  readonly provisioned: Provisioned;
  readonly devices: AttachedDevice[];
  readonly warnings: string[];
  stop(): Promise<void>;
}

let logSink: ((text: string) => void) | undefined;

/** The Node engine's firmware logs through a global trace() it finds when log.ts loads, as on a board. */
function installNodeTrace(): void {
  const g = globalThis as { trace?: (text: string) => void };
  if (typeof g.trace === "function") return;
  Object.defineProperty(globalThis, "trace", {
    value: (text: string) => logSink?.(String(text)),
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error) => reject(new Error(`cannot listen on ${host}:${port}: ${error.message}`)));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/**
 * Puts UART `u.port` of the world on a pseudo-terminal: socat makes a linked pair (PATH for
 * clients, PATH.sim for the simulator; tools/sim/esp32/pty.ts), the simulator holds PATH.sim and
 * moves bytes between it and the UART's outside end, which paces them at the UART's baud rate.
 */
export async function serveUartOnPty(w: World, path: string, u: { port: number; baud: number }): Promise<{ readonly path: string; close(): Promise<void> }> {
  const pair = await PtyPair.create(path);
  const device = new SerialPort({ path: pair.devicePath, baudRate: u.baud, autoOpen: false, hupcl: false, lock: false });
  try {
    await new Promise<void>((resolve, reject) => device.open((err) => (err ? reject(err) : resolve())));
  } catch (error) {
    await pair.close();
    throw error;
  }
  const port = uart(w, u.port);
  device.on("data", (chunk: Buffer) => port.send(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength).slice()));
  device.on("error", () => undefined);
  const unsubscribe = port.onTransmit((bytes) => {
    if (device.isOpen) device.write(Buffer.from(bytes));
  });
  return {
    path: pair.path,
    async close() {
      unsubscribe();
      if (device.isOpen) await new Promise<void>((resolve) => device.close(() => resolve()));
      await pair.close();
    },
  };
}

/** Starts a simulated micro part (see the top of this file). */
export async function startMicroSimulator(options: MicroSimOptions): Promise<MicroSimulator> {
  await checkPortFree(options.host, options.port);
  const w = new World(options.nvs === undefined ? {} : { nvs: { partitionBytes: options.nvs.length } });
  let provisioned: Provisioned;
  let attached: ReturnType<typeof attachDevices>;
  let serial: { close(): Promise<void> } | undefined;
  try {
    provisioned = provisionWorld(w, options);
    attached = attachDevices(w, provisioned.config);
    if (options.serial !== undefined) {
      const u = provisioned.config.uart;
      if (u === undefined) throw new MicroSimUsageError(`--serial: the config has no rpc_uart (e.g. "rpc_uart": {"port": 2, "receive": 16, "transmit": 17, "baud": 115200})`);
      serial = await serveUartOnPty(w, options.serial, u);
    }
  } catch (error) {
    w.dispose();
    throw error;
  }
  const { devices, warnings } = attached;
  warnings.unshift(...provisioned.warnings);
  const net = network(w);
  net.bindAddress = options.host;
  net.portOverride = options.port;

  let fw: RunningFirmware;
  try {
    if (options.engine === "node") {
      installNodeTrace();
      logSink = options.onLog;
    }
    fw = await startFirmware({
      engine: options.engine,
      world: w,
      expose: { main: FIRMWARE_MAIN },
      xs: { onTrace: (text) => options.onLog?.(text) },
    });
    // What Moddable does with the main module: call its default export.
    await fw.run(`modules.main.default();`);
  } catch (error) {
    w.dispose();
    await serial?.close();
    throw error;
  }
  const record = net.listeners.at(-1);
  if (record === undefined) {
    await fw.stop();
    w.dispose();
    await serial?.close();
    throw new Error("the firmware opened no TCP listener (see its log)");
  }
  const port = await record.ready;
  let stopped = false;
  return {
    engine: options.engine,
    world: w,
    fw,
    host: options.host,
    port,
    serialPath: options.serial,
    provisioned,
    devices,
    warnings,
    async stop() {
      if (stopped) return;
      stopped = true;
      await fw.stop();
      w.dispose();
      await serial?.close();
      if (logSink === options.onLog) logSink = undefined;
    },
  };
}

// The command ------------------------------------------------------------------------------------------

/** `tcp://HOST:PORT` (or HOST:PORT) → host and port. */
export function parseListen(text: string): { host: string; port: number } {
  const withScheme = text.includes("://") ? text : "tcp://" + text;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new MicroSimUsageError(`--listen ${JSON.stringify(text)} is not tcp://HOST:PORT`);
  }
  if (url.protocol !== "tcp:") throw new MicroSimUsageError(`--listen wants tcp://HOST:PORT, not ${url.protocol}//`);
  const port = Number(url.port);
  if (url.port === "" || !Number.isInteger(port) || port < 0 || port > 65535) throw new MicroSimUsageError(`--listen ${JSON.stringify(text)} needs a port (0: any free one)`);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new MicroSimUsageError(`--listen ${JSON.stringify(text)} needs a host (e.g. 127.0.0.1 or 0.0.0.0)`);
  return { host, port };
}

function banner(sim: MicroSimulator, configPath: string | undefined): string {
  const p = sim.provisioned;
  const where = sim.host.includes(":") ? `[${sim.host}]:${sim.port}` : `${sim.host}:${sim.port}`;
  const lines = [
    ``,
    `${PLATFORM} ${VERSION} on a simulated ESP32, ${sim.engine === "xs" ? "XS engine (xsnap)" : "Node engine"}`,
    `  config: ${p.configSource === "--config" ? configPath : "from the NVS image"} (${p.config.components.length} components)`,
    ...sim.devices.map((d) => `  device: ${d.component}: ${d.description}`),
    ...sim.warnings.map((w) => `  warning: ${w}`),
    `listening on tcp://${where}`,
    `  RPC: gRPC over message channel (proto.rpc.webrtc.v1 Request/Response), 4-byte big-endian length-prefixed frames;`,
    `       at most 4 connections, packets of at most 4096 bytes (ChannelClient maxPacketBytes: 4096)`,
  ];
  if (sim.serialPath !== undefined && p.config.uart !== undefined) {
    lines.push(`serial on ${sim.serialPath}`, `  the same RPC in COBS frames with CRC-32 at ${p.config.uart.baud} baud (UART ${p.config.uart.port}); open it like a board's port`);
  }
  lines.push(
    `auth: call proto.rpc.v1.AuthService/Authenticate first on each connection:`,
    `  entity ${JSON.stringify(p.partId)}, credentials { type: "api-key", payload: ${JSON.stringify(p.partKey)} }`,
    `Ctrl-C stops.`,
    ``,
  );
  return lines.join("\n");
}

export async function microSimCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: "string", short: "c" },
        listen: { type: "string", short: "l" },
        serial: { type: "string" },
        engine: { type: "string" },
        "part-id": { type: "string" },
        "part-key": { type: "string" },
        nvs: { type: "string" },
        quiet: { type: "boolean", short: "q" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    console.error(`sprocket micro-sim: ${(err as Error).message}\n\n${microSimUsage}`);
    return 2;
  }
  if (values.help) {
    console.log(microSimUsage);
    return 0;
  }
  const bad = (message: string) => {
    console.error(`sprocket micro-sim: ${message}\n\n${microSimUsage}`);
    return 2;
  };
  const engine = values.engine ?? "node";
  if (engine !== "node" && engine !== "xs") return bad(`--engine must be node or xs`);
  if (values.listen === undefined) return bad(`--listen tcp://HOST:PORT is required`);
  if (values.config === undefined && values.nvs === undefined) return bad(`--config FILE is required (or --nvs IMAGE holding a config)`);

  let sim: MicroSimulator;
  try {
    const { host, port } = parseListen(values.listen);
    const configText = values.config === undefined ? undefined : await readFile(values.config, "utf8").catch((err: Error) => {
      throw new MicroSimUsageError(`cannot read --config ${values.config}: ${err.message}`);
    });
    const nvs = values.nvs === undefined ? undefined : await readFile(values.nvs).then(
      (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
      (err: Error) => {
        throw new MicroSimUsageError(`cannot read --nvs ${values.nvs}: ${err.message}`);
      },
    );
    const quiet = values.quiet ?? false;
    sim = await startMicroSimulator({
      engine,
      host,
      port,
      ...(configText === undefined ? {} : { configText }),
      ...(nvs === undefined ? {} : { nvs }),
      ...(values["part-id"] === undefined ? {} : { partId: values["part-id"] }),
      ...(values["part-key"] === undefined ? {} : { partKey: values["part-key"] }),
      ...(values.serial === undefined ? {} : { serial: values.serial }),
      ...(quiet ? {} : { onLog: (text: string) => process.stderr.write(text.endsWith("\n") ? text : text + "\n") }),
    });
  } catch (err) {
    if (err instanceof MicroSimUsageError) return bad(err.message);
    console.error(`sprocket micro-sim: ${(err as Error).message}`);
    return err instanceof SocatMissingError ? 2 : 1;
  }
  console.log(banner(sim, values.config));

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`stopping (${why})`);
      sim.stop().then(
        () => resolve(0),
        (err: unknown) => {
          console.error(`sprocket micro-sim: while stopping: ${(err as Error).message}`);
          resolve(1);
        },
      );
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}
