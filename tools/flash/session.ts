// A flashing session on esptool-js 0.7 over any Web Serial-like port (a real port through
// node-serial-port.ts, the simulator's SimSerialPort, or navigator.serial in a page): connect and
// identify the chip, upload the stub and switch baud rate, write images with MD5 verification,
// read flash back, and reset into the app. Portable: no Node APIs.
//
// Works around esptool-js 0.7.0's quirks (shared/specs/esp32-moddable-flashing.md §4.6): flash
// mode/frequency/size are always "keep" (changing them leaves a stale SHA-256 in the bootloader),
// MD5 verification only with the stub running (the ROM path compares the wrong encodings), and
// the reset into the app is our own RTS pulse (`after("hard_reset")` only releases RTS).
import { md5 } from "@noble/hashes/legacy.js";
import { ESPLoader, Transport, type IEspLoaderTerminal } from "esptool-js";
import { toHex } from "../image/bytes.js";
import { chipByFamily, type ChipFamily } from "../image/chips.js";
import type { WebSerialPortLike } from "../sim/esp32/web-serial-port.js";

/** A failure to report to the user as is (no stack): its message says what to do. */
export class FlashError extends Error {
  override name = "FlashError";
}

export interface SessionOptions {
  /** Rate after the stub is running (default 921600; 115200 stays at the ROM's rate). */
  baud?: number;
  /** Connection attempts (each a reset + up to 5 SYNCs; esptool-js's default is 7). */
  attempts?: number;
  /** Where esptool-js's own messages and transport traces go (default: nowhere). */
  debug?: (line: string) => void;
  /** A name for the port in messages (e.g. its path). */
  portName?: string;
  /** Web Serial's read buffer for open() (its default, 255 bytes, can overflow at high rates). */
  bufferSize?: number;
}

export interface WriteImage {
  /** Shown in progress and errors. */
  name: string;
  offset: number;
  bytes: Uint8Array;
}

export interface WriteOptions {
  compress?: boolean;
  /** Erase the whole flash first. */
  eraseAll?: boolean;
  /** Progress per image: bytes sent over the wire (compressed when compressing) of `total`. */
  onProgress?: (image: WriteImage, sent: number, total: number) => void;
  /** Called when an image has been written and its MD5 matched. */
  onVerified?: (image: WriteImage, md5: string) => void;
}

/** The Transport with its console tracing routed to our debug log instead of console.log. */
class QuietTransport extends Transport {
  debugLog: ((line: string) => void) | undefined;
  override trace(message: string): void {
    this.debugLog?.(`trace ${message}`);
  }
}

export function md5Hex(bytes: Uint8Array): string {
  return toHex(md5(bytes));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class FlashSession {
  private constructor(
    readonly port: WebSerialPortLike,
    readonly loader: ESPLoader,
    private readonly transport: QuietTransport,
    /** esptool-js's chip name, e.g. "ESP32-S3". */
    readonly chip: ChipFamily,
    /** esptool-js's description, e.g. "ESP32-D0WD-V3 (revision 3)". */
    readonly description: string,
    readonly mac: string,
    readonly flashId: number,
  ) {}

  /**
   * Opens the port at 115200, resets the chip into the ROM loader with DTR/RTS, identifies it,
   * uploads and starts the stub, and switches to `baud`. Throws FlashError when the loader does
   * not answer.
   */
  static async connect(port: WebSerialPortLike, options: SessionOptions = {}): Promise<FlashSession> {
    const debug = options.debug;
    const transport = new QuietTransport(port as unknown as ConstructorParameters<typeof Transport>[0], false);
    transport.debugLog = debug;
    const terminal: IEspLoaderTerminal = {
      clean() {},
      write: (s: string) => debug?.(s),
      writeLine: (s: string) => debug?.(s),
    };
    const loader = new ESPLoader({
      transport,
      baudrate: options.baud ?? 921600,
      romBaudrate: 115200,
      terminal,
      ...(options.bufferSize === undefined ? {} : { serialOptions: { bufferSize: options.bufferSize } }),
    });
    const name = options.portName ?? "the port";
    try {
      await loader.detectChip("default_reset", options.attempts ?? 7);
    } catch (err) {
      await transport.disconnect().catch(() => undefined);
      if (err instanceof FlashError) throw err; // the port's own words (node-serial-port.ts: busy, missing, no permission)
      const detail = err instanceof Error ? err.message : String(err);
      if (/Failed to open serial port/i.test(detail)) {
        // Web Serial's open() (a NetworkError): the port is held elsewhere or was unplugged.
        throw new FlashError(`cannot open ${name}: another program may have it open (a serial monitor, another flasher tab), or it was unplugged; close it and retry`, { cause: err });
      }
      if (/Failed to connect|invalid response|Serial data stream stopped|No serial data|Invalid head|Invalid SLIP|timed? ?out/i.test(detail)) {
        throw new FlashError(`no answer from the bootloader on ${name}: hold BOOT, press EN, and retry`, { cause: err });
      }
      throw new FlashError(`cannot identify the chip on ${name}: ${detail}`, { cause: err });
    }
    try {
      const chipName = loader.chip.CHIP_NAME;
      if (chipByFamily(chipName) === undefined) throw new FlashError(`the board is an ${chipName}, which Sprocket does not flash`);
      const description = await loader.chip.getChipDescription(loader);
      const mac = await loader.chip.readMac(loader);
      await loader.runStub();
      if (!loader.IS_STUB) throw new FlashError(`esptool-js has no flasher stub for ${chipName}; Sprocket needs it to verify what it writes`);
      if ((options.baud ?? 921600) !== 115200) await loader.changeBaud();
      const flashId = await loader.readFlashId();
      return new FlashSession(port, loader, transport, chipName as ChipFamily, description, mac, flashId);
    } catch (err) {
      await transport.disconnect().catch(() => undefined);
      if (err instanceof FlashError) throw err;
      throw new FlashError(`lost the bootloader on ${name} while setting up: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  /** Flash size from the JEDEC id (capacity code), in bytes, if it is a plausible one. */
  get flashSize(): number | undefined {
    const code = (this.flashId >> 16) & 0xff;
    return code >= 0x12 && code <= 0x1b ? 2 ** code : undefined;
  }

  /** Writes each image and checks its MD5 against the flash (through the stub). */
  async write(images: readonly WriteImage[], options: WriteOptions = {}): Promise<void> {
    const hashes = new Map<number, string>();
    const nonEmpty = images.filter((i) => i.bytes.length > 0);
    try {
      await this.loader.writeFlash({
        fileArray: nonEmpty.map((i) => ({ data: i.bytes, address: i.offset })),
        flashMode: "keep",
        flashFreq: "keep",
        flashSize: "keep",
        eraseAll: options.eraseAll ?? false,
        compress: options.compress ?? true,
        reportProgress: (index, sent, total) => options.onProgress?.(nonEmpty[index]!, sent, total),
        calculateMD5Hash: (image) => {
          const digest = md5Hex(image);
          hashes.set(hashes.size, digest);
          return digest;
        },
      });
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      if (/MD5 of file does not match/.test(detail)) {
        throw new FlashError(`verification failed: image ${hashes.size} (${nonEmpty[hashes.size - 1]?.name ?? "?"}) reads back with another MD5 than was written`, { cause: err });
      }
      throw new FlashError(`writing failed: ${detail}`, { cause: err });
    }
    nonEmpty.forEach((image, i) => options.onVerified?.(image, hashes.get(i) ?? ""));
  }

  async readFlash(offset: number, length: number): Promise<Uint8Array> {
    return this.loader.readFlash(offset, length);
  }

  /**
   * Resets into the app with an explicit EN pulse: RTS asserted (EN low) with DTR released
   * (IO0 high), 100 ms, then both released.
   */
  async resetIntoApp(): Promise<void> {
    await this.port.setSignals({ dataTerminalReady: false, requestToSend: true });
    await sleep(100);
    await this.port.setSignals({ dataTerminalReady: false, requestToSend: false });
  }

  /** Closes the port (after cancelling esptool-js's reader). */
  async close(): Promise<void> {
    await this.transport.disconnect().catch(() => undefined);
  }
}
