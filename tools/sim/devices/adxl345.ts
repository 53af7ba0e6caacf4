// A simulated Analog Devices ADXL345 (datasheet rev. G, Table 19): DEVID 0xE5, BW_RATE 0x0A and
// INT_SOURCE 0x02 after power-on, everything else 0. With POWER_CTL's Measure bit set, DATAX0-DATAZ1
// hold acceleration, little-endian, latched when a read starts: 10-bit at 256/128/64/32 LSB/g by
// range, or full resolution (DATA_FORMAT bit 3) at 256 LSB/g with 10-13 bits; Justify left-aligns.
// The offset registers add 15.6 mg/LSB. In standby the data registers hold. Reserved registers
// (0x01-0x1C) and those past 0x39 read 0; read-only ones ignore writes. Bursts auto-increment.
// FIFO, interrupts, activity/tap detection and self-test are not modelled.
import { ByteRegisterDevice } from "./register-device.js";
import { AT_REST, STANDARD_GRAVITY, mergeMotion, specificForce, type Motion } from "./motion.js";

const REG_DEVID = 0x00;
const REG_OFSX = 0x1e;
const REG_BW_RATE = 0x2c;
const REG_POWER_CTL = 0x2d;
const REG_INT_SOURCE = 0x30;
const REG_DATA_FORMAT = 0x31;
const REG_DATAX0 = 0x32;

const WRITABLE = new Set<number>([
  ...Array.from({ length: 0x2a - 0x1d + 1 }, (_, i) => 0x1d + i),
  REG_BW_RATE, REG_POWER_CTL, 0x2e, 0x2f, REG_DATA_FORMAT, 0x38,
]);

export interface ADXL345ModelOptions {
  motion?: Partial<Motion>;
}

export class ADXL345Model extends ByteRegisterDevice {
  readonly #registers = new Uint8Array(256);
  #motion: Motion = AT_REST;

  constructor(options: ADXL345ModelOptions = {}) {
    super("sequential");
    const r = this.#registers;
    r[REG_DEVID] = 0xe5;
    r[REG_BW_RATE] = 0x0a;
    r[REG_INT_SOURCE] = 0x02;
    this.setMotion(options.motion ?? {});
  }

  setMotion(change: Partial<Motion>): void {
    this.#motion = mergeMotion(this.#motion, change);
  }

  protected override beginRead(): void {
    const r = this.#registers;
    if (!(r[REG_POWER_CTL] & 0x08)) return; // standby
    const format = r[REG_DATA_FORMAT];
    const range = format & 3;
    const fullResolution = (format & 0x08) !== 0;
    const bits = fullResolution ? 10 + range : 10;
    const perG = fullResolution ? 256 : 256 >> range;
    const limit = 2 ** (bits - 1);
    const force = specificForce(this.#motion);
    const view = new DataView(r.buffer);
    [force.x, force.y, force.z].forEach((axis, i) => {
      const offsetG = ((r[REG_OFSX + i] << 24) >> 24) * 0.0156;
      let counts = Math.round((axis / STANDARD_GRAVITY + offsetG) * perG);
      counts = Math.min(limit - 1, Math.max(-limit, counts));
      if (format & 0x04) counts = counts * 2 ** (16 - bits); // Justify: MSB-aligned
      view.setInt16(REG_DATAX0 + i * 2, counts, true);
    });
    r[REG_INT_SOURCE] |= 0x80; // DATA_READY
  }

  protected override readRegister(register: number): number {
    return register <= 0x39 ? this.#registers[register] : 0;
  }

  protected override writeRegister(register: number, value: number): void {
    if (WRITABLE.has(register)) this.#registers[register] = value;
  }
}
