// An I2C bus of the simulated world: two wires (data and clock pins) and the target devices on
// them, by 7-bit address. Transfers are whole transactions as a controller issues them: START (or a
// repeated START), the address byte, data bytes, and a STOP when `stop` is true.

/** A target device on a bus. */
export interface I2CDevice {
  /** The controller wrote `data` after this device acknowledged its address. */
  write(data: Uint8Array): void;
  /** The controller reads `into.length` bytes after this device acknowledged its address. */
  read(into: Uint8Array): void;
  /** A STOP condition ended the transaction. */
  stop?(): void;
}

/** Thrown by a device's `write` to not acknowledge a data byte. */
export class I2CNack extends Error {}

export interface I2CTransfer {
  address: number;
  direction: "write" | "read";
  bytes: number[];
  stop: boolean;
  acknowledged: boolean;
}

export class I2CBus {
  readonly data: number;
  readonly clock: number;
  readonly #devices = new Map<number, I2CDevice>();
  /** The I2C objects firmware has open on these pins (Moddable allows one per address). */
  readonly controllers = new Set<{ readonly address: number }>();
  /** Every transfer, in order, while set to an array (tests inspect what a driver sent). */
  trace: I2CTransfer[] | undefined;

  constructor(data: number, clock: number) {
    this.data = data;
    this.clock = clock;
  }

  attach<T extends I2CDevice>(address: number, device: T): T {
    if (!(Number.isInteger(address) && address >= 0 && address <= 0x7f)) throw new RangeError("I2C address must be 0…0x7f");
    if (this.#devices.has(address)) throw new Error("an I2C device already answers at 0x" + address.toString(16));
    this.#devices.set(address, device);
    return device;
  }

  detach(address: number): void {
    this.#devices.delete(address);
  }

  device(address: number): I2CDevice | undefined {
    return this.#devices.get(address);
  }

  /** A write transfer; false when the address or a data byte was not acknowledged. */
  write(address: number, bytes: Uint8Array, stop: boolean): boolean {
    const device = this.#devices.get(address);
    let acknowledged = device !== undefined;
    if (device !== undefined) {
      try {
        device.write(bytes);
      } catch (error) {
        if (!(error instanceof I2CNack)) throw error;
        acknowledged = false;
      }
      if (stop) device.stop?.();
    }
    this.trace?.push({ address, direction: "write", bytes: [...bytes], stop, acknowledged });
    return acknowledged;
  }

  /** A read transfer into `into`; false when no device acknowledged the address (`into` then holds 0xFF, an idle bus). */
  read(address: number, into: Uint8Array, stop: boolean): boolean {
    const device = this.#devices.get(address);
    if (device === undefined) into.fill(0xff);
    else {
      device.read(into);
      if (stop) device.stop?.();
    }
    this.trace?.push({ address, direction: "read", bytes: [...into], stop, acknowledged: device !== undefined });
    return device !== undefined;
  }
}
