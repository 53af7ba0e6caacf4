// Analog Devices ADXL345 accelerometer (datasheet rev. G, register map Table 19).
// micro-rdk model `accel-adxl345`: address 0x53 (ALT ADDRESS low), 0x1D with `use_alt_i2c_address`.
// Full-resolution mode keeps 3.9 mg/LSB (256 LSB/g typical) at every range; data are little-endian.
import Timer from "timer";
import { RegisterIO, pickAddress, type AddressAttributes, type I2CSensorOptions } from "./registers.js";

const REG_DEVID = 0x00;
const REG_POWER_CTL = 0x2d;
const REG_DATA_FORMAT = 0x31;
const REG_DATAX0 = 0x32; // DATAX0 .. DATAZ1: 6 bytes

const DEVID = 0xe5;
const POWER_CTL_MEASURE = 0x08;
const DATA_FORMAT_FULL_RES = 0x08;
/** Turn-on time: 1.1 ms + 1/ODR at the default 100 Hz (Table 1). */
const TURN_ON_MS = 12;
const LSB_PER_G = 256;
const STANDARD_GRAVITY = 9.80665;

const RANGES_G = [2, 4, 8, 16];

export interface ADXL345Options extends AddressAttributes {
  sensor: I2CSensorOptions;
  /** ±g range: 2, 4, 8 or 16 (default). */
  range_g?: number;
}

export interface ADXL345Sample {
  /** Acceleration, m/s². */
  ax: number;
  ay: number;
  az: number;
}

export default class ADXL345 {
  #io: RegisterIO;
  readonly #raw = new Uint8Array(6);
  readonly #view = new DataView(this.#raw.buffer);

  constructor(options: ADXL345Options) {
    const range = RANGES_G.indexOf(options.range_g ?? 16);
    if (range < 0) throw new Error("ADXL345: range_g must be one of " + RANGES_G.join(", "));
    const io = (this.#io = new RegisterIO("ADXL345", options.sensor, pickAddress(options.sensor, options, 0x53, 0x1d)));
    try {
      io.expectId(REG_DEVID, 0xff, DEVID, "DEVID");
      io.writeUint8(REG_DATA_FORMAT, DATA_FORMAT_FULL_RES | range);
      io.writeUint8(REG_POWER_CTL, POWER_CTL_MEASURE);
      Timer.delay(TURN_ON_MS);
    } catch (error) {
      io.close();
      throw error;
    }
  }

  /** Reads X, Y and Z in one burst. Fills and returns `target` when given. */
  sample(target?: ADXL345Sample): ADXL345Sample {
    this.#io.read(REG_DATAX0, this.#raw);
    const v = this.#view;
    const result = target ?? { ax: 0, ay: 0, az: 0 };
    const scale = STANDARD_GRAVITY / LSB_PER_G;
    result.ax = v.getInt16(0, true) * scale;
    result.ay = v.getInt16(2, true) * scale;
    result.az = v.getInt16(4, true) * scale;
    return result;
  }

  /** Back to standby, as micro-rdk does on drop, and releases the bus. */
  close(): void {
    try {
      this.#io.writeUint8(REG_POWER_CTL, 0);
    } finally {
      this.#io.close();
    }
  }
}
