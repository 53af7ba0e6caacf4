// TI INA219 bidirectional current/power monitor (SBOS448). Shunt voltage LSB 10 µV (§8.6.3.1), bus
// voltage in bits 15-3 with a 4 mV LSB, CNVR in bit 1 and the math-overflow flag in bit 0
// (§8.6.3.2), Power_LSB = 20 × Current_LSB (§8.5.1). micro-rdk's default max_current_amps is 3.2.
// The chip has no identification register: it is recognised by its configuration reset value.
import { INA, REG_BUS, REG_CONFIG, REG_CURRENT, REG_POWER, REG_SHUNT, type INAChip, type INAOptions, type PowerSample } from "./ina.js";

const CONFIG_RESET = 0x8000;
const CONFIG_DEFAULT = 0x399f;
const BRNG_32V = 1 << 13;
const ADC_12_BIT = 0b0011; // 532 µs per conversion
const MODE_SHUNT_AND_BUS_CONTINUOUS = 0b111;
const BUS_OVF = 0x0001;

export const INA219_CHIP: INAChip = {
  name: "INA219",
  calibrationScale: 0.04096,
  calibrationMax: 0xfffe, // bit 0 is void (§8.6.3.5)
  powerRatio: 20,
  defaultMaxCurrent: 3.2,
};

export default class INA219 extends INA {
  constructor(options: INAOptions) {
    super(INA219_CHIP, options);
  }

  protected override identify(): void {
    const io = this.io;
    io.writeUint16BE(REG_CONFIG, CONFIG_RESET);
    const config = io.readUint16BE(REG_CONFIG);
    if (config !== CONFIG_DEFAULT) {
      throw io.error("unexpected configuration 0x" + config.toString(16) + " after reset, expected 0x399f (is this an INA219?)");
    }
  }

  protected override configuration(maxShuntVolts: number): number {
    // The smallest PGA range (±40, 80, 160, 320 mV) that holds the expected shunt voltage.
    const gain = maxShuntVolts <= 0.04 ? 0 : maxShuntVolts <= 0.08 ? 1 : maxShuntVolts <= 0.16 ? 2 : 3;
    return BRNG_32V | (gain << 11) | (ADC_12_BIT << 7) | (ADC_12_BIT << 3) | MODE_SHUNT_AND_BUS_CONTINUOUS;
  }

  protected override measure(target: PowerSample): void {
    const io = this.io;
    const lsb = this.currentLSB;
    target.shuntVoltage = io.readInt16BE(REG_SHUNT) * 10e-6;
    const bus = io.readUint16BE(REG_BUS);
    target.busVoltage = (bus >> 3) * 0.004;
    target.current = io.readInt16BE(REG_CURRENT) * lsb;
    target.power = io.readUint16BE(REG_POWER) * 20 * lsb;
    if (bus & BUS_OVF) target.current = target.power = NaN;
  }
}
