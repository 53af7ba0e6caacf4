// InvenSense MPU-6050 accelerometer and gyroscope (register map RM-MPU-6000A-00 rev 4.2).
// micro-rdk model `gyro-mpu6050`: address 0x68 (AD0 low), 0x69 with `use_alt_i2c_address`.
// The chip powers up asleep (PWR_MGMT_1 = 0x40); the driver wakes it on the X-gyro PLL clock the
// register map recommends, sets the ranges, and reads accel, temperature and gyro in one burst.
import Timer from "timer";
import { RegisterIO, pickAddress, type AddressAttributes, type I2CSensorOptions } from "./registers.js";

const REG_GYRO_CONFIG = 0x1b;
const REG_ACCEL_CONFIG = 0x1c;
const REG_ACCEL_XOUT_H = 0x3b; // ACCEL_XOUT_H .. GYRO_ZOUT_L: 14 bytes
const REG_PWR_MGMT_1 = 0x6b;
const REG_WHO_AM_I = 0x75;

const WHO_AM_I = 0x68; // bits 6:1, whatever AD0 is
const PWR_SLEEP = 0x40;
const PWR_CLOCK_PLL_X_GYRO = 0x01;
/** Gyroscope start-up time (product specification §6.1). */
const START_UP_MS = 30;
const STANDARD_GRAVITY = 9.80665;

const ACCEL_RANGES_G = [2, 4, 8, 16];
const ACCEL_LSB_PER_G = [16384, 8192, 4096, 2048]; // product specification §6.2
const GYRO_RANGES_DPS = [250, 500, 1000, 2000];
const GYRO_LSB_PER_DPS = [131, 65.5, 32.8, 16.4]; // product specification §6.1

export interface MPU6050Options extends AddressAttributes {
  sensor: I2CSensorOptions;
  /** ±g full scale: 2 (default), 4, 8 or 16. */
  accel_range_g?: number;
  /** ±°/s full scale: 250 (default), 500, 1000 or 2000. */
  gyro_range_dps?: number;
}

export interface MPU6050Sample {
  /** Linear acceleration, m/s². */
  ax: number;
  ay: number;
  az: number;
  /** Angular velocity, °/s. */
  gx: number;
  gy: number;
  gz: number;
  /** Die temperature, °C. */
  temperature: number;
}

function rangeIndex(ranges: number[], value: number, what: string): number {
  const index = ranges.indexOf(value);
  if (index < 0) throw new Error("MPU6050: " + what + " must be one of " + ranges.join(", "));
  return index;
}

export default class MPU6050 {
  #io: RegisterIO;
  readonly #raw = new Uint8Array(14);
  readonly #view = new DataView(this.#raw.buffer);
  /** m/s² per LSB */
  readonly #accelScale: number;
  /** °/s per LSB */
  readonly #gyroScale: number;

  constructor(options: MPU6050Options) {
    const accel = rangeIndex(ACCEL_RANGES_G, options.accel_range_g ?? 2, "accel_range_g");
    const gyro = rangeIndex(GYRO_RANGES_DPS, options.gyro_range_dps ?? 250, "gyro_range_dps");
    this.#accelScale = STANDARD_GRAVITY / ACCEL_LSB_PER_G[accel];
    this.#gyroScale = 1 / GYRO_LSB_PER_DPS[gyro];
    const io = (this.#io = new RegisterIO("MPU6050", options.sensor, pickAddress(options.sensor, options, 0x68, 0x69)));
    try {
      io.expectId(REG_WHO_AM_I, 0x7e, WHO_AM_I, "WHO_AM_I");
      io.writeUint8(REG_PWR_MGMT_1, PWR_CLOCK_PLL_X_GYRO);
      io.writeUint8(REG_ACCEL_CONFIG, accel << 3);
      io.writeUint8(REG_GYRO_CONFIG, gyro << 3);
      Timer.delay(START_UP_MS);
    } catch (error) {
      io.close();
      throw error;
    }
  }

  /** Reads one burst of accel, temperature and gyro. Fills and returns `target` when given. */
  sample(target?: MPU6050Sample): MPU6050Sample {
    this.#io.read(REG_ACCEL_XOUT_H, this.#raw);
    const v = this.#view;
    const result = target ?? { ax: 0, ay: 0, az: 0, gx: 0, gy: 0, gz: 0, temperature: 0 };
    const a = this.#accelScale;
    const g = this.#gyroScale;
    result.ax = v.getInt16(0) * a;
    result.ay = v.getInt16(2) * a;
    result.az = v.getInt16(4) * a;
    result.temperature = v.getInt16(6) / 340 + 36.53; // register map §4.18
    result.gx = v.getInt16(8) * g;
    result.gy = v.getInt16(10) * g;
    result.gz = v.getInt16(12) * g;
    return result;
  }

  /** Puts the chip back to sleep, as micro-rdk does on drop, and releases the bus. */
  close(): void {
    try {
      this.#io.writeUint8(REG_PWR_MGMT_1, PWR_SLEEP);
    } finally {
      this.#io.close();
    }
  }
}
