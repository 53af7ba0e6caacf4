// Register access over an ECMA-419 I2C object, shared by the sensor drivers in this folder.
//
// Every driver takes Moddable's sensor-class options: `{ sensor: { io, data, clock, hz?, port?,
// address? }, ...attributes }`, where `sensor` is what `new io(...)` needs (so
// `{ ...device.I2C.default, io: device.io.I2C }` works on a board) and the attributes use
// micro-rdk's config names (`i2c_address`, `use_alt_i2c_address`, …). The board resolves micro-rdk's
// `i2c_bus` name to the `sensor` pins; drivers never see bus names.
//
// Transactions use the register-pointer protocol: write the register number without a stop, then
// read with a repeated start. Buffers are allocated once per driver, never per call.
import type I2C from "embedded:io/i2c";

/** The bus half of a driver's options: an I2C class and what its constructor needs. */
export interface I2CSensorOptions {
  io: typeof I2C;
  data: number;
  clock: number;
  hz?: number;
  port?: number;
  /** Overrides the address a driver would pick from its attributes. */
  address?: number;
}

/** micro-rdk's addressing attributes, accepted by every driver here. */
export interface AddressAttributes {
  i2c_address?: number;
  use_alt_i2c_address?: boolean;
}

const DEFAULT_HZ = 100_000;

/** The address to use: `sensor.address`, else `i2c_address`, else the alternate or primary address. */
export function pickAddress(
  sensor: I2CSensorOptions,
  attributes: AddressAttributes,
  primary: number,
  alternate: number,
): number {
  if (sensor.address !== undefined) return sensor.address;
  if (attributes.i2c_address !== undefined) return attributes.i2c_address;
  return attributes.use_alt_i2c_address ? alternate : primary;
}

function hex(value: number): string {
  return "0x" + value.toString(16).padStart(2, "0");
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One device on an I2C bus, addressed register by register. Errors name the device. */
export class RegisterIO {
  readonly name: string;
  #io: I2C | undefined;
  readonly #pointer = new Uint8Array(1);
  readonly #byteWrite = new Uint8Array(2);
  readonly #wordWrite = new Uint8Array(3);
  readonly #word = new Uint8Array(2);

  constructor(device: string, sensor: I2CSensorOptions, address: number) {
    this.name = device + " at " + hex(address);
    try {
      this.#io = new sensor.io({
        data: sensor.data,
        clock: sensor.clock,
        hz: sensor.hz ?? DEFAULT_HZ,
        address,
        ...(sensor.port === undefined ? {} : { port: sensor.port }),
      });
    } catch (error) {
      throw this.error("cannot open the I2C bus (" + reason(error) + ")", error);
    }
  }

  /** An Error whose message starts with the device name and address. */
  error(message: string, cause?: unknown): Error {
    return cause === undefined ? new Error(this.name + ": " + message) : new Error(this.name + ": " + message, { cause });
  }

  #bus(): I2C {
    const io = this.#io;
    if (io === undefined) throw this.error("closed");
    return io;
  }

  /** Fills `into` with consecutive registers starting at `register`. */
  read(register: number, into: Uint8Array): void {
    const io = this.#bus();
    this.#pointer[0] = register;
    try {
      io.write(this.#pointer, false);
      io.read(into);
    } catch (error) {
      throw this.error("I2C read of register " + hex(register) + " failed (" + reason(error) + ")", error);
    }
  }

  readUint8(register: number): number {
    this.read(register, this.#pointer);
    return this.#pointer[0];
  }

  /** A 16-bit register sent most significant byte first (TI INA parts). */
  readUint16BE(register: number): number {
    const word = this.#word;
    this.read(register, word);
    return (word[0] << 8) | word[1];
  }

  /** `readUint16BE` as two's complement. */
  readInt16BE(register: number): number {
    return (this.readUint16BE(register) << 16) >> 16;
  }

  writeUint8(register: number, value: number): void {
    const bytes = this.#byteWrite;
    bytes[0] = register;
    bytes[1] = value;
    this.#write(register, bytes);
  }

  writeUint16BE(register: number, value: number): void {
    const bytes = this.#wordWrite;
    bytes[0] = register;
    bytes[1] = value >> 8;
    bytes[2] = value;
    this.#write(register, bytes);
  }

  #write(register: number, bytes: Uint8Array): void {
    const io = this.#bus();
    try {
      io.write(bytes);
    } catch (error) {
      throw this.error("I2C write of register " + hex(register) + " failed (" + reason(error) + ")", error);
    }
  }

  /** Throws a clear error unless the identification register holds what the datasheet says. */
  expectId(register: number, mask: number, expected: number, what: string): void {
    const found = this.readUint8(register) & mask;
    if (found !== expected) {
      throw this.error("unexpected " + what + " " + hex(found) + " at register " + hex(register) + ", expected " + hex(expected));
    }
  }

  close(): void {
    // Moddable's I2C has close(); the 5.6.0 typings omit it.
    (this.#io as (I2C & { close?(): void }) | undefined)?.close?.();
    this.#io = undefined;
  }
}
