// What the TI INA219 and INA226 current/power monitors share: 16-bit big-endian registers at the
// same pointers, a calibration register that makes the chip compute current and power, and
// micro-rdk's attributes (`i2c_address`, default 0x40; `shunt_resistance` in ohms, default 0.1;
// `max_current_amps`). `current_lsb` is ours: the datasheets' worked examples pick a round
// Current_LSB above the minimum max_current_amps / 2^15, which is the default (and micro-rdk's).
import { RegisterIO, pickAddress, type AddressAttributes, type I2CSensorOptions } from "./registers.js";

export const REG_CONFIG = 0x00;
export const REG_SHUNT = 0x01;
export const REG_BUS = 0x02;
export const REG_POWER = 0x03;
export const REG_CURRENT = 0x04;
export const REG_CALIBRATION = 0x05;

export interface INAOptions extends AddressAttributes {
  sensor: I2CSensorOptions;
  /** Ω */
  shunt_resistance?: number;
  /** A: the largest current expected through the shunt. */
  max_current_amps?: number;
  /** A per bit of the current register. */
  current_lsb?: number;
}

export interface PowerSample {
  /** V, at IN- / VBUS (the load side of the shunt). */
  busVoltage: number;
  /** V across the shunt. */
  shuntVoltage: number;
  /** A; NaN when the chip flags a math overflow. */
  current: number;
  /** W; NaN when the chip flags a math overflow. */
  power: number;
}

/** The fixed constants of one chip, from its datasheet. */
export interface INAChip {
  name: string;
  /** 0.04096 (INA219) or 0.00512 (INA226): CAL = trunc(scale / (Current_LSB × R_shunt)). */
  calibrationScale: number;
  /** Largest value the calibration register holds. */
  calibrationMax: number;
  /** Power_LSB / Current_LSB: 20 (INA219) or 25 (INA226). */
  powerRatio: number;
  defaultMaxCurrent: number;
}

const DEFAULT_SHUNT_OHMS = 0.1;

/** The calibration of an INA chip for a shunt and a current LSB (TI's programming equations). */
export function calibration(chip: INAChip, shuntOhms: number, currentLSB: number): number {
  // The tiny epsilon keeps decimal inputs such as 0.1 Ω and 100 µA from truncating to 4095.
  const value = Math.floor(chip.calibrationScale / currentLSB / shuntOhms + 1e-9);
  if (!(value >= 1 && value <= chip.calibrationMax)) {
    throw new Error(
      chip.name + ": calibration " + value + " out of range 1.." + chip.calibrationMax +
        " for shunt_resistance " + shuntOhms + " Ω and current LSB " + currentLSB + " A",
    );
  }
  return value;
}

export abstract class INA {
  protected readonly io: RegisterIO;
  readonly chip: INAChip;
  /** A per bit of the current register. */
  readonly currentLSB: number;
  /** The value written to the calibration register. */
  readonly calibration: number;

  constructor(chip: INAChip, options: INAOptions) {
    const shunt = options.shunt_resistance ?? DEFAULT_SHUNT_OHMS;
    const maxCurrent = options.max_current_amps ?? chip.defaultMaxCurrent;
    if (!(shunt > 0)) throw new Error(chip.name + ": shunt_resistance must be positive");
    if (!(maxCurrent > 0)) throw new Error(chip.name + ": max_current_amps must be positive");
    this.chip = chip;
    this.currentLSB = options.current_lsb ?? maxCurrent / 32768;
    this.calibration = calibration(chip, shunt, this.currentLSB);
    const io = (this.io = new RegisterIO(chip.name, options.sensor, pickAddress(options.sensor, options, 0x40, 0x40)));
    try {
      this.identify();
      io.writeUint16BE(REG_CALIBRATION, this.calibration);
      io.writeUint16BE(REG_CONFIG, this.configuration(shunt * maxCurrent));
    } catch (error) {
      io.close();
      throw error;
    }
  }

  /** Throws unless the chip at the address is the expected one. */
  protected abstract identify(): void;
  /** The configuration register for continuous shunt and bus conversions. */
  protected abstract configuration(maxShuntVolts: number): number;
  /** Reads the raw registers into `target`, in the chip's units. */
  protected abstract measure(target: PowerSample): void;

  /** Reads voltage, current and power. Fills and returns `target` when given. */
  sample(target?: PowerSample): PowerSample {
    const result = target ?? { busVoltage: 0, shuntVoltage: 0, current: 0, power: 0 };
    this.measure(result);
    return result;
  }

  close(): void {
    this.io.close();
  }
}
