// What the simulated TI INA219 and INA226 share: the load they measure (supply voltage at IN+ and
// current through the board's shunt), a clock, and the conversion-ready flag (CNVR on the INA219,
// CVRF on the INA226): set when a conversion completes, cleared by a read of the flag's clearing
// register or a configuration write, and set again after the next conversion in continuous modes.
// Modes 5-7 convert continuously and follow the load; 1-3 convert once per configuration write;
// 0 and 4 keep the last results.
import { performance } from "node:perf_hooks";
import { WordRegisterDevice } from "./register-device.js";

/** What the INA measures: the supply at IN+ (the common-mode voltage) and the current through the shunt. */
export interface Load {
  /** V at IN+; the bus voltage the chip reads is at IN- (VBUS), one shunt drop lower. */
  supplyVolts: number;
  /** A, positive from IN+ to IN-. */
  amps: number;
}

export interface INAModelOptions {
  /** Ω of the shunt on the board; 0.1 on the common modules. */
  shuntOhms?: number;
  load?: Partial<Load>;
  /** Milliseconds on a monotonic clock. */
  clock?: () => number;
}

export function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

export abstract class INAModel extends WordRegisterDevice {
  readonly shuntOhms: number;
  protected readonly clock: () => number;
  #load: Load = { supplyVolts: 0, amps: 0 };
  /** When the first conversion after a configuration write completes. */
  #readyAt = 0;
  /** When the conversion-ready flag was last cleared. */
  #clearedAt: number | undefined;

  constructor(options: INAModelOptions) {
    super();
    this.shuntOhms = options.shuntOhms ?? 0.1;
    this.clock = options.clock ?? (() => performance.now());
    this.setLoad(options.load ?? {});
  }

  setLoad(load: Partial<Load>): void {
    this.#load = { ...this.#load, ...load };
  }

  get load(): Load {
    return { ...this.#load };
  }

  /** The configuration register's mode bits. */
  protected abstract mode(): number;
  /** Time of one shunt-and-bus conversion cycle in the present configuration. */
  protected abstract conversionMs(): number;
  /** Converts the load into the result registers. */
  protected abstract convert(supplyVolts: number, shuntVolts: number): void;

  protected measure(): void {
    this.convert(this.#load.supplyVolts, this.#load.amps * this.shuntOhms);
  }

  /** After a configuration write: a new conversion starts (and completes now for triggered modes). */
  protected startConversion(): void {
    this.#readyAt = this.clock() + this.conversionMs();
    this.#clearedAt = undefined;
    const mode = this.mode();
    if (mode !== 0 && mode !== 4) this.measure();
  }

  /** Before a register read: continuous modes show the present load. */
  protected refresh(): void {
    if (this.mode() >= 5) this.measure();
  }

  protected conversionReady(): boolean {
    const now = this.clock();
    if (now < this.#readyAt) return false;
    if (this.#clearedAt === undefined) return true;
    return this.mode() >= 5 && now >= this.#clearedAt + this.conversionMs();
  }

  protected clearConversionReady(): void {
    this.#clearedAt = this.clock();
  }
}
