// Test support for the micro runtime: a simulated ESP32 with the firmware booted on it, and
// protobuf-es clients that talk to it the way a host does (ChannelClient + protobufFrameCodec)
// over a real TCP socket with the length-prefix framing, or over a simulated UART with COBS.
//
// `startMicro({ engine })` takes the engine the firmware runs on: "node" (the firmware's compiled
// JavaScript in this process, on the tools/sim shims; the default) or "xs" (the same JavaScript
// bundled onto the real XS engine by tools/sim/xs, its IO bridged to the same shims). Clients talk
// to either over the same sockets and UARTs. On XS the runtime object lives in the XS machine:
// `sim.status()` and `sim.run(body)` reach it on both engines.
import "../../tools/sim/register.js";
import { Socket, connect } from "node:net";
import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { ChannelClient, ChannelError, Code, type Metadata } from "../../proto/channel/index.js";
import { CobsDecoder, encodeCobsFrame } from "../../proto/channel/cobs.js";
import { LengthPrefixDecoder, encodeLengthPrefixed } from "../../proto/channel/length-prefix.js";
import { protobufFrameCodec } from "../../proto/channel/protobuf-codec.js";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import { provisioningKeys } from "../../firmware/provisioning/keys.js";
import { network } from "../../tools/sim/network.js";
import { uart, type UartPort } from "../../tools/sim/uart.js";
import { World, setWorld } from "../../tools/sim/world.js";
import { BME280Model } from "../../tools/sim/devices/bme280.js";
import { INA219Model } from "../../tools/sim/devices/ina219.js";
import { MPU6050Model } from "../../tools/sim/devices/mpu6050.js";
import { DcMotor } from "../../tools/sim/devices/dc-motor.js";
import type { MicroRuntime } from "../../firmware/runtime/boot.js";
import { startFirmware, type RunningFirmware } from "../../tools/sim/xs/runner.js";

export type Engine = "node" | "xs";

/** Both engines, for tests that run on each. */
export const ENGINES: readonly Engine[] = ["node", "xs"];

export const PART_ID = "part-1234";
export const PART_KEY = "s3cr3t-key-0123456789abcdef";

/** The pins of the standard test machine. */
export const PINS = {
  i2c: { data: 21, clock: 22 },
  motor: { a: 26, b: 27, pwm: 25 },
  encoder: { a: 32, b: 33 },
  servo: 13,
  interrupt: 4,
  analog: 34,
  gpio: 15,
} as const;

export const TICKS_PER_ROTATION = 20;

/** The standard machine: every model on the simulated board. */
export function standardConfig(): Record<string, unknown> {
  return {
    components: [
      {
        name: "board",
        api: "rdk:component:board",
        model: "esp32",
        attributes: {
          pins: [PINS.gpio],
          analogs: [{ name: "a1", pin: PINS.analog }],
          digital_interrupts: [{ pin: PINS.interrupt }],
          i2cs: [{ name: "i2c0", bus: "i2c0", data_pin: PINS.i2c.data, clock_pin: PINS.i2c.clock }],
        },
      },
      { name: "env", type: "sensor", model: "bme280", attributes: { i2c_bus: "i2c0" } },
      { name: "power", type: "power_sensor", model: "ina219", attributes: { i2c_bus: "i2c0", shunt_resistance: 0.1, max_current_amps: 3.2 } },
      { name: "imu", type: "movement_sensor", model: "gyro-mpu6050", attributes: { i2c_bus: "i2c0" } },
      { name: "enc", type: "encoder", model: "incremental", attributes: { pins: { a: PINS.encoder.a, b: PINS.encoder.b } } },
      {
        name: "m1",
        type: "motor",
        model: "gpio",
        attributes: { pins: PINS.motor, max_rpm: 100, encoder: "enc", ticks_per_rotation: TICKS_PER_ROTATION },
      },
      { name: "servo", type: "servo", model: "gpio", attributes: { pin: PINS.servo, frequency_hz: 50 } },
      { name: "heap", type: "sensor", model: "free-heap" },
      { name: "heap-generic", type: "generic", model: "free-heap" },
    ],
  };
}

export interface Wiring {
  bme280: BME280Model;
  ina219: INA219Model;
  mpu6050: MPU6050Model;
  motor: DcMotor;
}

/** Attaches the standard machine's devices to a world. */
export function wireStandard(w: World): Wiring {
  const bus = w.i2c(PINS.i2c);
  const bme280 = bus.attach(0x76, new BME280Model({ environment: { temperature: 21.5, humidity: 40, pressure: 101_325 } }));
  const ina219 = bus.attach(0x40, new INA219Model({ load: { supplyVolts: 5, amps: 0.5 } }));
  const mpu6050 = bus.attach(0x68, new MPU6050Model({ temperature: 30 }));
  const motor = new DcMotor(w, {
    pins: PINS.motor,
    maxRpm: 100,
    encoder: { a: PINS.encoder.a, b: PINS.encoder.b, ticksPerRotation: TICKS_PER_ROTATION },
  });
  w.setVoltage(PINS.analog, 1.65);
  return { bme280, ina219, mpu6050, motor };
}

export interface StartOptions {
  engine?: Engine;
  /** Machine config stored in Preference before boot (object: JSON-encoded). */
  config?: Record<string, unknown> | string;
  partId?: string | null;
  partKey?: string | null;
  wifi?: { ssid: string; password?: string };
  /** Devices to wire before boot; default: the standard machine. */
  wire?: (w: World) => unknown;
  /** Passed to the firmware's start(). */
  frameTimeoutMs?: number;
  /** The host URL provisioned in NVS (`host` key): the part dials in to it over WebSocket. */
  hostUrl?: string;
  /** Dial-in timing passed to the firmware's start(). */
  dialIn?: { initialBackoffMs?: number; maxBackoffMs?: number };
  /** Boot again on a stopped sim's world: its NVS and devices as they are (a reboot). */
  reboot?: World;
}

/** What the firmware's runtime reports, on either engine. */
export interface MicroStatus {
  /** Client connections being served on TCP. */
  connections: number;
  /** TCP connections refused since boot (over the connection cap). */
  refused: number;
  /** The UART connection's COBS counters, when the config serves RPC on a UART. */
  uart: { dropped: number; crcErrors: number } | undefined;
}

export interface MicroSim {
  readonly engine: Engine;
  readonly world: World;
  readonly wiring: unknown;
  /** The real TCP port the firmware listens on. */
  readonly port: number;
  /** The firmware's runtime (Node engine only: on XS reading it throws; use status() or run()). */
  readonly runtime: MicroRuntime;
  /** The running firmware on XS (its host, heap figures); undefined on Node. */
  readonly fw: RunningFirmware | undefined;
  /** The runtime's connection counters, on either engine. */
  status(): Promise<MicroStatus>;
  /** Runs a function body in the firmware's engine with `runtime` (the MicroRuntime) in scope; JSON-like result. */
  run<T = unknown>(body: string): Promise<T>;
  stop(): Promise<void>;
}

const STATUS_BODY = `
  const tcp = runtime.tcp;
  const cobs = runtime.uart === undefined ? undefined : runtime.uart.connection.cobs;
  return {
    connections: tcp === undefined ? 0 : tcp.connections.size,
    refused: tcp === undefined ? 0 : tcp.refused,
    uart: cobs === undefined ? undefined : { dropped: cobs.dropped, crcErrors: cobs.crcErrors },
  };`;

/** Writes provisioning straight into the simulated NVS, as the flasher's NVS image would. */
export function provision(
  w: World,
  values: { partId?: string | null; partKey?: string | null; config?: string; wifi?: { ssid: string; password?: string }; hostUrl?: string },
): void {
  const set = (key: { domain: string; key: string }, entry: Parameters<World["nvs"]["set"]>[2]) => {
    w.nvs.open(key.domain, true);
    w.nvs.set(key.domain, key.key, entry);
  };
  if (values.partId) set(provisioningKeys.partId, { type: "str", value: values.partId });
  if (values.partKey) set(provisioningKeys.partKey, { type: "str", value: values.partKey });
  if (values.config !== undefined) set(provisioningKeys.config, { type: "blob", value: new TextEncoder().encode(values.config) });
  if (values.hostUrl !== undefined) set(provisioningKeys.host, { type: "str", value: values.hostUrl });
  if (values.wifi) {
    set(provisioningKeys.wifiSsid, { type: "str", value: values.wifi.ssid });
    if (values.wifi.password) set(provisioningKeys.wifiPassword, { type: "str", value: values.wifi.password });
  }
}

/**
 * Boots the firmware on a fresh simulated ESP32. On Node the world is made the current one (one
 * Node-engine firmware per process at a time); on XS each sim has its own.
 */
export async function startMicro(options: StartOptions = {}): Promise<MicroSim> {
  const engine = options.engine ?? "node";
  const reboot = options.reboot;
  const w = reboot ?? new World();
  if (engine === "node") setWorld(w);
  network(w).portOverride = 0; // any free port: test files run in parallel
  let wiring: unknown = undefined;
  if (reboot === undefined) {
    wiring = (options.wire ?? wireStandard)(w);
    const config = options.config === undefined ? standardConfig() : options.config;
    provision(w, {
      partId: options.partId === undefined ? PART_ID : options.partId,
      partKey: options.partKey === undefined ? PART_KEY : options.partKey,
      config: typeof config === "string" ? config : JSON.stringify(config),
      wifi: options.wifi,
      hostUrl: options.hostUrl,
    });
  }
  const startOptions = {
    ...(options.frameTimeoutMs === undefined ? {} : { frameTimeoutMs: options.frameTimeoutMs }),
    ...(options.dialIn === undefined ? {} : { dialIn: options.dialIn }),
  };
  if (engine === "xs") return startOnXs(w, wiring, startOptions);
  const { start } = await import("../../firmware/runtime/boot.js");
  const runtime = start(startOptions);
  const requested = runtime.tcp?.port ?? 8081;
  const port = await network(w).listening(requested);
  const run = async <T>(body: string): Promise<T> => {
    const previous = setWorld(w);
    try {
      return structuredClone((new Function("runtime", body) as (r: MicroRuntime) => T)(runtime));
    } finally {
      setWorld(previous);
    }
  };
  return {
    engine,
    world: w,
    wiring,
    port,
    runtime,
    fw: undefined,
    status: () => run<MicroStatus>(STATUS_BODY),
    run,
    async stop() {
      runtime.stop();
      await new Promise((r) => setImmediate(r));
      w.dispose();
    },
  };
}

/** The firmware's boot module as tsc emitted it, bundled for XS. */
const BOOT_MODULE = new URL("../../firmware/runtime/boot.js", import.meta.url).href;

async function startOnXs(w: World, wiring: unknown, startOptions: { frameTimeoutMs?: number; dialIn?: StartOptions["dialIn"] }): Promise<MicroSim> {
  const fw = await startFirmware({ engine: "xs", world: w, expose: { boot: BOOT_MODULE } });
  let requested: number;
  try {
    requested = await fw.run<number>(`modules.runtime = modules.boot.start(${JSON.stringify(startOptions)});
      return modules.runtime.tcp === undefined ? 8081 : modules.runtime.tcp.port;`);
  } catch (error) {
    await fw.stop();
    w.dispose();
    throw error;
  }
  const port = await network(w).listening(requested);
  const run = <T>(body: string): Promise<T> => fw.run<T>(`return (function (runtime) {\n${body}\n})(modules.runtime);`);
  return {
    engine: "xs",
    world: w,
    wiring,
    port,
    get runtime(): MicroRuntime {
      throw new Error("on the XS engine the runtime lives in the XS machine: use sim.status() or sim.run()");
    },
    fw,
    status: () => run<MicroStatus>(STATUS_BODY),
    run,
    async stop() {
      try {
        if (fw.xs?.alive) await fw.run(`modules.runtime.stop();`);
      } finally {
        await new Promise((r) => setImmediate(r));
        await fw.stop();
        w.dispose();
      }
    },
  };
}

/** The gRPC path of a generated method: `/pkg.Service/Method`. */
export function methodPath(method: DescMethod): string {
  return "/" + method.parent.typeName + "/" + method.name;
}

const setTimer = (ms: number, fn: () => void) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

/** A host-side client of a micro part: ChannelClient with the protobuf-es codec over some framing. */
export class MicroClient {
  readonly client: ChannelClient;
  readonly closed: Promise<string>;
  #close: () => void;

  private constructor(send: (frame: Uint8Array) => void, close: () => void, closed: Promise<string>) {
    // The firmware's MICRO_MAX_PACKET_BYTES (firmware/rpc/connection.ts; not imported here, it needs the sim hooks).
    this.client = new ChannelClient({ codec: protobufFrameCodec, send, setTimer, maxPacketBytes: 4 * 1024 });
    this.#close = close;
    this.closed = closed.then((reason) => {
      this.client.close(reason);
      return reason;
    });
  }

  /** Connects over TCP with the 4-byte length-prefix framing. */
  static async tcp(port: number, host = "127.0.0.1"): Promise<MicroClient> {
    const socket = connect({ host, port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return MicroClient.overSocket(socket);
  }

  static overSocket(socket: Socket): MicroClient {
    const ref: { c?: MicroClient } = {};
    const decoder = new LengthPrefixDecoder({
      onFrame: (frame) => ref.c?.client.receive(frame),
      onError: (error) => socket.destroy(error),
    });
    const closed = new Promise<string>((resolve) => socket.once("close", () => resolve("socket closed")));
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    ref.c = new MicroClient(
      (frame) => {
        if (!socket.destroyed) socket.write(encodeLengthPrefixed(frame));
      },
      () => socket.destroy(),
      closed,
    );
    return ref.c;
  }

  /**
   * Talks over a serial device (a pseudo-terminal the simulator serves, or a board's port) with
   * COBS + CRC-32 framing, as a host on a USB-serial link does.
   */
  static async serial(path: string, baudRate = 115200): Promise<MicroClient> {
    const { SerialPort } = await import("serialport");
    const port = new SerialPort({ path, baudRate, autoOpen: false, hupcl: false, lock: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    const ref: { c?: MicroClient } = {};
    const decoder = new CobsDecoder({ onFrame: (frame) => ref.c?.client.receive(frame) });
    port.on("data", (chunk: Buffer) => decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    port.on("error", () => undefined);
    const closed = new Promise<string>((resolve) => port.once("close", () => resolve("serial port closed")));
    ref.c = new MicroClient(
      (frame) => {
        if (port.isOpen) port.write(Buffer.from(encodeCobsFrame(frame)));
      },
      () => {
        if (port.isOpen) port.close();
      },
      closed,
    );
    return ref.c;
  }

  /** Talks over a simulated UART with COBS + CRC-32 framing. */
  static uart(port: UartPort): { client: MicroClient; decoder: CobsDecoder } {
    const ref: { c?: MicroClient } = {};
    const decoder = new CobsDecoder({ onFrame: (frame) => ref.c?.client.receive(frame) });
    const unsubscribe = port.onTransmit((bytes) => decoder.push(bytes));
    const c = new MicroClient((frame) => port.send(encodeCobsFrame(frame)), unsubscribe, new Promise<string>(() => undefined));
    ref.c = c;
    return { client: c, decoder };
  }

  /** A unary call with protobuf-es messages. */
  async call<I extends DescMessage, O extends DescMessage>(
    method: DescMethod & { input: I; output: O },
    request: MessageInitShape<I>,
    options: { metadata?: Metadata; timeoutMs?: number } = {},
  ): Promise<MessageShape<O>> {
    const bytes = toBinary(method.input, create(method.input, request));
    const result = await this.client.unary(methodPath(method), options.metadata ?? {}, bytes, { timeoutMs: options.timeoutMs ?? 5000 });
    return fromBinary(method.output, result.message);
  }

  async authenticate(entity = PART_ID, payload = PART_KEY): Promise<string> {
    const res = await this.call(AuthService.method.authenticate, { entity, credentials: { type: "api-key", payload } });
    return res.accessToken;
  }

  close(): void {
    this.#close();
  }
}

/** A connected and authenticated TCP client. */
export async function connectAuthenticated(sim: MicroSim): Promise<MicroClient> {
  const c = await MicroClient.tcp(sim.port);
  await c.authenticate();
  return c;
}

export function simUart(w: World, port: number): UartPort {
  return uart(w, port);
}

/** Waits until `check` returns true, polling every 5 ms. */
export async function until(check: () => boolean, timeoutMs = 3000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** How a call ended: its status code and message (OK and "" when it succeeded). */
export async function outcome(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof ChannelError)) throw error;
    return { code: error.code, message: error.message };
  }
  return { code: Code.OK, message: "" };
}
