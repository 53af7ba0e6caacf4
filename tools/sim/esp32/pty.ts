// The simulator on a pseudo-terminal, so the CLI (or esptool.py, or a serial monitor) can open a
// device path as if a board were plugged in. Node has no pty API; `socat` (Debian package
// "socat") makes a linked pair:
//
//   socat -d -d pty,raw,echo=0,link=PATH pty,raw,echo=0,link=PATH.sim
//
// The host opens PATH; the simulator opens PATH.sim (with node-serialport) and moves bytes between
// it and the chip model. socat keeps both ends alive while the host opens and closes PATH.
//
// A pty has no modem lines: TIOCMSET on it fails ("Inappropriate ioctl for device"), so DTR/RTS
// never reach the simulator, and the line rate a host sets is not visible either (the chip's rate
// is assumed on both sides). The simulator is therefore started with `autoDownload` (a SYNC while
// the chip is not in a loader counts as BOOT held + EN pressed) and `idleResetMs` (after a flash
// write, line silence counts as EN pressed: the app boots), and the CLI flasher prints
// "port without modem lines: … hold BOOT and press EN" as it would for such a real port.
import { spawn, type ChildProcess } from "node:child_process";
import { stat } from "node:fs/promises";
import { SerialPort } from "serialport";
import type { Esp32Sim } from "./esp32-sim.js";

export class SocatMissingError extends Error {
  override name = "SocatMissingError";
}

/** Whether `socat` can be run (the Debian package "socat"). */
export async function haveSocat(command = "socat"): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, ["-V"], { stdio: "ignore" });
    child.on("error", () => resolve(false));
    child.on("exit", (code) => resolve(code === 0));
  });
}

async function waitForPath(path: string, ms: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`socat exited (code ${child.exitCode}) before creating ${path}`);
    if (await stat(path).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`socat did not create ${path} within ${ms} ms`);
}

/** A socat pty pair: PATH for the host, PATH.sim for whoever plays the device. */
export class PtyPair {
  private constructor(
    readonly path: string,
    readonly devicePath: string,
    private readonly child: ChildProcess,
    private readonly stderr: string[],
  ) {}

  static async create(path: string, options: { socat?: string } = {}): Promise<PtyPair> {
    if (!(await haveSocat(options.socat))) {
      throw new SocatMissingError(`socat is not installed: the pty transport needs it (Debian: apt-get install socat)`);
    }
    const devicePath = `${path}.sim`;
    const child = spawn(options.socat ?? "socat", ["-d", "-d", `pty,raw,echo=0,link=${path}`, `pty,raw,echo=0,link=${devicePath}`], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    const stderr: string[] = [];
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (t: string) => stderr.push(t));
    try {
      await waitForPath(path, 5000, child);
      await waitForPath(devicePath, 5000, child);
    } catch (err) {
      child.kill();
      throw new Error(`${(err as Error).message}\n${stderr.join("")}`);
    }
    return new PtyPair(path, devicePath, child, stderr);
  }

  /** socat's own log (with -d -d). */
  get log(): string {
    return this.stderr.join("");
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    await exited;
  }
}

/** Connects a simulator to the device end of a pty pair. */
export class PtyBridge {
  private constructor(
    readonly pair: PtyPair,
    private readonly port: SerialPort,
    private readonly unsubscribe: () => void,
  ) {}

  static async start(sim: Esp32Sim, path: string, options: { socat?: string } = {}): Promise<PtyBridge> {
    const pair = await PtyPair.create(path, options);
    const port = new SerialPort({ path: pair.devicePath, baudRate: 115200, autoOpen: false, hupcl: false, lock: false });
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      await pair.close();
      throw err;
    }
    // The host's line settings cannot be seen through a pty: assume it follows the chip.
    sim.hostBaud = undefined;
    port.on("data", (chunk: Buffer) => sim.hostWrite(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength).slice()));
    port.on("error", () => undefined);
    const unsubscribe = sim.onHostData((bytes) => {
      if (port.isOpen) port.write(Buffer.from(bytes));
    });
    return new PtyBridge(pair, port, unsubscribe);
  }

  get path(): string {
    return this.pair.path;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    if (this.port.isOpen) await new Promise<void>((resolve) => this.port.close(() => resolve()));
    await this.pair.close();
  }
}
