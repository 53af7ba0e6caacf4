// TI INA226 current/power monitor (SBOS547). Shunt voltage LSB 2.5 µV, bus voltage LSB 1.25 mV,
// Power_LSB = 25 × Current_LSB, CAL = 0.00512 / (Current_LSB × R_shunt) in 15 bits (§7.5.1);
// manufacturer id 0x5449 ("TI") at 0xFE and die id 0x2260 at 0xFF (§7.6). micro-rdk's default
// max_current_amps is 20.
import { INA, REG_BUS, REG_CURRENT, REG_POWER, REG_SHUNT, type INAChip, type INAOptions, type PowerSample } from "./ina.js";

const REG_MASK_ENABLE = 0x06;
const REG_MANUFACTURER_ID = 0xfe;
const REG_DIE_ID = 0xff;
const MANUFACTURER_TI = 0x5449;
const DIE_INA226 = 0x2260;
const MASK_OVF = 0x0004;
/** AVG 1, VBUSCT 1.1 ms, VSHCT 1.1 ms, shunt and bus continuous: the reset value 0x4127. */
const CONFIG_CONTINUOUS = 0x4127;

export const INA226_CHIP: INAChip = {
  name: "INA226",
  calibrationScale: 0.00512,
  calibrationMax: 0x7fff, // bit 15 is reserved
  powerRatio: 25,
  defaultMaxCurrent: 20,
};

export default class INA226 extends INA {
  constructor(options: INAOptions) {
    super(INA226_CHIP, options);
  }

  protected override identify(): void {
    const io = this.io;
    const manufacturer = io.readUint16BE(REG_MANUFACTURER_ID);
    const die = io.readUint16BE(REG_DIE_ID);
    if (manufacturer !== MANUFACTURER_TI || die !== DIE_INA226) {
      throw io.error(
        "unexpected manufacturer/die id 0x" + manufacturer.toString(16) + "/0x" + die.toString(16) + ", expected 0x5449/0x2260",
      );
    }
  }

  protected override configuration(): number {
    return CONFIG_CONTINUOUS;
  }

  protected override measure(target: PowerSample): void {
    const io = this.io;
    const lsb = this.currentLSB;
    target.shuntVoltage = io.readInt16BE(REG_SHUNT) * 2.5e-6;
    target.busVoltage = io.readUint16BE(REG_BUS) * 1.25e-3;
    target.current = io.readInt16BE(REG_CURRENT) * lsb;
    target.power = io.readUint16BE(REG_POWER) * 25 * lsb;
    if (io.readUint16BE(REG_MASK_ENABLE) & MASK_OVF) target.current = target.power = NaN;
  }
}
