// The simulator behind the Web Serial `SerialPort` surface that esptool-js, esp-web-flasher and
// the browser page use: open/close, `readable`/`writable` streams, setSignals/getSignals, getInfo,
// and the optional non-standard `setBaudRate` (esptool-js then changes rates in place instead of
// closing and reopening). Portable: WHATWG streams only.
//
// Like a USB-serial bridge under Linux or macOS, opening the port asserts DTR and RTS (which the
// auto-reset circuit ignores: both asserted leave EN and IO0 high) and closing it releases both.
// Bytes the chip sends while the port is closed are lost.
import type { Esp32Sim } from "./esp32-sim.js";

/** The part of Web Serial's `SerialOptions` the flashers pass to `open`. */
export interface WebSerialOpenOptions {
  baudRate: number;
  dataBits?: number | undefined;
  stopBits?: number | undefined;
  parity?: string | undefined;
  bufferSize?: number | undefined;
  flowControl?: string | undefined;
}

export interface WebSerialSignals {
  dataTerminalReady?: boolean | undefined;
  requestToSend?: boolean | undefined;
  break?: boolean | undefined;
}

export interface WebSerialInfo {
  usbVendorId?: number;
  usbProductId?: number;
}

/** What a flasher needs from a port: the Web Serial `SerialPort` surface (plus optional `setBaudRate`). */
export interface WebSerialPortLike {
  readonly readable: ReadableStream<Uint8Array> | null;
  readonly writable: WritableStream<Uint8Array> | null;
  open(options: WebSerialOpenOptions): Promise<void>;
  close(): Promise<void>;
  setSignals(signals: WebSerialSignals): Promise<void>;
  getInfo(): WebSerialInfo;
  setBaudRate?(baudRate: number): Promise<void>;
}

export interface SimSerialPortOptions {
  /** USB ids reported by getInfo (default a CP2102 bridge, 10C4:EA60). */
  usbVendorId?: number;
  usbProductId?: number;
  /** Whether DTR/RTS reach the chip (false: a port without modem lines; setSignals does nothing). */
  modemLines?: boolean;
  /** Offer `setBaudRate` (default true); without it esptool-js closes and reopens the port. */
  inPlaceBaudChange?: boolean;
}

class DOMLikeError extends Error {
  constructor(
    message: string,
    override readonly name: string,
  ) {
    super(message);
  }
}

export class SimSerialPort implements WebSerialPortLike {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  /** Every setSignals call, in order, for tests. */
  readonly signalLog: WebSerialSignals[] = [];
  setBaudRate?: (baudRate: number) => Promise<void>;
  private unsubscribe: (() => void) | undefined;
  private readController: ReadableStreamDefaultController<Uint8Array> | undefined;
  private readonly info: WebSerialInfo;

  constructor(
    readonly sim: Esp32Sim,
    private readonly options: SimSerialPortOptions = {},
  ) {
    this.info = { usbVendorId: options.usbVendorId ?? 0x10c4, usbProductId: options.usbProductId ?? 0xea60 };
    if (options.inPlaceBaudChange ?? true) {
      this.setBaudRate = async (baudRate: number) => {
        if (this.readable === null) throw new DOMLikeError("The port is closed.", "InvalidStateError");
        this.sim.hostBaud = baudRate;
      };
    }
  }

  get isOpen(): boolean {
    return this.readable !== null;
  }

  async open(options: WebSerialOpenOptions): Promise<void> {
    if (this.readable !== null) throw new DOMLikeError("The port is already open.", "InvalidStateError");
    if (!Number.isInteger(options.baudRate) || options.baudRate <= 0) throw new TypeError(`invalid baudRate ${options.baudRate}`);
    this.sim.hostBaud = options.baudRate;
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.readController = controller;
        this.unsubscribe = this.sim.onHostData((bytes) => controller.enqueue(Uint8Array.from(bytes)));
      },
      cancel: () => this.detachReader(),
    });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        if (this.readable === null) throw new DOMLikeError("The port is closed.", "InvalidStateError");
        this.sim.hostWrite(chunk);
      },
    });
    this.applySignals({ dataTerminalReady: true, requestToSend: true });
  }

  async close(): Promise<void> {
    if (this.readable === null) throw new DOMLikeError("The port is already closed.", "InvalidStateError");
    const controller = this.readController;
    this.detachReader();
    try {
      controller?.close();
    } catch {
      // already cancelled by a reader
    }
    this.readable = null;
    this.writable = null;
    this.applySignals({ dataTerminalReady: false, requestToSend: false });
  }

  async setSignals(signals: WebSerialSignals): Promise<void> {
    if (this.readable === null) throw new DOMLikeError("The port is closed.", "InvalidStateError");
    this.signalLog.push({ ...signals });
    this.applySignals(signals);
  }

  async getSignals(): Promise<{ dataCarrierDetect: boolean; clearToSend: boolean; ringIndicator: boolean; dataSetReady: boolean }> {
    return { dataCarrierDetect: false, clearToSend: true, ringIndicator: false, dataSetReady: true };
  }

  getInfo(): WebSerialInfo {
    return { ...this.info };
  }

  private applySignals(signals: WebSerialSignals): void {
    if (this.options.modemLines === false) return;
    this.sim.setSignals({ dtr: signals.dataTerminalReady, rts: signals.requestToSend });
  }

  private detachReader(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.readController = undefined;
  }
}
