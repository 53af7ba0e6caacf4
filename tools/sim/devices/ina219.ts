// A simulated TI INA219 (SBOS448): configuration 0x399F after reset (bit 15 resets every register),
// shunt voltage (10 µV LSB, clipped to the PGA range), bus voltage (bits 15-3, 4 mV LSB, clipped to
// the 16 or 32 V range, with CNVR in bit 1 and OVF in bit 0), power, current and calibration (bit 0
// void). The chip computes Current = Shunt × Cal / 4096 and Power = Current × Bus / 5000 (§8.5.1),
// both 0 until a calibration is written; OVF flags results out of register range. CNVR is cleared
// by reading the power register. Conversion times follow BADC/SADC (§8.6.2.1). Pointers above 5
// read 0 and ignore writes (the datasheet does not say).
import { INAModel, clamp, type INAModelOptions } from "./ina-model.js";

export type { Load, INAModelOptions } from "./ina-model.js";

const CONFIG_DEFAULT = 0x399f;

/** Conversion time in µs of a BADC/SADC setting: 9-12 bits, or 12 bits averaged over 2-128 samples. */
function conversionMicros(setting: number): number {
  if (!(setting & 0b1000)) return [84, 148, 276, 532][setting & 3];
  return 532 * 2 ** (setting & 0b111);
}

export class INA219Model extends INAModel {
  #config = CONFIG_DEFAULT;
  #calibration = 0;
  #shunt = 0;
  #bus = 0;
  #current = 0;
  #power = 0;
  #overflow = false;

  constructor(options: INAModelOptions = {}) {
    super(options);
    this.startConversion();
  }

  protected override mode(): number {
    return this.#config & 7;
  }

  protected override conversionMs(): number {
    const mode = this.mode();
    const bus = mode & 2 ? conversionMicros((this.#config >> 7) & 0xf) : 0;
    const shunt = mode & 1 ? conversionMicros((this.#config >> 3) & 0xf) : 0;
    return (bus + shunt) / 1000;
  }

  protected override convert(supplyVolts: number, shuntVolts: number): void {
    const mode = this.mode();
    if (mode & 1) {
      const range = 4000 << ((this.#config >> 11) & 3); // ±40, 80, 160, 320 mV in 10 µV counts
      this.#shunt = clamp(Math.round(shuntVolts / 10e-6), -range, range);
    }
    if (mode & 2) {
      const fullScale = this.#config & 0x2000 ? 8000 : 4000; // 32 V or 16 V in 4 mV counts
      this.#bus = clamp(Math.round((supplyVolts - shuntVolts) / 0.004), 0, fullScale);
    }
    const current = Math.trunc((this.#shunt * this.#calibration) / 4096);
    const power = Math.trunc((Math.abs(current) * this.#bus) / 5000);
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
        return (this.#bus << 3) | (this.conversionReady() ? 0x2 : 0) | (this.#overflow ? 0x1 : 0);
      case 0x03:
        this.clearConversionReady();
        return this.#power;
      case 0x04:
        return this.#current & 0xffff;
      case 0x05:
        return this.#calibration;
      default:
        return 0;
    }
  }

  protected override writeRegister(register: number, value: number): void {
    if (register === 0x00) {
      if (value & 0x8000) {
        this.#config = CONFIG_DEFAULT;
        this.#calibration = this.#shunt = this.#bus = this.#current = this.#power = 0;
        this.#overflow = false;
      } else {
        this.#config = value & 0x3fff; // bit 14 is unused
      }
      this.startConversion();
    } else if (register === 0x05) {
      this.#calibration = value & 0xfffe; // used from the next conversion on
    }
  }
}
