// Bosch BME280 temperature, pressure and humidity sensor over I2C.
// Datasheet BST-BME280-DS002: registers §5.3-5.4, trimming parameters §4.2.2 (Table 16), integer
// compensation §4.2.3: temperature and humidity in 32-bit arithmetic, pressure in the 64-bit
// version (1/256 Pa, the one Bosch recommends; §8.2's 32-bit variant is ~3 Pa off on Bosch's own
// example). JavaScript numbers hold integers up to 2^53 exactly, which covers every 64-bit
// intermediate except two products, split below; BigInt would allocate on every sample.
//
// Operation: soft reset, wait for the NVM copy (status.im_update), read the trimming parameters,
// then normal mode with ×1 oversampling on all three channels, IIR filter off and 62.5 ms standby,
// so `sample()` only reads the latest result. Address 0x76 (SDO to GND), 0x77 with
// `use_alt_i2c_address` (SDO to VDDIO).
import Timer from "timer";
import { RegisterIO, pickAddress, type AddressAttributes, type I2CSensorOptions } from "./registers.js";

const REG_CALIB00 = 0x88; // calib00..calib25: 0x88-0xA1
const REG_CHIP_ID = 0xd0;
const REG_RESET = 0xe0;
const REG_CALIB26 = 0xe1; // calib26..calib32 used: 0xE1-0xE7
const REG_CTRL_HUM = 0xf2;
const REG_STATUS = 0xf3;
const REG_CTRL_MEAS = 0xf4;
const REG_CONFIG = 0xf5;
const REG_DATA = 0xf7; // press_msb .. hum_lsb: 0xF7-0xFE

const CHIP_ID = 0x60;
const RESET_WORD = 0xb6;
const STATUS_IM_UPDATE = 0x01;

const OSRS_X1 = 0b001;
const MODE_NORMAL = 0b11;
const STANDBY_62_5_MS = 0b001;
const FILTER_OFF = 0b000;
/** §9.1 maximum measurement time for ×1/×1/×1: 1.25 + 2.3 + 2.875 + 2.875 ms. */
const FIRST_MEASUREMENT_MS = 10;
/** Value of the data registers when a channel was skipped or never measured (§5.4.7-5.4.9). */
const SKIPPED_20_BIT = 0x80000;
const SKIPPED_16_BIT = 0x8000;

export interface BME280Options extends AddressAttributes {
  sensor: I2CSensorOptions;
}

export interface BME280Sample {
  /** °C */
  temperature: number;
  /** Pa */
  pressure: number;
  /** %RH */
  humidity: number;
}

export default class BME280 {
  #io: RegisterIO;
  readonly #data = new Uint8Array(8);
  // Trimming parameters (Table 16).
  #T1 = 0;
  #T2 = 0;
  #T3 = 0;
  #P1 = 0;
  #P2 = 0;
  #P3 = 0;
  #P4 = 0;
  #P5 = 0;
  #P6 = 0;
  #P7 = 0;
  #P8 = 0;
  #P9 = 0;
  #H1 = 0;
  #H2 = 0;
  #H3 = 0;
  #H4 = 0;
  #H5 = 0;
  #H6 = 0;
  /** Fine temperature carried from the temperature to the pressure and humidity formulas. */
  #tFine = 0;

  constructor(options: BME280Options) {
    const io = (this.#io = new RegisterIO("BME280", options.sensor, pickAddress(options.sensor, options, 0x76, 0x77)));
    try {
      io.expectId(REG_CHIP_ID, 0xff, CHIP_ID, "chip id");
      io.writeUint8(REG_RESET, RESET_WORD);
      Timer.delay(2); // start-up time after reset (§1, t_startup)
      let tries = 10;
      while (io.readUint8(REG_STATUS) & STATUS_IM_UPDATE) {
        if (--tries === 0) throw io.error("trimming parameters never finished loading (status.im_update stuck)");
        Timer.delay(1);
      }
      this.#readTrimming();
      // ctrl_hum only takes effect after the following ctrl_meas write (§5.4.3); config is written
      // in sleep mode because writes to it in normal mode may be ignored (§5.4.6).
      io.writeUint8(REG_CTRL_HUM, OSRS_X1);
      io.writeUint8(REG_CONFIG, (STANDBY_62_5_MS << 5) | (FILTER_OFF << 2));
      io.writeUint8(REG_CTRL_MEAS, (OSRS_X1 << 5) | (OSRS_X1 << 2) | MODE_NORMAL);
      Timer.delay(FIRST_MEASUREMENT_MS);
    } catch (error) {
      io.close();
      throw error;
    }
  }

  #readTrimming(): void {
    const low = new Uint8Array(26);
    const high = new Uint8Array(7);
    this.#io.read(REG_CALIB00, low);
    this.#io.read(REG_CALIB26, high);
    const le = new DataView(low.buffer);
    this.#T1 = le.getUint16(0, true);
    this.#T2 = le.getInt16(2, true);
    this.#T3 = le.getInt16(4, true);
    this.#P1 = le.getUint16(6, true);
    this.#P2 = le.getInt16(8, true);
    this.#P3 = le.getInt16(10, true);
    this.#P4 = le.getInt16(12, true);
    this.#P5 = le.getInt16(14, true);
    this.#P6 = le.getInt16(16, true);
    this.#P7 = le.getInt16(18, true);
    this.#P8 = le.getInt16(20, true);
    this.#P9 = le.getInt16(22, true);
    this.#H1 = low[25]; // 0xA1 (0xA0 is reserved)
    this.#H2 = ((high[1] << 24) >> 16) | high[0]; // 0xE1/0xE2, signed short
    this.#H3 = high[2]; // 0xE3
    this.#H4 = ((high[3] << 24) >> 20) | (high[4] & 0x0f); // 0xE4[7:0] / 0xE5[3:0], signed 12 bits
    this.#H5 = ((high[5] << 24) >> 20) | (high[4] >> 4); // 0xE6[7:0] / 0xE5[7:4], signed 12 bits
    this.#H6 = (high[6] << 24) >> 24; // 0xE7, signed char
  }

  /** Reads the latest measurement. Fills and returns `target` when given, so a loop need not allocate. */
  sample(target?: BME280Sample): BME280Sample {
    const d = this.#data;
    this.#io.read(REG_DATA, d);
    const adcP = (d[0] << 12) | (d[1] << 4) | (d[2] >> 4);
    const adcT = (d[3] << 12) | (d[4] << 4) | (d[5] >> 4);
    const adcH = (d[6] << 8) | d[7];
    const result = target ?? { temperature: 0, pressure: 0, humidity: 0 };
    if (adcT === SKIPPED_20_BIT) {
      // No temperature yet: nothing can be compensated.
      result.temperature = result.pressure = result.humidity = NaN;
      return result;
    }
    result.temperature = this.#temperature(adcT) / 100;
    result.pressure = adcP === SKIPPED_20_BIT ? NaN : this.#pressure(adcP);
    result.humidity = adcH === SKIPPED_16_BIT ? NaN : this.#humidity(adcH) / 1024;
    return result;
  }

  /** §4.2.3 BME280_compensate_T_int32: 0.01 °C; sets t_fine. */
  #temperature(adcT: number): number {
    const T1 = this.#T1;
    const var1 = Math.imul((adcT >> 3) - (T1 << 1), this.#T2) >> 11;
    const d = (adcT >> 4) - T1;
    const var2 = Math.imul(Math.imul(d, d) >> 12, this.#T3) >> 14;
    const tFine = (this.#tFine = (var1 + var2) | 0);
    return (Math.imul(tFine, 5) + 128) >> 8;
  }

  /**
   * §4.2.3 BME280_compensate_P_int64, in Pa (the result's Q24.8 over 256). Each 64-bit intermediate
   * stays below 2^53 for production trimming values, except (2^47 + var1) × P1 and
   * (p × 2^31 − var2) × 3125, which are computed as quotient and remainder parts. `>>` on a 64-bit
   * value is Math.floor of a division by a power of two; C's `/` truncates toward zero.
   */
  #pressure(adcP: number): number {
    let var1 = this.#tFine - 128000;
    let var2 = var1 * var1 * this.#P6;
    var2 = var2 + var1 * this.#P5 * 131072; // << 17
    var2 = var2 + this.#P4 * 34359738368; // << 35
    var1 = Math.floor((var1 * var1 * this.#P3) / 256) + var1 * this.#P2 * 4096;
    // (((1 << 47) + var1) * P1) >> 33
    const a = 140737488355328 + var1;
    const aHigh = Math.floor(a / 8589934592);
    var1 = aHigh * this.#P1 + Math.floor(((a - aHigh * 8589934592) * this.#P1) / 8589934592);
    if (var1 === 0) return 0; // avoid a division by zero
    // p = (((1048576 - adc_P) << 31) - var2) * 3125 / var1
    const n = (1048576 - adcP) * 2147483648 - var2;
    const magnitude = Math.abs(n);
    const divisor = Math.abs(var1);
    const remainder = magnitude % divisor;
    const rest = remainder * 3125;
    let p = ((magnitude - remainder) / divisor) * 3125 + (rest - (rest % divisor)) / divisor;
    if ((n < 0) !== (var1 < 0)) p = -p;
    const p13 = Math.floor(p / 8192);
    var1 = Math.floor((this.#P9 * p13 * p13) / 33554432); // >> 25
    var2 = Math.floor((this.#P8 * p) / 524288); // >> 19
    p = Math.floor((p + var1 + var2) / 256) + this.#P7 * 16;
    return p / 256;
  }

  /** §4.2.3 bme280_compensate_H_int32: %RH in Q22.10. */
  #humidity(adcH: number): number {
    let v = (this.#tFine - 76800) | 0;
    const a = ((adcH << 14) - (this.#H4 << 20) - Math.imul(this.#H5, v) + 16384) >> 15;
    const b = Math.imul(v, this.#H6) >> 10;
    const c = (Math.imul(v, this.#H3) >> 11) + 32768;
    const e = ((Math.imul(b, c) >> 10) + 2097152) | 0;
    v = Math.imul(a, (Math.imul(e, this.#H2) + 8192) >> 14);
    const f = v >> 15;
    v = (v - (Math.imul(Math.imul(f, f) >> 7, this.#H1) >> 4)) | 0;
    if (v < 0) v = 0;
    if (v > 419430400) v = 419430400;
    return v >>> 12;
  }

  /** Puts the sensor to sleep and releases the bus. */
  close(): void {
    try {
      this.#io.writeUint8(REG_CTRL_MEAS, 0);
    } finally {
      this.#io.close();
    }
  }
}
