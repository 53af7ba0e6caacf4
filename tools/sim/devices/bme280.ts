// A simulated Bosch BME280 on I2C (datasheet BST-BME280-DS002): chip id 0x60 at 0xD0, soft reset
// by 0xB6 at 0xE0 (then status.im_update while the trimming is copied from NVM), trimming
// parameters at 0x88-0xA1 and 0xE1-0xE7, ctrl_hum (applied at the next ctrl_meas write), status,
// ctrl_meas and config, and the data registers 0xF7-0xFE. Sleep, forced and normal modes take the
// datasheet's maximum measurement time (§9.1); data registers keep their last values (0x80000,
// 0x80000, 0x8000 after reset or for skipped channels) until a measurement completes. Writes are
// register/value pairs; undocumented registers read 0 and ignore writes.
//
// The environment is physical (°C, Pa, %RH); the chip reports the ADC codes whose compensation
// gives it, at the resolution its oversampling and filter settings allow (§3.4-3.5). setRaw() fixes
// the ADC codes instead, to replay a datasheet example. The IIR filter's dynamics are not modelled.
import { performance } from "node:perf_hooks";
import { ByteRegisterDevice } from "./register-device.js";
import { BOSCH_EXAMPLE_TRIMMING, rawFor, trimmingRegisters, type BME280Trimming, type Environment } from "./bme280-physics.js";

const REG_ID = 0xd0;
const REG_RESET = 0xe0;
const REG_CTRL_HUM = 0xf2;
const REG_STATUS = 0xf3;
const REG_CTRL_MEAS = 0xf4;
const REG_CONFIG = 0xf5;
const RESET_WORD = 0xb6;
const NVM_COPY_MS = 1;
const OVERSAMPLING = [0, 1, 2, 4, 8, 16, 16, 16];
const STANDBY_MS = [0.5, 62.5, 125, 250, 500, 1000, 10, 20];
const SKIPPED_20 = 0x80000;
const SKIPPED_16 = 0x8000;

export interface BME280ModelOptions {
  trimming?: BME280Trimming;
  environment?: Partial<Environment>;
  /** 0x60; a BMP280 answers 0x58. */
  chipId?: number;
  /** Milliseconds on a monotonic clock. */
  clock?: () => number;
}

export interface RawCodes {
  adcT: number;
  adcP: number;
  adcH: number;
}

export class BME280Model extends ByteRegisterDevice {
  readonly trimming: BME280Trimming;
  readonly #low: Uint8Array;
  readonly #high: Uint8Array;
  readonly #chipId: number;
  readonly #clock: () => number;
  #environment: Environment = { temperature: 20, pressure: 101325, humidity: 50 };
  #raw: RawCodes | undefined;

  #ctrlHum = 0;
  #osrsH = 0;
  #ctrlMeas = 0;
  #config = 0;
  #adcT = SKIPPED_20;
  #adcP = SKIPPED_20;
  #adcH = SKIPPED_16;
  #nvmUntil = 0;
  /** Forced measurement in progress: its completion time. */
  #forcedUntil: number | undefined;
  /** Normal mode: when the cycles started. */
  #cyclesFrom = 0;

  constructor(options: BME280ModelOptions = {}) {
    super("pairs");
    this.trimming = { ...(options.trimming ?? BOSCH_EXAMPLE_TRIMMING) };
    ({ low: this.#low, high: this.#high } = trimmingRegisters(this.trimming));
    this.#chipId = options.chipId ?? 0x60;
    this.#clock = options.clock ?? (() => performance.now());
    this.setEnvironment(options.environment ?? {});
  }

  setEnvironment(environment: Partial<Environment>): void {
    this.#environment = { ...this.#environment, ...environment };
  }

  get environment(): Environment {
    return { ...this.#environment };
  }

  /** Report these ADC codes instead of the environment's (undefined: back to the environment). */
  setRaw(raw: RawCodes | undefined): void {
    this.#raw = raw === undefined ? undefined : { ...raw };
  }

  /** Power-on state of every user register. */
  #reset(): void {
    this.#ctrlHum = this.#osrsH = this.#ctrlMeas = this.#config = 0;
    this.#adcT = this.#adcP = SKIPPED_20;
    this.#adcH = SKIPPED_16;
    this.#forcedUntil = undefined;
    this.#nvmUntil = this.#clock() + NVM_COPY_MS;
  }

  #measurementMs(): number {
    const t = OVERSAMPLING[(this.#ctrlMeas >> 5) & 7];
    const p = OVERSAMPLING[(this.#ctrlMeas >> 2) & 7];
    const h = OVERSAMPLING[this.#osrsH & 7];
    return 1.25 + 2.3 * t + (p ? 2.3 * p + 0.575 : 0) + (h ? 2.3 * h + 0.575 : 0);
  }

  #mode(): number {
    return this.#ctrlMeas & 3;
  }

  /** Completes measurements whose time has come. */
  #advance(now: number): void {
    if (this.#forcedUntil !== undefined && now >= this.#forcedUntil) {
      this.#forcedUntil = undefined;
      this.#latch();
      this.#ctrlMeas &= ~3; // back to sleep mode
    } else if (this.#mode() === 3 && now >= this.#cyclesFrom + this.#measurementMs()) {
      this.#latch();
    }
  }

  #latch(): void {
    const osT = (this.#ctrlMeas >> 5) & 7;
    const osP = (this.#ctrlMeas >> 2) & 7;
    const filtered = ((this.#config >> 2) & 7) !== 0;
    const bits = (code: number) => (filtered ? 20 : Math.min(20, 15 + code));
    const raw = this.#raw ?? rawFor(this.trimming, this.#environment, { temperature: bits(osT), pressure: bits(osP) });
    this.#adcT = osT ? raw.adcT : SKIPPED_20;
    this.#adcP = osP ? raw.adcP : SKIPPED_20;
    this.#adcH = this.#osrsH ? raw.adcH : SKIPPED_16;
  }

  #measuring(now: number): boolean {
    if (this.#forcedUntil !== undefined) return now < this.#forcedUntil;
    if (this.#mode() !== 3) return false;
    const measure = this.#measurementMs();
    const period = measure + STANDBY_MS[(this.#config >> 5) & 7];
    return (now - this.#cyclesFrom) % period < measure;
  }

  protected override beginRead(): void {
    this.#advance(this.#clock());
  }

  protected override readRegister(register: number): number {
    if (register >= 0x88 && register <= 0xa1) return this.#low[register - 0x88];
    if (register >= 0xe1 && register <= 0xe7) return this.#high[register - 0xe1];
    switch (register) {
      case REG_ID:
        return this.#chipId;
      case REG_CTRL_HUM:
        return this.#ctrlHum;
      case REG_STATUS: {
        const now = this.#clock();
        return (this.#measuring(now) ? 0x08 : 0) | (now < this.#nvmUntil ? 0x01 : 0);
      }
      case REG_CTRL_MEAS:
        return this.#ctrlMeas;
      case REG_CONFIG:
        return this.#config;
      case 0xf7:
        return this.#adcP >> 12;
      case 0xf8:
        return (this.#adcP >> 4) & 0xff;
      case 0xf9:
        return (this.#adcP & 0x0f) << 4;
      case 0xfa:
        return this.#adcT >> 12;
      case 0xfb:
        return (this.#adcT >> 4) & 0xff;
      case 0xfc:
        return (this.#adcT & 0x0f) << 4;
      case 0xfd:
        return this.#adcH >> 8;
      case 0xfe:
        return this.#adcH & 0xff;
      default:
        return 0;
    }
  }

  protected override writeRegister(register: number, value: number): void {
    switch (register) {
      case REG_RESET:
        if (value === RESET_WORD) this.#reset();
        return;
      case REG_CTRL_HUM:
        this.#ctrlHum = value & 0x07;
        return;
      case REG_CONFIG:
        this.#config = value & 0xfd; // bit 1 is reserved
        return;
      case REG_CTRL_MEAS: {
        const now = this.#clock();
        this.#advance(now);
        this.#ctrlMeas = value;
        this.#osrsH = this.#ctrlHum; // ctrl_hum becomes effective now (§5.4.3)
        const mode = value & 3;
        this.#forcedUntil = mode === 1 || mode === 2 ? now + this.#measurementMs() : undefined;
        if (mode === 3) this.#cyclesFrom = now;
        return;
      }
    }
  }
}
