// A simulated TI INA226 (SBOS547): configuration 0x4127 after reset (bit 15 resets every register,
// bits 14-12 read 100), shunt voltage (2.5 µV LSB, ±81.92 mV), bus voltage (1.25 mV LSB, 0-40.96 V),
// power, current, calibration (15 bits), Mask/Enable (CVRF in bit 3, cleared by reading it; OVF in
// bit 2), Alert Limit, manufacturer id 0x5449 at 0xFE and die id 0x2260 at 0xFF. The chip computes
// Current = Shunt × CAL / 2048 and Power = Current × Bus / 20000 (§7.5.1). Conversion time is
// (VBUSCT + VSHCT) × AVG (§7.6.1). Other pointers read 0 and ignore writes.
import { INAModel, clamp, type INAModelOptions } from "./ina-model.js";

export type { Load, INAModelOptions } from "./ina-model.js";

const CONFIG_DEFAULT = 0x4127;
const AVERAGES = [1, 4, 16, 64, 128, 256, 512, 1024];
const CONVERSION_US = [140, 204, 332, 588, 1100, 2116, 4156, 8244];
const MASK_WRITABLE = 0xfc03;

export class INA226Model extends INAModel {
  #config = CONFIG_DEFAULT;
  #calibration = 0;
  #shunt = 0;
  #bus = 0;
  #current = 0;
  #power = 0;
  #overflow = false;
  #mask = 0;
  #alertLimit = 0;

  constructor(options: INAModelOptions = {}) {
    super(options);
    this.startConversion();
  }

  protected override mode(): number {
    return this.#config & 7;
  }

  protected override conversionMs(): number {
    const mode = this.mode();
    const bus = mode & 2 ? CONVERSION_US[(this.#config >> 6) & 7] : 0;
    const shunt = mode & 1 ? CONVERSION_US[(this.#config >> 3) & 7] : 0;
    return ((bus + shunt) * AVERAGES[(this.#config >> 9) & 7]) / 1000;
  }

  protected override convert(supplyVolts: number, shuntVolts: number): void {
    const mode = this.mode();
    if (mode & 1) this.#shunt = clamp(Math.round(shuntVolts / 2.5e-6), -32768, 32767);
    if (mode & 2) this.#bus = clamp(Math.round((supplyVolts - shuntVolts) / 1.25e-3), 0, 32767);
    const current = Math.trunc((this.#shunt * this.#calibration) / 2048);
    const power = Math.trunc((Math.abs(current) * this.#bus) / 20000);
    this.#overflow = current > 32767 || current < -32768 || power > 65535;
    this.#current = clamp(current, -32768, 32767);
    this.#power = clamp(power, 0, 65535);
  }

  protected override readRegister(register: number): number {
    this.refresh();
    switch (register) {
      case 0x00:
        return this.#config;
      case 0x01:
        return this.#shunt & 0xffff;
      case 0x02:
        return this.#bus;
      case 0x03:
        return this.#power;
      case 0x04:
        return this.#current & 0xffff;
      case 0x05:
        return this.#calibration;
      case 0x06: {
        const value = this.#mask | (this.conversionReady() ? 0x08 : 0) | (this.#overflow ? 0x04 : 0);
        this.clearConversionReady();
        return value;
      }
      case 0x07:
        return this.#alertLimit;
      case 0xfe:
        return 0x5449;
      case 0xff:
        return 0x2260;
      default:
        return 0;
    }
  }

  protected override writeRegister(register: number, value: number): void {
    switch (register) {
      case 0x00:
        if (value & 0x8000) {
          this.#config = CONFIG_DEFAULT;
          this.#calibration = this.#shunt = this.#bus = this.#current = this.#power = this.#mask = this.#alertLimit = 0;
          this.#overflow = false;
        } else {
          this.#config = (value & 0x0fff) | 0x4000;
        }
        this.startConversion();
        return;
      case 0x05:
        this.#calibration = value & 0x7fff;
        return;
      case 0x06:
        this.#mask = value & MASK_WRITABLE;
        return;
      case 0x07:
        this.#alertLimit = value;
        return;
    }
  }
}
