// The two register-pointer protocols of the I2C sensors simulated here.
//
// ByteRegisterDevice (Bosch, InvenSense, Analog Devices): the first byte of a write sets the
// register pointer; reads return consecutive registers from the pointer. Following write bytes go
// to consecutive registers ("sequential", MPU-6050 and ADXL345) or come as register/value pairs
// ("pairs", BME280 §6.2.1, which has no auto-increment on writes). The pointer is 8 bits and wraps.
//
// WordRegisterDevice (TI INA2xx): a write of one byte sets the pointer; a write of three bytes sets
// the pointer and writes a 16-bit register, MSB first. A read returns the pointed register MSB first
// and repeats it for longer reads; the pointer does not move (SBOS448 §8.5.5, SBOS547 §7.5.5).
import type { I2CDevice } from "../i2c-bus.js";

export abstract class ByteRegisterDevice implements I2CDevice {
  protected pointer = 0;
  readonly #writes: "sequential" | "pairs";

  constructor(writes: "sequential" | "pairs") {
    this.#writes = writes;
  }

  /** The value of a register as a read sees it. */
  protected abstract readRegister(register: number): number;
  /** A byte written to a register; read-only and reserved registers ignore it. */
  protected abstract writeRegister(register: number, value: number): void;
  /** Called when a read transaction starts, before any byte is returned (output shadowing). */
  protected beginRead(): void {}

  write(data: Uint8Array): void {
    if (data.length === 0) return;
    this.pointer = data[0];
    if (this.#writes === "pairs") {
      for (let i = 1; i < data.length; i += 2) {
        this.writeRegister(this.pointer, data[i]);
        if (i + 1 < data.length) this.pointer = data[i + 1];
      }
      return;
    }
    for (let i = 1; i < data.length; i++) {
      this.writeRegister(this.pointer, data[i]);
      this.pointer = (this.pointer + 1) & 0xff;
    }
  }

  read(into: Uint8Array): void {
    this.beginRead();
    for (let i = 0; i < into.length; i++) {
      into[i] = this.readRegister(this.pointer) & 0xff;
      this.pointer = (this.pointer + 1) & 0xff;
    }
  }
}

export abstract class WordRegisterDevice implements I2CDevice {
  protected pointer = 0;

  protected abstract readRegister(register: number): number;
  protected abstract writeRegister(register: number, value: number): void;

  write(data: Uint8Array): void {
    if (data.length === 0) return;
    this.pointer = data[0];
    if (data.length >= 3) this.writeRegister(this.pointer, (data[1] << 8) | data[2]);
  }

  read(into: Uint8Array): void {
    const word = this.readRegister(this.pointer) & 0xffff;
    for (let i = 0; i < into.length; i++) into[i] = i & 1 ? word & 0xff : word >> 8;
  }
}
