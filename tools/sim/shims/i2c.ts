// embedded:io/i2c for Node, after Moddable's ESP32 I2C (modules/io/i2c/esp32/_i2c.c): data, clock
// and address are required; hz must be 1…20 MHz; one instance per address on a pair of pins, which
// several instances may share. A transfer that no device acknowledges throws "write failed" or
// "read failed"; an empty write is an address probe that returns 1 when nothing answers.
// read(buffer) fills the buffer and returns its length; read(n) returns a new ArrayBuffer.
import { world } from "../world.js";
import type { I2CBus } from "../i2c-bus.js";
import { bytesOf, checkFormat, closedError, pinNumber } from "./common.js";

export interface I2COptions {
  data: number;
  clock: number;
  hz: number;
  address: number;
  port?: number;
  timeout?: number;
  pullup?: boolean;
  format?: "buffer";
  target?: unknown;
}

export default class I2C {
  target?: unknown;
  readonly data: number;
  readonly clock: number;
  readonly address: number;
  #bus: I2CBus | undefined;

  constructor(options: I2COptions) {
    if (!("data" in options)) throw new RangeError("data required");
    if (!("clock" in options)) throw new RangeError("clock required");
    if (!("address" in options)) throw new RangeError("address required");
    const w = world();
    const data = pinNumber(options.data);
    const clock = pinNumber(options.clock);
    const bus = w.i2c({ data, clock });
    const sharing = bus.controllers.size > 0;
    if (!sharing && (!w.isPinFree(data) || !w.isPinFree(clock))) throw new RangeError("inUse");
    if (!w.isPinValid(data) || !w.isPinValid(clock) || w.chip.inputOnly.has(data) || w.chip.inputOnly.has(clock)) {
      throw new RangeError("invalid pin");
    }
    const address = pinNumber(options.address);
    if (address > 127) throw new RangeError("invalid address");
    for (const i2c of bus.controllers) if (i2c.address === address) throw new RangeError("duplicate address");
    const hz = Math.trunc(Number(options.hz)) || 0;
    if (hz <= 0 || hz > 20_000_000) throw new RangeError("invalid hz");
    if (options.port !== undefined) {
      const port = Math.trunc(Number(options.port));
      if (!(port >= 0 && port < w.chip.i2cPorts)) throw new RangeError("invalid port");
    }
    if ("target" in options) this.target = options.target;
    checkFormat(options, "buffer");

    this.data = data;
    this.clock = clock;
    this.address = address;
    this.#bus = bus;
    bus.controllers.add(this);
    w.usePin(data, "I2C");
    w.usePin(clock, "I2C");
  }

  #active(): I2CBus {
    if (this.#bus === undefined) throw closedError();
    return this.#bus;
  }

  write(buffer: ArrayBufferLike | ArrayBufferView, stop = true): number | undefined {
    const bus = this.#active();
    const bytes = bytesOf(buffer);
    const acknowledged = bus.write(this.address, bytes, Boolean(stop));
    if (bytes.length === 0) return acknowledged ? undefined : 1;
    if (!acknowledged) throw new Error("write failed");
    return undefined;
  }

  read(lengthOrBuffer: number | ArrayBufferLike | ArrayBufferView, stop = true): ArrayBuffer | number {
    const bus = this.#active();
    const isBuffer = typeof lengthOrBuffer === "object" && lengthOrBuffer !== null;
    const result = isBuffer ? undefined : new ArrayBuffer(Math.trunc(Number(lengthOrBuffer)) || 0);
    const into = isBuffer ? bytesOf(lengthOrBuffer) : new Uint8Array(result as ArrayBuffer);
    if (!bus.read(this.address, into, Boolean(stop))) throw new Error("read failed");
    return result ?? into.length;
  }

  close(): void {
    const bus = this.#bus;
    if (bus === undefined) return;
    this.#bus = undefined;
    bus.controllers.delete(this);
    if (bus.controllers.size === 0) {
      const w = world();
      w.freePin(this.data);
      w.freePin(this.clock);
    }
  }

  get format(): "buffer" {
    return "buffer";
  }

  set format(value: string) {
    if (value !== "buffer") throw new RangeError("unimplemented");
  }
}
