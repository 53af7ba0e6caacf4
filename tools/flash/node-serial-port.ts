// A real serial port (node-serialport v13) behind the Web Serial `SerialPort` surface that
// esptool-js drives, for the CLI.
//
// * node-serialport's `set()` writes every line and defaults the ones not given to DTR and RTS
//   asserted, while esptool-js often changes one line at a time: the adapter remembers both and
//   always passes both (and `brk`).
// * `setBaudRate` changes the rate in place (`update()`), so esptool-js does not close and reopen
//   the port after CHANGE_BAUDRATE; `hupcl: false` keeps closing the port from touching the lines.
// * `getInfo()` is synchronous in Web Serial: the USB ids come from `SerialPort.list()` during
//   `open()` (it needs udevadm on Linux; without it the ids are simply unknown).
// * A port without modem lines (a pseudo-terminal, some adapters) rejects `set()`: the adapter
//   warns once that the board cannot be reset from here and carries on, so the user can hold
//   BOOT and press EN by hand. (An adapter that accepts `set()` but has no wires to the board
//   cannot be detected; then the connection attempts simply get no answer.)
import { SerialPort } from "serialport";
import type { WebSerialInfo, WebSerialOpenOptions, WebSerialPortLike, WebSerialSignals } from "../sim/esp32/web-serial-port.js";
import { FlashError } from "./session.js";

type Callback = (err: Error | null | undefined) => void;

/** The part of node-serialport's stream the adapter uses (SerialPort, SerialPortMock). */
export interface NodePortStream {
  readonly isOpen: boolean;
  open(callback: Callback): void;
  close(callback: Callback): void;
  write(data: Uint8Array): boolean;
  drain(callback: Callback): void;
  set(options: { dtr?: boolean; rts?: boolean; brk?: boolean }, callback: Callback): void;
  update(options: { baudRate: number }, callback: Callback): void;
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  on(event: "error" | "close", listener: (err?: Error) => void): unknown;
  removeAllListeners(): unknown;
}

export interface NodePortOptions {
  path: string;
  baudRate: number;
  autoOpen: false;
  hupcl: boolean;
  lock: boolean;
}

export interface NodeSerialPortOptions {
  /** Makes the node-serialport stream (default `new SerialPort(options)`); tests pass SerialPortMock. */
  createPort?: (options: NodePortOptions) => NodePortStream;
  /** Finds USB ids for getInfo (default SerialPort.list()). */
  listPorts?: () => Promise<{ path: string; vendorId?: string | undefined; productId?: string | undefined }[]>;
  /** Told once when the port turns out to have no modem lines. */
  onNoModemLines?: (message: string) => void;
}

function promisify(run: (cb: Callback) => void): Promise<void> {
  return new Promise((resolve, reject) => run((err) => (err ? reject(err) : resolve())));
}

/** Turns an open() error into a message for the user. */
export function describeOpenError(path: string, err: unknown): FlashError {
  const text = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code ?? "";
  if (/busy|lock|EBUSY|EAGAIN|temporarily unavailable/i.test(`${text} ${code}`)) {
    return new FlashError(`${path} is busy: another program has it open (close any serial monitor or other flasher) and retry`, { cause: err });
  }
  if (/ENOENT|no such file/i.test(`${text} ${code}`)) return new FlashError(`no serial port at ${path}`, { cause: err });
  if (/EACCES|permission denied/i.test(`${text} ${code}`)) {
    return new FlashError(`permission denied opening ${path} (on Linux, add yourself to the dialout group)`, { cause: err });
  }
  return new FlashError(`cannot open ${path}: ${text}`, { cause: err });
}

export class NodeSerialPort implements WebSerialPortLike {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  /** False once `set()` failed: the port cannot drive DTR/RTS. */
  modemLines = true;
  /** Every `set()` call passed to node-serialport, for tests. */
  readonly setCalls: { dtr: boolean; rts: boolean; brk: boolean }[] = [];
  private port: NodePortStream | undefined;
  private dtr = true;
  private rts = true;
  private info: WebSerialInfo = {};
  private readController: ReadableStreamDefaultController<Uint8Array> | undefined;
  private warned = false;

  constructor(
    readonly path: string,
    private readonly options: NodeSerialPortOptions = {},
  ) {}

  async open(options: WebSerialOpenOptions): Promise<void> {
    if (this.port?.isOpen) throw new FlashError(`${this.path} is already open`);
    await this.lookUpInfo();
    const create = this.options.createPort ?? ((o: NodePortOptions) => new SerialPort(o) as unknown as NodePortStream);
    const port = create({ path: this.path, baudRate: options.baudRate, autoOpen: false, hupcl: false, lock: true });
    try {
      await promisify((cb) => port.open(cb));
    } catch (err) {
      throw describeOpenError(this.path, err);
    }
    this.port = port;
    // Opening a tty asserts DTR and RTS; that is the state to start from.
    this.dtr = true;
    this.rts = true;
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.readController = controller;
        port.on("data", (chunk) => {
          try {
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength).slice());
          } catch {
            // the reader cancelled the stream
          }
        });
        port.on("close", () => this.endReadable());
        port.on("error", (err) => {
          try {
            controller.error(err);
          } catch {
            // already closed
          }
        });
      },
      cancel: () => {
        this.readController = undefined;
      },
    });
    this.writable = new WritableStream<Uint8Array>({
      write: async (chunk) => {
        port.write(chunk);
        await promisify((cb) => port.drain(cb));
      },
    });
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.endReadable();
    this.readable = null;
    this.writable = null;
    if (port?.isOpen) await promisify((cb) => port.close(cb)).catch(() => undefined);
    port?.removeAllListeners();
  }

  async setSignals(signals: WebSerialSignals): Promise<void> {
    const port = this.port;
    if (port === undefined) throw new FlashError(`${this.path} is not open`);
    if (signals.dataTerminalReady !== undefined) this.dtr = signals.dataTerminalReady;
    if (signals.requestToSend !== undefined) this.rts = signals.requestToSend;
    const state = { dtr: this.dtr, rts: this.rts, brk: signals.break ?? false };
    this.setCalls.push(state);
    if (!this.modemLines) return;
    try {
      await promisify((cb) => port.set(state, cb));
    } catch (err) {
      this.modemLines = false;
      if (!this.warned) {
        this.warned = true;
        const why = err instanceof Error ? err.message : String(err);
        this.options.onNoModemLines?.(
          `port without modem lines (${why}): the board cannot be reset from here; hold BOOT and press EN to start the bootloader`,
        );
      }
    }
  }

  async setBaudRate(baudRate: number): Promise<void> {
    const port = this.port;
    if (port === undefined) throw new FlashError(`${this.path} is not open`);
    await promisify((cb) => port.update({ baudRate }, cb));
  }

  getInfo(): WebSerialInfo {
    return { ...this.info };
  }

  private async lookUpInfo(): Promise<void> {
    try {
      const ports = await (this.options.listPorts ?? (() => SerialPort.list()))();
      const match = ports.find((p) => p.path === this.path);
      const vid = match?.vendorId === undefined ? NaN : parseInt(match.vendorId, 16);
      const pid = match?.productId === undefined ? NaN : parseInt(match.productId, 16);
      this.info = Number.isFinite(vid) && Number.isFinite(pid) ? { usbVendorId: vid, usbProductId: pid } : {};
    } catch {
      this.info = {}; // e.g. no udevadm: ids unknown, esptool-js then uses the classic reset
    }
  }

  private endReadable(): void {
    const controller = this.readController;
    this.readController = undefined;
    try {
      controller?.close();
    } catch {
      // already closed or cancelled
    }
  }
}
