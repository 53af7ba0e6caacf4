// A simulated ESP32 / ESP32-S3 / ESP32-C3 as a flasher sees it through a USB-serial bridge: the
// auto-reset circuit on DTR/RTS, the ROM serial loader, the flasher stub a host uploads into RAM,
// the SPI flash (an in-memory array), and booting what was flashed. Portable (no Node APIs), so
// the same model serves Node tests, the CLI on a pseudo-terminal and, later, the browser page.
//
// Reset circuit (two transistors on dev boards): EN = NOT(RTS ∧ ¬DTR), IO0 = NOT(DTR ∧ ¬RTS).
// EN charges through an RC network, so the chip leaves reset a few milliseconds after EN is
// released (`enDelayMs`, 3 ms) and samples IO0 then: low → ROM download mode, high → boot from
// flash. A model that samples IO0 the instant EN rises is wrong for flashers that drive DTR and
// RTS in separate calls: they pass through "both asserted" (EN high, IO0 high) on the way to
// "DTR only" (EN high, IO0 low), and such a chip would boot the app instead of the loader.
//
// The loader (what esptool-js, esp-web-flasher and esptool.py expect, see
// shared/specs/esp32-moddable-flashing.md §5): SLIP frames; the ROM answers SYNC eight times,
// uses 4 status bytes, reports unsupported commands with a command byte other than the request's
// (0x00), checks *_DATA checksums and needs SPI_ATTACH before flash commands. MEM_BEGIN/DATA/END
// upload code to RAM; the simulator does not execute it: when MEM_END jumps to an entry point
// inside code it received in full, it behaves as the flasher stub from then on (sends "OHAI",
// 2-byte big-endian status codes, stub-only commands, lazily erasing writes acknowledged before
// they are done with errors reported on the next command, streaming zlib inflate, READ_FLASH with
// its acknowledgement flow, raw 16-byte MD5). CHANGE_BAUDRATE answers at the old rate and then
// switches; bytes sent at another rate than the receiver's arrive as garbage (wire.ts).
//
// Ports without modem lines (a pseudo-terminal, a board without the auto-reset transistors) cannot
// reset the chip. `autoDownload` then treats a SYNC that arrives while the chip is not in a loader
// as the user holding BOOT and pressing EN, and `idleResetMs` resets into the app once the line
// has been quiet that long after a flash write (the user pressing EN after flashing).
import { md5 } from "@noble/hashes/legacy.js";
import pako from "pako";
import { toHex, utf8, view } from "../../image/bytes.js";
import { bootFromFlash, type AppBootInfo, type BootFailure } from "./boot.js";
import { SIM_CHIPS, jedecId, type SimChip, type SimChipName } from "./chips.js";
import {
  Command,
  DATA_HEADER_LENGTH,
  ROM_SYNC_VALUE,
  RomError,
  StubError,
  SYNC_PAYLOAD,
  checksum,
  commandName,
  encodeResponse,
  parseRequest,
  words,
  type Request,
} from "./protocol.js";
import { SlipDecoder, slipEncode } from "./slip.js";
import { Wire } from "./wire.js";

export const ROM_BAUD = 115200;
export const DEFAULT_FLASH_SIZE = 4 * 1024 * 1024;
const SECTOR = 0x1000;
/** zlib output is written in pieces of this size, like the stub's 32 KB dictionary buffer. */
const INFLATE_CHUNK = 0x8000;

export type SimMode = "reset" | "starting" | "rom" | "stub" | "app" | "halted";

export interface Esp32SimOptions {
  chip?: SimChipName;
  /** Bytes of SPI flash; a power of two (default 4 MB). */
  flashSize?: number;
  /** Initial flash contents (copied; the rest is erased). */
  flash?: Uint8Array;
  /** Six bytes; default an Espressif OUI and a per-chip suffix. */
  mac?: Uint8Array;
  /** EN RC delay: IO0 is sampled this long after EN rises (default 3 ms). */
  enDelayMs?: number;
  /** Pace both directions at the baud rate (10 bits per byte). */
  realtime?: boolean;
  /** A SYNC while not in a loader means "BOOT held, EN pressed" (ports without modem lines). */
  autoDownload?: boolean;
  /** With no modem lines: reset into the app after this much idle time following a flash write. */
  idleResetMs?: number;
  /** What the chip does when powered: sample IO0 (default), or as if BOOT were held. */
  powerOn?: "straps" | "download";
  /** Diagnostics of the simulator itself (not serial output). */
  log?: (line: string) => void;
  onAppBoot?: (info: AppBootInfo) => void;
  onBootFailure?: (failure: BootFailure) => void;
}

export interface SimEvents {
  appBoot: AppBootInfo;
  bootFailure: BootFailure;
  mode: SimMode;
  /** A flash region written or erased, for tests and the UI. */
  flashWrite: { offset: number; length: number };
}

type Listener<T> = (value: T) => void;

const DEFAULT_MACS: Record<SimChipName, number[]> = {
  esp32: [0x24, 0x0a, 0xc4, 0x5e, 0x00, 0x01],
  esp32s3: [0x34, 0x85, 0x18, 0x5e, 0x00, 0x02],
  esp32c3: [0x58, 0xcf, 0x79, 0x5e, 0x00, 0x03],
};

interface MemSegment {
  address: number;
  data: Uint8Array;
  blockSize: number;
  blocks: number;
  received: Set<number>;
}

interface FlashOp {
  compressed: boolean;
  /** Next byte to write. */
  cursor: number;
  /** Where the operation started (ROM: blocks are written at start + seq × blockSize). */
  start: number;
  blockSize: number;
  /** Stub: uncompressed bytes still expected. */
  remaining: number;
  /** Stub: sectors below this are erased. */
  erasedTo: number;
  inflate?: pako.Inflate;
  inflateError?: string;
  wrote: number;
}

interface ReadFlashOp {
  offset: number;
  end: number;
  packetSize: number;
  sentTotal: number;
  hash: Uint8Array[];
}

/** What a stub response carries beyond the status. */
interface Reply {
  value?: number;
  data?: Uint8Array;
}

class StubFailure {
  constructor(readonly code: number) {}
}
class RomFailure {
  constructor(readonly error: number) {}
}

export class Esp32Sim {
  readonly chip: SimChip;
  readonly flash: Uint8Array;
  readonly mac: Uint8Array;
  readonly options: Esp32SimOptions;
  mode: SimMode = "reset";
  /** The chip's UART rate. */
  deviceBaud = ROM_BAUD;
  /** The host port's rate; `undefined` = always the device's rate (a pty, where it cannot be seen). */
  hostBaud: number | undefined = ROM_BAUD;
  /** Serial text the chip printed (ROM banners, boot log), for tests. */
  readonly console: string[] = [];
  /** Frames received, by command name, for tests and diagnostics. */
  readonly commandCounts = new Map<string, number>();
  readonly toHost: Wire;
  readonly toDevice: Wire;
  lastBoot?: AppBootInfo;
  lastBootFailure?: BootFailure;

  private dtr = false;
  private rts = false;
  private enWasHigh = true;
  private startTimer: ReturnType<typeof setTimeout> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private wroteSinceIdle = false;
  private bootHeld: boolean;
  /** BOOT is let go once the ROM has sampled IO0 (power-on in download mode, autoDownload). */
  private releaseBootAfterStart: boolean;
  private readonly decoder = new SlipDecoder();
  private registers = new Map<number, number>();
  private hostReceivers = new Set<(bytes: Uint8Array) => void>();
  private listeners: { [K in keyof SimEvents]?: Set<Listener<SimEvents[K]>> } = {};
  // loader state
  private spiAttached = false;
  private mem: MemSegment | undefined;
  private memSegments: MemSegment[] = [];
  private flashOp: FlashOp | undefined;
  private readOp: ReadFlashOp | undefined;
  private pendingStubError = 0;
  private closed = false;

  constructor(options: Esp32SimOptions = {}) {
    this.options = options;
    this.chip = SIM_CHIPS[options.chip ?? "esp32"];
    if (this.chip === undefined) throw new Error(`unknown chip ${JSON.stringify(options.chip)}`);
    const size = options.flashSize ?? DEFAULT_FLASH_SIZE;
    jedecId(size); // power of two
    this.flash = new Uint8Array(size).fill(0xff);
    if (options.flash !== undefined) this.flash.set(options.flash.subarray(0, size));
    this.mac = Uint8Array.from(options.mac ?? DEFAULT_MACS[this.chip.name]);
    this.toHost = new Wire({
      deliver: (bytes) => {
        for (const r of this.hostReceivers) r(bytes);
      },
      receiverBaud: () => this.hostBaud,
      paceBaud: () => this.deviceBaud,
      realtime: options.realtime ?? false,
    });
    this.toDevice = new Wire({ deliver: (bytes) => this.receive(bytes), receiverBaud: () => this.deviceBaud, paceBaud: () => this.deviceBaud, realtime: options.realtime ?? false });
    // (With hostBaud undefined the host→device direction is sent "without a rate" and never garbled.)
    this.bootHeld = options.powerOn === "download";
    this.releaseBootAfterStart = this.bootHeld;
    this.scheduleStart(); // power on: EN is released (both lines idle)
  }

  // ------------------------------------------------------------------------------------------
  // Outside world

  /** Bytes from the host's TX line. */
  hostWrite(bytes: Uint8Array): void {
    this.toDevice.send(bytes, this.hostBaud);
  }

  /** Receives what the chip sends to the host (after the wire). Returns an unsubscribe function. */
  onHostData(receiver: (bytes: Uint8Array) => void): () => void {
    this.hostReceivers.add(receiver);
    return () => this.hostReceivers.delete(receiver);
  }

  on<K extends keyof SimEvents>(event: K, listener: Listener<SimEvents[K]>): () => void {
    let set = this.listeners[event] as Set<Listener<SimEvents[K]>> | undefined;
    if (set === undefined) {
      set = new Set();
      (this.listeners as Record<string, Set<Listener<SimEvents[K]>>>)[event] = set;
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  private emit<K extends keyof SimEvents>(event: K, value: SimEvents[K]): void {
    const set = this.listeners[event] as Set<Listener<SimEvents[K]>> | undefined;
    for (const l of set ?? []) l(value);
  }

  /** The host's DTR and RTS (undefined = unchanged), through the auto-reset circuit. */
  setSignals(signals: { dtr?: boolean | undefined; rts?: boolean | undefined }): void {
    if (signals.dtr !== undefined) this.dtr = signals.dtr;
    if (signals.rts !== undefined) this.rts = signals.rts;
    this.updateEn();
  }

  get signals(): { dtr: boolean; rts: boolean; en: boolean; io0: boolean } {
    return { dtr: this.dtr, rts: this.rts, en: this.en, io0: this.io0 };
  }

  /** EN pin level (true = high = running). */
  get en(): boolean {
    return !(this.rts && !this.dtr);
  }

  /** IO0 level: low when the circuit pulls it or the BOOT button is held. */
  get io0(): boolean {
    return !(this.dtr && !this.rts) && !this.bootHeld;
  }

  /** The EN (RST) button: a short press resets the chip. */
  pressReset(): void {
    this.log("EN pressed");
    this.enterReset();
    this.scheduleStart();
  }

  /** The BOOT button (IO0 to ground) held or released. */
  holdBoot(held: boolean): void {
    this.bootHeld = held;
  }

  /** Stops timers; the simulator answers nothing afterwards. */
  close(): void {
    this.closed = true;
    clearTimeout(this.startTimer);
    clearTimeout(this.idleTimer);
    this.toHost.clear();
    this.toDevice.clear();
    this.hostReceivers.clear();
  }

  // ------------------------------------------------------------------------------------------
  // Reset and boot

  private updateEn(): void {
    const en = this.en;
    if (en === this.enWasHigh) return;
    this.enWasHigh = en;
    if (!en) this.enterReset();
    else this.scheduleStart();
  }

  private enterReset(): void {
    clearTimeout(this.startTimer);
    this.startTimer = undefined;
    this.setMode("reset");
  }

  private scheduleStart(): void {
    if (this.closed) return;
    clearTimeout(this.startTimer);
    this.setMode("starting");
    // IO0 is sampled when the RC delay has passed, not when EN rises.
    this.startTimer = setTimeout(() => {
      this.startTimer = undefined;
      if (!this.en || this.closed) return;
      const how = this.io0 ? "app" : "download";
      if (this.releaseBootAfterStart) {
        this.bootHeld = false;
        this.releaseBootAfterStart = false;
      }
      this.start(how);
    }, this.options.enDelayMs ?? 3);
  }

  private start(how: "app" | "download"): void {
    this.deviceBaud = ROM_BAUD;
    this.decoder.reset();
    this.resetLoaderState();
    this.registers = this.chip.registers(this.mac);
    clearTimeout(this.idleTimer);
    this.wroteSinceIdle = false;
    this.print(...this.chip.romBanner(how === "download"));
    if (how === "download") {
      this.print("waiting for download");
      this.setMode("rom");
      return;
    }
    this.bootApp();
  }

  private bootApp(): void {
    this.deviceBaud = ROM_BAUD;
    const outcome = bootFromFlash(this.flash, this.chip, this.macString());
    this.print(...outcome.log);
    if (outcome.ok) {
      this.lastBoot = outcome.info;
      this.setMode("app");
      this.options.onAppBoot?.(outcome.info);
      this.emit("appBoot", outcome.info);
    } else {
      this.lastBootFailure = outcome.failure;
      this.log(`boot failed: ${outcome.failure.message}`);
      this.setMode("halted");
      this.options.onBootFailure?.(outcome.failure);
      this.emit("bootFailure", outcome.failure);
    }
  }

  private resetLoaderState(): void {
    this.spiAttached = false;
    this.mem = undefined;
    this.memSegments = [];
    this.flashOp = undefined;
    this.readOp = undefined;
    this.pendingStubError = 0;
  }

  private setMode(mode: SimMode): void {
    if (this.mode === mode) return;
    this.mode = mode;
    this.log(`mode ${mode}`);
    this.emit("mode", mode);
  }

  private macString(): string {
    return Array.from(this.mac, (b) => b.toString(16).padStart(2, "0")).join(":");
  }

  private log(line: string): void {
    this.options.log?.(`[${this.chip.name}] ${line}`);
  }

  // ------------------------------------------------------------------------------------------
  // UART

  private print(...lines: string[]): void {
    for (const line of lines) {
      this.console.push(line);
      this.send(utf8(`${line}\r\n`));
    }
  }

  private send(bytes: Uint8Array): void {
    // Over a pty (hostBaud undefined) no rate is modelled in either direction.
    this.toHost.send(bytes, this.hostBaud === undefined ? undefined : this.deviceBaud);
  }

  private receive(bytes: Uint8Array): void {
    if (this.closed) return;
    this.touchIdle();
    if (this.mode === "reset" || this.mode === "starting") return; // not listening
    for (const frame of this.decoder.push(bytes)) {
      try {
        this.handleFrame(frame);
      } catch (err) {
        // Whatever arrives, the simulated chip never takes the process down.
        this.log(`internal error on a frame: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    }
  }

  private touchIdle(): void {
    const ms = this.options.idleResetMs;
    if (ms === undefined || ms <= 0 || !this.wroteSinceIdle) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.closed || (this.mode !== "rom" && this.mode !== "stub")) return;
      this.log(`line idle for ${ms} ms after flashing: resetting into the app (as if EN were pressed)`);
      this.bootHeld = false;
      this.enterReset();
      this.scheduleStart();
    }, ms);
  }

  private noteFlashWrite(): void {
    this.wroteSinceIdle = true;
    this.touchIdle();
  }

  private handleFrame(frame: Uint8Array): void {
    const req = parseRequest(frame);
    if (this.mode === "stub" && this.readOp !== undefined) {
      this.readFlashAck(frame);
      return;
    }
    if (req === undefined) return; // too short to be a command: noise
    this.commandCounts.set(commandName(req.command), (this.commandCounts.get(commandName(req.command)) ?? 0) + 1);
    switch (this.mode) {
      case "rom":
        this.romCommand(req);
        return;
      case "stub":
        this.stubCommand(req);
        return;
      case "app":
      case "halted":
        if (this.options.autoDownload && req.direction === 0 && req.command === Command.SYNC && equal(req.payload, SYNC_PAYLOAD)) {
          this.log("SYNC while not in the loader: treating it as BOOT held and EN pressed");
          this.enterReset();
          this.bootHeld = true;
          this.releaseBootAfterStart = true;
          this.scheduleStart();
        }
        return;
      default:
        return;
    }
  }

  // ------------------------------------------------------------------------------------------
  // ROM loader

  private romReply(command: number, data: Uint8Array = new Uint8Array(0), value = 0, error = 0): void {
    const status = new Uint8Array([error === 0 ? 0 : 1, error, 0, 0]);
    const payload = new Uint8Array(data.length + 4);
    payload.set(data);
    payload.set(status, data.length);
    this.send(slipEncode(encodeResponse(command, value, payload)));
  }

  private romUnsupported(): void {
    // The command byte differs from the request's: clients take that as "unsupported".
    for (let i = 0; i < 8; i++) this.romReply(0x00, new Uint8Array(0), 0, RomError.INVALID_MESSAGE);
  }

  private romCommand(req: Request): void {
    const op = req.command;
    if (req.direction !== 0 || req.declaredLength !== req.payload.length) {
      this.romReply(op, undefined, 0, RomError.INVALID_MESSAGE);
      return;
    }
    try {
      const reply = this.romExecute(req);
      if (reply === null) return;
      this.romReply(op, reply.data, reply.value ?? 0);
      if (op === Command.CHANGE_BAUDRATE) this.deviceBaud = words(req.payload, 1)[0]!; // after the reply
      if (op === Command.MEM_END) this.afterMemEnd(req);
      if ((op === Command.FLASH_END || op === Command.FLASH_DEFL_END) && req.payload.length >= 4) {
        const flag = words(req.payload, 1)[0]!;
        // 1: leave the loader and run the app from flash; 0: reboot (IO0 sampled again).
        if (flag === 0) {
          this.enterReset();
          this.scheduleStart();
        } else {
          this.bootApp();
        }
      }
    } catch (err) {
      if (err instanceof RomFailure) {
        if (err.error === -1) this.romUnsupported();
        else this.romReply(op, undefined, 0, err.error);
        return;
      }
      throw err;
    }
  }

  /** Returns the reply, or null when nothing is sent. Throws RomFailure. */
  private romExecute(req: Request): Reply | null {
    const p = req.payload;
    const need = (...lengths: number[]) => {
      if (!lengths.includes(p.length)) throw new RomFailure(RomError.INVALID_MESSAGE);
    };
    switch (req.command) {
      case Command.SYNC:
        if (!equal(p, SYNC_PAYLOAD)) return null;
        // Eight identical replies; the last is sent by the caller.
        for (let i = 0; i < 7; i++) this.romReply(Command.SYNC, undefined, ROM_SYNC_VALUE);
        return { value: ROM_SYNC_VALUE };
      case Command.READ_REG:
        need(4);
        return { value: this.readRegister(words(p, 1)[0]!) };
      case Command.WRITE_REG:
        this.writeRegisters(p, (code) => new RomFailure(code === StubError.NOT_ENOUGH_DATA ? RomError.INVALID_MESSAGE : RomError.BAD_RESULT));
        return {};
      case Command.GET_SECURITY_INFO:
        if (!this.chip.romSecurityInfo) throw new RomFailure(-1);
        need(0);
        return { data: this.securityInfo() };
      case Command.SPI_ATTACH:
        need(4, 8);
        this.spiAttached = true;
        return {};
      case Command.SPI_SET_PARAMS:
        need(24);
        return {};
      case Command.CHANGE_BAUDRATE: {
        need(8);
        const baud = words(p, 1)[0]!;
        if (baud < 300 || baud > 5_000_000) throw new RomFailure(RomError.INVALID_PARAMETER);
        return {};
      }
      case Command.MEM_BEGIN:
        this.memBegin(p, (e) => new RomFailure(e));
        return {};
      case Command.MEM_DATA:
        this.memData(req, (e) => new RomFailure(e));
        return {};
      case Command.MEM_END:
        need(8);
        if (this.mem === undefined) throw new RomFailure(RomError.INVALID_MESSAGE);
        this.mem = undefined;
        return {};
      case Command.FLASH_BEGIN:
      case Command.FLASH_DEFL_BEGIN: {
        need(16, 20);
        this.requireAttach();
        const [eraseSize, , blockSize, offset] = words(p, 4) as [number, number, number, number];
        if (offset + eraseSize > this.flash.length || blockSize === 0) throw new RomFailure(RomError.INVALID_PARAMETER);
        // The ROM erases the whole range before answering.
        this.erase(offset - (offset % SECTOR), roundUp(offset + eraseSize, SECTOR));
        this.flashOp = { compressed: req.command === Command.FLASH_DEFL_BEGIN, cursor: offset, start: offset, blockSize, remaining: eraseSize, erasedTo: this.flash.length, wrote: 0 };
        if (this.flashOp.compressed) this.flashOp.inflate = new pako.Inflate({ chunkSize: INFLATE_CHUNK } as pako.InflateOptions);
        return {};
      }
      case Command.FLASH_DATA:
      case Command.FLASH_DEFL_DATA: {
        const op = this.flashOp;
        if (op === undefined || op.compressed !== (req.command === Command.FLASH_DEFL_DATA)) throw new RomFailure(RomError.INVALID_MESSAGE);
        const [length, seq] = dataHeader(p, () => new RomFailure(RomError.INVALID_MESSAGE));
        const data = p.subarray(DATA_HEADER_LENGTH);
        if (length !== data.length) throw new RomFailure(RomError.INVALID_MESSAGE);
        if (checksum(data) !== (req.checksum & 0xff)) throw new RomFailure(RomError.CHECKSUM);
        // The ROM writes before it answers.
        if (!op.compressed) {
          const at = op.start + seq * op.blockSize;
          if (at >= this.flash.length) throw new RomFailure(RomError.FLASH_WRITE);
          this.program(at, data.subarray(0, this.flash.length - at));
        } else {
          const err = this.inflateInto(op, data, false);
          if (err !== undefined) throw new RomFailure(RomError.INFLATE);
        }
        this.noteFlashWrite();
        return {};
      }
      case Command.FLASH_END:
      case Command.FLASH_DEFL_END:
        need(4);
        this.flashOp = undefined;
        return {};
      case Command.SPI_FLASH_MD5: {
        need(16);
        this.requireAttach();
        const [address, size] = words(p, 2) as [number, number];
        if (address + size > this.flash.length) throw new RomFailure(RomError.FLASH_READ);
        // The ROM sends the digest as 32 hex characters.
        return { data: utf8(toHex(md5(this.flash.subarray(address, address + size)))) };
      }
      case Command.READ_FLASH_SLOW: {
        need(8);
        this.requireAttach();
        const [address, size] = words(p, 2) as [number, number];
        if (size > 64) throw new RomFailure(RomError.READ_LENGTH);
        if (address + size > this.flash.length) throw new RomFailure(RomError.FLASH_READ);
        const data = new Uint8Array(64);
        data.set(this.flash.subarray(address, address + size));
        return { data };
      }
      default:
        // Stub-only and unknown commands.
        throw new RomFailure(-1);
    }
  }

  private requireAttach(): void {
    // Without SPI_ATTACH the ROM has not configured the flash pins; the simulator refuses rather
    // than pretending (on hardware the result is undefined).
    if (!this.spiAttached) throw new RomFailure(RomError.BAD_RESULT);
  }

  private memBegin(p: Uint8Array, fail: (code: number) => unknown): void {
    if (p.length !== 16) throw fail(this.mode === "rom" ? RomError.INVALID_MESSAGE : StubError.BAD_DATA_LEN);
    const [size, blocks, blockSize, address] = words(p, 4) as [number, number, number, number];
    const region = this.chip.ram.find((r) => address >= r.start && address < r.end);
    if (region === undefined) throw fail(this.mode === "rom" ? RomError.BAD_RAM_ADDRESS : StubError.BAD_DATA_LEN);
    if (address + size > region.end || blocks * blockSize < size) throw fail(this.mode === "rom" ? RomError.BAD_RAM_SIZE : StubError.BAD_DATA_LEN);
    this.mem = { address, data: new Uint8Array(size), blockSize, blocks, received: new Set() };
    this.memSegments = this.memSegments.filter((s) => s.address + s.data.length <= address || s.address >= address + size);
    this.memSegments.push(this.mem);
  }

  private memData(req: Request, fail: (code: number) => unknown): void {
    const rom = this.mode === "rom";
    const mem = this.mem;
    if (mem === undefined) throw fail(rom ? RomError.INVALID_MESSAGE : StubError.NOT_IN_FLASH_MODE);
    const [length, seq] = dataHeader(req.payload, () => fail(rom ? RomError.INVALID_MESSAGE : StubError.NOT_ENOUGH_DATA));
    const data = req.payload.subarray(DATA_HEADER_LENGTH);
    if (length !== data.length) throw fail(rom ? RomError.INVALID_MESSAGE : StubError.TOO_MUCH_DATA);
    if (checksum(data) !== (req.checksum & 0xff)) throw fail(rom ? RomError.CHECKSUM : StubError.BAD_DATA_CHECKSUM);
    const at = seq * mem.blockSize;
    if (seq >= mem.blocks || at + data.length > mem.data.length) throw fail(rom ? RomError.BAD_RAM_SIZE : StubError.TOO_MUCH_DATA);
    mem.data.set(data, at);
    mem.received.add(seq);
  }

  private afterMemEnd(req: Request): void {
    const [noEntry, entry] = words(req.payload, 2) as [number, number];
    if (noEntry !== 0) return;
    const segment = this.memSegments.find((s) => entry >= s.address && entry < s.address + s.data.length);
    const region = this.chip.ram.find((r) => entry >= r.start && entry < r.end);
    const complete = segment !== undefined && segment.received.size === Math.ceil(segment.data.length / segment.blockSize);
    if (segment === undefined || !complete || region?.executable !== true) {
      // Jumping into code that is not there: the CPU faults and the chip stops answering.
      this.print(`Guru Meditation Error: Core  0 panic'ed (InstrFetchProhibited). Exception was unhandled.`, `PC      : 0x${entry.toString(16).padStart(8, "0")}`);
      this.log(`MEM_END jumped to 0x${entry.toString(16)}, which holds no uploaded code`);
      this.setMode("halted");
      return;
    }
    // Uploaded code at the entry point: the flasher stub is running.
    this.log(`stub started at 0x${entry.toString(16)}`);
    this.resetLoaderState();
    this.setMode("stub");
    this.send(slipEncode(utf8("OHAI")));
  }

  // ------------------------------------------------------------------------------------------
  // Flasher stub

  private stubReply(command: number, code: number, reply: Reply = {}): void {
    const data = code === 0 ? (reply.data ?? new Uint8Array(0)) : new Uint8Array(0);
    const payload = new Uint8Array(data.length + 2);
    payload.set(data);
    payload[data.length] = code >> 8;
    payload[data.length + 1] = code & 0xff;
    this.send(slipEncode(encodeResponse(command, code === 0 ? (reply.value ?? 0) : 0, payload)));
  }

  private stubCommand(req: Request): void {
    const op = req.command;
    if (req.direction !== 0) {
      this.stubReply(op, StubError.INVALID_COMMAND);
      return;
    }
    if (req.declaredLength !== req.payload.length) {
      this.stubReply(op, StubError.BAD_DATA_LEN);
      return;
    }
    if (this.pendingStubError !== 0) {
      // An error from work done after the previous reply is reported now, instead of running this command.
      const code = this.pendingStubError;
      this.pendingStubError = 0;
      this.stubReply(op, code);
      return;
    }
    if (op === Command.RUN_USER_CODE) return; // no reply (and the current stub does nothing)
    let post: (() => number) | undefined;
    let reply: Reply = {};
    try {
      const result = this.stubExecute(req);
      reply = result.reply;
      post = result.post;
    } catch (err) {
      if (err instanceof StubFailure) {
        this.stubReply(op, err.code);
        return;
      }
      throw err;
    }
    this.stubReply(op, 0, reply);
    if (post !== undefined) this.pendingStubError = post();
  }

  private stubExecute(req: Request): { reply: Reply; post?: () => number } {
    const p = req.payload;
    const need = (length: number, code: number = StubError.BAD_DATA_LEN) => {
      if (p.length !== length) throw new StubFailure(code);
    };
    const fail = (code: number) => new StubFailure(code);
    switch (req.command) {
      case Command.SYNC:
        need(36);
        for (let i = 0; i < 7; i++) this.stubReply(Command.SYNC, 0);
        return { reply: {} };
      case Command.READ_REG:
        need(4);
        return { reply: { value: this.readRegister(words(p, 1)[0]!) } };
      case Command.WRITE_REG:
        this.writeRegisters(p, fail);
        return { reply: {} };
      case Command.GET_SECURITY_INFO:
        need(0);
        if (!this.chip.romSecurityInfo) throw fail(StubError.CMD_NOT_IMPLEMENTED);
        return { reply: { data: this.securityInfo() } };
      case Command.SPI_ATTACH:
        if (p.length !== 4 && p.length !== 8) throw fail(StubError.BAD_DATA_LEN);
        return { reply: {} };
      case Command.SPI_SET_PARAMS:
        need(24);
        return { reply: {} };
      case Command.CHANGE_BAUDRATE: {
        need(8);
        const baud = words(p, 1)[0]!;
        return { reply: {}, post: () => ((this.deviceBaud = baud), 0) };
      }
      case Command.MEM_BEGIN:
        this.memBegin(p, fail);
        return { reply: {} };
      case Command.MEM_DATA:
        this.memData(req, fail);
        return { reply: {} };
      case Command.MEM_END:
        need(8);
        if (this.mem === undefined) throw fail(StubError.NOT_IN_FLASH_MODE);
        this.mem = undefined;
        return {
          reply: {},
          post: () => {
            const [noEntry, entry] = words(p, 2) as [number, number];
            if (noEntry === 0) {
              this.print(`Guru Meditation Error: Core  0 panic'ed (IllegalInstruction). Exception was unhandled.`, `PC      : 0x${entry.toString(16).padStart(8, "0")}`);
              this.setMode("halted");
            }
            return 0;
          },
        };
      case Command.FLASH_BEGIN:
      case Command.FLASH_DEFL_BEGIN: {
        if (p.length !== 16 && p.length !== 20) throw fail(StubError.BAD_DATA_LEN);
        const [size, , blockSize, offset] = words(p, 4) as [number, number, number, number];
        if (offset + size > this.flash.length) throw fail(StubError.FAILED_SPI_OP);
        const compressed = req.command === Command.FLASH_DEFL_BEGIN;
        this.flashOp = { compressed, cursor: offset, start: offset, blockSize, remaining: size, erasedTo: offset - (offset % SECTOR), wrote: 0 };
        if (compressed) this.flashOp.inflate = new pako.Inflate({ chunkSize: INFLATE_CHUNK } as pako.InflateOptions);
        return { reply: {} };
      }
      case Command.FLASH_DATA: {
        if (p.length < DATA_HEADER_LENGTH) throw fail(StubError.NOT_ENOUGH_DATA);
        const op = this.flashOp;
        if (op === undefined) throw fail(StubError.NOT_IN_FLASH_MODE);
        const [length] = words(p, 1) as [number];
        const data = p.subarray(DATA_HEADER_LENGTH);
        if (length !== data.length) throw fail(StubError.TOO_MUCH_DATA);
        if (checksum(data) !== (req.checksum & 0xff)) throw fail(StubError.BAD_DATA_CHECKSUM);
        // Acknowledged first, written afterwards (errors surface on the next command).
        return {
          reply: {},
          post: () => {
            const n = Math.min(data.length, op.remaining);
            const code = this.stubWrite(op, data.subarray(0, n));
            op.remaining -= n;
            return code;
          },
        };
      }
      case Command.FLASH_DEFL_DATA: {
        if (p.length < DATA_HEADER_LENGTH) throw fail(StubError.BAD_DATA_LEN);
        const op = this.flashOp;
        if (op === undefined) throw fail(StubError.NOT_IN_FLASH_MODE);
        // Once everything is written only the zlib trailer (Adler-32) may still come.
        if (op.remaining === 0 && p.length - DATA_HEADER_LENGTH > 4) throw fail(StubError.TOO_MUCH_DATA);
        const [length] = words(p, 1) as [number];
        const data = p.subarray(DATA_HEADER_LENGTH, DATA_HEADER_LENGTH + length);
        if (checksum(data) !== (req.checksum & 0xff)) throw fail(StubError.BAD_DATA_CHECKSUM);
        return {
          reply: {},
          post: () => {
            if (op.inflate === undefined) return StubError.NOT_IN_FLASH_MODE;
            const err = this.inflateInto(op, data, true);
            return err ?? 0;
          },
        };
      }
      case Command.FLASH_END:
      case Command.FLASH_DEFL_END: {
        need(4);
        if (this.flashOp === undefined) throw fail(StubError.NOT_IN_FLASH_MODE);
        if (this.flashOp.remaining !== 0) throw fail(StubError.BAD_DATA_LEN);
        this.flashOp = undefined;
        // A reboot flag is accepted but, as in the current stub, does nothing.
        return { reply: {} };
      }
      case Command.SPI_FLASH_MD5: {
        need(16);
        const [address, size] = words(p, 2) as [number, number];
        if (address + size > this.flash.length) throw fail(StubError.FAILED_SPI_OP);
        return { reply: { data: md5(this.flash.subarray(address, address + size)) } };
      }
      case Command.ERASE_FLASH:
        this.erase(0, this.flash.length);
        this.noteFlashWrite();
        return { reply: {} };
      case Command.ERASE_REGION: {
        need(8);
        const [address, size] = words(p, 2) as [number, number];
        if (address % SECTOR !== 0 || size % SECTOR !== 0) throw fail(StubError.BAD_DATA_LEN);
        if (address + size > this.flash.length) throw fail(StubError.FAILED_SPI_OP);
        this.erase(address, address + size);
        this.noteFlashWrite();
        return { reply: {} };
      }
      case Command.READ_FLASH: {
        need(16);
        const [offset, size, packetSize] = words(p, 3) as [number, number, number];
        if (packetSize === 0 || packetSize > 4096) throw fail(StubError.BAD_DATA_LEN);
        return {
          reply: {},
          post: () => {
            if (offset + size > this.flash.length) return StubError.FAILED_SPI_OP;
            this.readOp = { offset, end: offset + size, packetSize, sentTotal: 0, hash: [] };
            this.readFlashNext();
            return 0;
          },
        };
      }
      default:
        throw fail(StubError.INVALID_COMMAND);
    }
  }

  /** Sends the next READ_FLASH packet, or the MD5 when all was sent and acknowledged. */
  private readFlashNext(): void {
    const op = this.readOp;
    if (op === undefined) return;
    const at = op.offset + op.sentTotal;
    if (at >= op.end) {
      this.send(slipEncode(md5concat(op.hash)));
      this.readOp = undefined;
      return;
    }
    const packet = this.flash.slice(at, Math.min(op.end, at + op.packetSize));
    op.hash.push(packet);
    op.sentTotal += packet.length;
    this.send(slipEncode(packet));
  }

  private readFlashAck(frame: Uint8Array): void {
    const op = this.readOp!;
    if (frame.length !== 4) {
      // Not an acknowledgement: the stub stops streaming and sends the digest of what it sent.
      this.send(slipEncode(md5concat(op.hash)));
      this.readOp = undefined;
      return;
    }
    const acked = view(frame).getUint32(0, true);
    if (acked >= op.sentTotal) this.readFlashNext();
  }

  /** Stub write: erase sectors ahead of the cursor as needed (4 KB at a time), then program. */
  private stubWrite(op: FlashOp, data: Uint8Array): number {
    if (data.length === 0) return 0;
    const end = op.cursor + data.length;
    if (end > this.flash.length) return StubError.FAILED_SPI_OP;
    if (end > op.erasedTo) {
      const to = roundUp(end, SECTOR);
      this.erase(op.erasedTo, to);
      op.erasedTo = to;
    }
    this.program(op.cursor, data);
    op.cursor = end;
    op.wrote += data.length;
    this.noteFlashWrite();
    return 0;
  }

  /** Feeds compressed bytes to the operation's zlib stream; returns an error code or undefined. */
  private inflateInto(op: FlashOp, data: Uint8Array, stub: boolean): number | undefined {
    const inflate = op.inflate!;
    if (op.inflateError !== undefined) return stub ? StubError.INFLATE_ERROR : RomError.INFLATE;
    let code = 0;
    inflate.onData = (chunk) => {
      const bytes = chunk as Uint8Array;
      if (stub) {
        const n = Math.min(bytes.length, op.remaining);
        if (n < bytes.length) code = StubError.TOO_MUCH_DATA;
        code = this.stubWrite(op, bytes.subarray(0, n)) || code;
        op.remaining -= n;
      } else {
        const n = Math.min(bytes.length, this.flash.length - op.cursor);
        this.program(op.cursor, bytes.subarray(0, n));
        op.cursor += n;
        op.wrote += n;
        if (n < bytes.length) code = RomError.FLASH_WRITE;
      }
    };
    inflate.push(data, false);
    if (inflate.err !== 0) {
      op.inflateError = inflate.msg || `zlib error ${inflate.err}`;
      this.log(`inflate failed: ${op.inflateError}`);
      return stub ? StubError.INFLATE_ERROR : RomError.INFLATE;
    }
    return code === 0 ? undefined : code;
  }

  private securityInfo(): Uint8Array {
    // flags u32, flash_crypt_cnt u8, key_purposes[7], chip_id u32, eco/api version u32
    const out = new Uint8Array(20);
    view(out).setUint32(12, this.chip.chipId, true);
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // Registers and flash

  private readRegister(address: number): number {
    if (address === 0x40001000) return this.chip.magic;
    if (address === this.chip.uartClkdivReg) return Math.round((this.chip.xtalMhz * 1e6) / this.deviceBaud) & 0xfffff;
    return this.registers.get(address >>> 0) ?? 0;
  }

  private writeRegisters(p: Uint8Array, fail: (code: number) => unknown): void {
    if (p.length === 0 || p.length % 16 !== 0) throw fail(StubError.NOT_ENOUGH_DATA);
    for (let at = 0; at < p.length; at += 16) {
      const [address, value, mask] = words(p.subarray(at, at + 16), 3) as [number, number, number];
      if (address === 0x40001000) continue; // ROM: read-only
      const old = this.registers.get(address) ?? 0;
      const next = ((value & mask) | (old & ~mask)) >>> 0;
      this.registers.set(address, next);
      const spi = this.chip.spi;
      if (address === spi.base && next & (1 << 18)) {
        // SPI "user command": the flashers run RDID (0x9F) this way to read the JEDEC id.
        const command = (this.registers.get(spi.base + spi.usr2) ?? 0) & 0xff;
        this.registers.set(spi.base + spi.w0, command === 0x9f ? jedecId(this.flash.length) : 0);
        this.registers.set(address, next & ~(1 << 18));
      }
    }
  }

  private erase(from: number, to: number): void {
    this.flash.fill(0xff, from, Math.min(to, this.flash.length));
    this.emit("flashWrite", { offset: from, length: to - from });
  }

  /** NOR flash programming: bits only go from 1 to 0 (erase first). */
  private program(at: number, data: Uint8Array): void {
    const f = this.flash;
    for (let i = 0; i < data.length; i++) f[at + i] = f[at + i]! & data[i]!;
    this.emit("flashWrite", { offset: at, length: data.length });
  }
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function dataHeader(p: Uint8Array, fail: () => unknown): [number, number] {
  if (p.length < DATA_HEADER_LENGTH) throw fail();
  return words(p, 2) as [number, number];
}

function md5concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, x) => n + x.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const x of parts) {
    all.set(x, at);
    at += x.length;
  }
  return md5(all);
}


