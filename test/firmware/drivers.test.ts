// The firmware sensor drivers against their simulated chips, through the embedded:io/i2c shim,
// checked with the datasheets' worked examples.
import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { busByte, busWord, end, freshWorld, type World } from "./sim.js";
import { BME280Model } from "../../tools/sim/devices/bme280.js";
import { BOSCH_EXAMPLE_TRIMMING, humidityOf, temperatureOf } from "../../tools/sim/devices/bme280-physics.js";
import { INA219Model } from "../../tools/sim/devices/ina219.js";
import { INA226Model } from "../../tools/sim/devices/ina226.js";
import { MPU6050Model } from "../../tools/sim/devices/mpu6050.js";
import { ADXL345Model } from "../../tools/sim/devices/adxl345.js";

const { default: I2C } = await import("embedded:io/i2c");
const { default: BME280 } = await import("../../firmware/drivers/bme280.js");
const { default: INA219 } = await import("../../firmware/drivers/ina219.js");
const { default: INA226 } = await import("../../firmware/drivers/ina226.js");
const { default: MPU6050 } = await import("../../firmware/drivers/mpu6050.js");
const { default: ADXL345 } = await import("../../firmware/drivers/adxl345.js");

const PINS = { data: 21, clock: 22 };
const sensor = { io: I2C, ...PINS };
const G = 9.80665;

let w: World;
beforeEach(() => {
  w = freshWorld();
});
afterEach(() => end(w));

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
}

/** BME280_compensate_P_int64 (datasheet §4.2.3) with BigInt, as the reference for the driver's exact-double version. */
function pressureInt64(tFine: number, adcP: number): number {
  const t = BOSCH_EXAMPLE_TRIMMING;
  const B = BigInt;
  let var1 = B(tFine) - 128000n;
  let var2 = var1 * var1 * B(t.P6);
  var2 = var2 + ((var1 * B(t.P5)) << 17n);
  var2 = var2 + (B(t.P4) << 35n);
  var1 = ((var1 * var1 * B(t.P3)) >> 8n) + ((var1 * B(t.P2)) << 12n);
  var1 = (((1n << 47n) + var1) * B(t.P1)) >> 33n;
  if (var1 === 0n) return 0;
  let p = 1048576n - B(adcP);
  p = (((p << 31n) - var2) * 3125n) / var1;
  var1 = (B(t.P9) * (p >> 13n) * (p >> 13n)) >> 25n;
  var2 = (B(t.P8) * p) >> 19n;
  p = ((p + var1 + var2) >> 8n) + (B(t.P7) << 4n);
  return Number(p) / 256;
}

describe("BME280", () => {
  test("Bosch's worked example: adc_T 519888, adc_P 415148 → 25.08 °C, 100653.25 Pa (published 100653.27)", () => {
    const chip = w.i2c(PINS).attach(0x76, new BME280Model());
    chip.setRaw({ adcT: 519888, adcP: 415148, adcH: 0x6f00 });
    const bme = new BME280({ sensor });
    const s = bme.sample();
    assert.equal(s.temperature, 25.08); // BME280_compensate_T_int32 → 2508, t_fine 128422
    assert.equal(s.pressure, 25767233 / 256); // BME280_compensate_P_int64 → 25767233 (Q24.8)
    near(s.pressure, 100653.27, 0.02, "pressure against Bosch's floating-point result");
    // Humidity: Bosch publishes no example; the 32-bit formula must agree with its double version.
    near(s.humidity, humidityOf(BOSCH_EXAMPLE_TRIMMING, 128422, 0x6f00), 0.01, "humidity");
    assert.equal(temperatureOf(BOSCH_EXAMPLE_TRIMMING, 519888).tFine, 128422);
    bme.close();
  });

  test("pressure compensation equals the 64-bit reference across the ADC range", () => {
    const chip = w.i2c(PINS).attach(0x76, new BME280Model());
    const bme = new BME280({ sensor });
    for (let adcT = 380000; adcT <= 640000; adcT += 26000) {
      for (let adcP = 200000; adcP <= 700000; adcP += 25000) {
        chip.setRaw({ adcT, adcP, adcH: 30000 });
        const s = bme.sample();
        assert.equal(s.pressure, pressureInt64(integerTemperatureFine(adcT), adcP), `adc_T ${adcT}, adc_P ${adcP}`);
      }
    }
    bme.close();
  });

  test("reads back the environment the simulated chip is in", () => {
    const chip = w.i2c(PINS).attach(0x76, new BME280Model());
    const bme = new BME280({ sensor });
    for (const env of [
      { temperature: 21.5, pressure: 98765, humidity: 42.5 },
      { temperature: -12.25, pressure: 80000, humidity: 90 },
      { temperature: 60, pressure: 110000, humidity: 5 },
    ]) {
      chip.setEnvironment(env);
      const s = bme.sample();
      near(s.temperature, env.temperature, 0.01, "temperature"); // 16-bit: 0.005 °C resolution (Table 3)
      near(s.pressure, env.pressure, 3, "pressure"); // 16-bit: 2.62 Pa resolution
      near(s.humidity, env.humidity, 0.1, "humidity");
    }
    bme.close();
  });

  test("configures normal mode, ×1 oversampling, filter off, 62.5 ms standby; sleeps on close", () => {
    const bus = w.i2c(PINS);
    bus.attach(0x76, new BME280Model());
    const bme = new BME280({ sensor });
    assert.equal(busByte(bus, 0x76, 0xf2), 0x01); // ctrl_hum: osrs_h ×1
    assert.equal(busByte(bus, 0x76, 0xf5), 0x20); // config: t_sb 62.5 ms, filter off
    assert.equal(busByte(bus, 0x76, 0xf4), 0x27); // ctrl_meas: osrs_t ×1, osrs_p ×1, normal
    bus.trace = [];
    bme.sample();
    assert.deepEqual(
      bus.trace.map((t) => [t.direction, t.bytes.length, t.stop]),
      [["write", 1, false], ["read", 8, true]], // pointer 0xF7 with a repeated start, one 8-byte burst
    );
    assert.equal(bus.trace[0].bytes[0], 0xf7);
    bme.close();
    assert.equal(busByte(bus, 0x76, 0xf4) & 3, 0); // sleep mode
  });

  test("use_alt_i2c_address selects 0x77 (SDO to VDDIO)", () => {
    w.i2c(PINS).attach(0x77, new BME280Model({ environment: { temperature: 30 } }));
    const bme = new BME280({ sensor, use_alt_i2c_address: true });
    near(bme.sample().temperature, 30, 0.01, "temperature");
    bme.close();
  });

  test("a BMP280 (chip id 0x58) is refused with the device named", () => {
    w.i2c(PINS).attach(0x76, new BME280Model({ chipId: 0x58 }));
    assert.throws(() => new BME280({ sensor }), {
      message: "BME280 at 0x76: unexpected chip id 0x58 at register 0xd0, expected 0x60",
    });
    // The bus was released: a second attempt reaches the chip again rather than "duplicate address".
    assert.throws(() => new BME280({ sensor }), /unexpected chip id/);
  });

  test("no chip at the address: the I2C failure is reported with the device and register", () => {
    assert.throws(() => new BME280({ sensor }), {
      message: "BME280 at 0x76: I2C read of register 0xd0 failed (write failed)",
    });
  });
});

/** BME280_compensate_T_int32's t_fine, computed independently of the driver for the reference. */
function integerTemperatureFine(adcT: number): number {
  const t = BOSCH_EXAMPLE_TRIMMING;
  const var1 = (((adcT >> 3) - (t.T1 << 1)) * t.T2) >> 11;
  const d = (adcT >> 4) - t.T1;
  const var2 = (((d * d) >> 12) * t.T3) >> 14;
  return var1 + var2;
}

describe("INA219", () => {
  test("TI's configure/measure/calculate example (SBOS448 Table 7): 10 A, 12 V, 2 mΩ, 1 mA/bit", () => {
    const bus = w.i2c(PINS);
    bus.attach(0x40, new INA219Model({ shuntOhms: 0.002, load: { supplyVolts: 12, amps: 10 } }));
    const ina = new INA219({ sensor, shunt_resistance: 0.002, max_current_amps: 10, current_lsb: 0.001 });
    assert.equal(ina.calibration, 20480);
    const s = ina.sample();
    assert.equal(busWord(bus, 0x40, 0x05), 0x5000); // calibration 20480
    assert.equal(busWord(bus, 0x40, 0x01), 0x07d0); // shunt 2000 × 10 µV = 20 mV
    assert.equal(busWord(bus, 0x40, 0x02) & 0xfff8, 0x5d98); // bus 2995 × 4 mV = 11.98 V
    assert.equal(busWord(bus, 0x40, 0x04), 0x2710); // current 10000 × 1 mA
    assert.equal(busWord(bus, 0x40, 0x03), 0x1766); // power 5990 × 20 mW
    assert.equal(busWord(bus, 0x40, 0x00), 0x219f); // 32 V range, PGA /1 (40 mV), 12-bit, continuous
    near(s.shuntVoltage, 0.02, 1e-12, "shunt voltage");
    near(s.busVoltage, 11.98, 1e-12, "bus voltage");
    near(s.current, 10, 1e-12, "current");
    near(s.power, 119.8, 1e-12, "power");
    ina.close();
  });

  test("32 V, 2 A expected, 0.1 Ω, 100 µA/bit → Cal 4096; micro-rdk's defaults → Cal 4194", () => {
    const bus = w.i2c(PINS);
    bus.attach(0x40, new INA219Model({ load: { supplyVolts: 5, amps: 1.5 } }));
    const ina = new INA219({ sensor, shunt_resistance: 0.1, max_current_amps: 2, current_lsb: 0.0001 });
    assert.equal(ina.calibration, 4096);
    assert.equal(busWord(bus, 0x40, 0x05), 4096);
    const s = ina.sample();
    near(s.current, 1.5, 1e-9, "current"); // 15000 × 100 µA
    near(s.busVoltage, 4.848, 1e-9, "bus voltage"); // 5 V minus the 150 mV shunt drop
    near(s.power, 7.272, 0.002, "power"); // Power_LSB 2 mW
    ina.close();

    const defaults = new INA219({ sensor });
    assert.equal(defaults.currentLSB, 3.2 / 32768); // TI eq. 2 with micro-rdk's 3.2 A
    assert.equal(defaults.calibration, 4194); // trunc(0.04096 / (97.65625 µA × 0.1 Ω))
    assert.equal(busWord(bus, 0x40, 0x00), 0x399f); // 320 mV needs PGA /8
    near(defaults.sample().current, 1.5, 0.001, "current");
    defaults.close();
  });

  test("a chip that is not an INA219 is refused", () => {
    w.i2c(PINS).attach(0x40, new INA226Model());
    assert.throws(() => new INA219({ sensor }), /^Error: INA219 at 0x40: unexpected configuration 0x4127 after reset/);
  });

  test("a calibration out of range is refused before touching the bus", () => {
    assert.throws(() => new INA219({ sensor, shunt_resistance: 0.001, max_current_amps: 0.5 }), /INA219: calibration \d+ out of range/);
  });
});

describe("INA226", () => {
  test("TI's configure/measure/calculate example (SBOS547 Table 1): 10 A, 12 V, 2 mΩ, 1 mA/bit", () => {
    const bus = w.i2c(PINS);
    bus.attach(0x40, new INA226Model({ shuntOhms: 0.002, load: { supplyVolts: 12, amps: 10 } }));
    const ina = new INA226({ sensor, shunt_resistance: 0.002, max_current_amps: 15, current_lsb: 0.001 });
    assert.equal(ina.calibration, 2560); // 0.00512 / (1 mA × 2 mΩ)
    const s = ina.sample();
    assert.equal(busWord(bus, 0x40, 0x00), 0x4127);
    assert.equal(busWord(bus, 0x40, 0x01), 0x1f40); // 8000 × 2.5 µV = 20 mV
    assert.equal(busWord(bus, 0x40, 0x02), 0x2570); // 9584 × 1.25 mV = 11.98 V
    assert.equal(busWord(bus, 0x40, 0x05), 0x0a00);
    assert.equal(busWord(bus, 0x40, 0x04), 0x2710); // 10000 × 1 mA
    assert.equal(busWord(bus, 0x40, 0x03), 0x12b8); // 4792 × 25 mW
    near(s.shuntVoltage, 0.02, 1e-12, "shunt voltage");
    near(s.busVoltage, 11.98, 1e-12, "bus voltage");
    near(s.current, 10, 1e-12, "current");
    near(s.power, 119.8, 1e-12, "power");
    ina.close();
  });

  test("TI's minimum current LSB for 15 A is 457.7 µA/bit; the default uses it", () => {
    w.i2c(PINS).attach(0x40, new INA226Model({ shuntOhms: 0.002, load: { supplyVolts: 12, amps: 10 } }));
    const ina = new INA226({ sensor, shunt_resistance: 0.002, max_current_amps: 15 });
    near(ina.currentLSB * 1e6, 457.7, 0.1, "Current_LSB µA"); // 15 A / 2^15, which TI rounds to 457.7
    assert.equal(ina.calibration, 5592); // trunc(0.00512 / (15/32768 × 0.002))
    // The truncated calibration and current register cost a few LSB: 8000 × 5592 / 2048 = 21843.
    near(ina.sample().current, 21843 * ina.currentLSB, 1e-12, "current");
    near(ina.sample().current, 10, 3 * ina.currentLSB, "current");
    ina.close();
  });

  test("manufacturer and die id are checked", () => {
    w.i2c(PINS).attach(0x40, new INA219Model());
    assert.throws(() => new INA226({ sensor }), {
      message: "INA226 at 0x40: unexpected manufacturer/die id 0x0/0x0, expected 0x5449/0x2260",
    });
  });
});

describe("MPU6050", () => {
  test("at rest and level: +1 g on z, no rotation; gyro and tilt follow the simulated motion", () => {
    const bus = w.i2c(PINS);
    const chip = bus.attach(0x68, new MPU6050Model({ temperature: 31 }));
    const mpu = new MPU6050({ sensor });
    assert.equal(busByte(bus, 0x68, 0x6b), 0x01); // awake on the X-gyro PLL
    let s = mpu.sample();
    near(s.az, G, 0.01, "az");
    near(s.ax, 0, 0.01, "ax");
    near(s.ay, 0, 0.01, "ay");
    near(s.gx, 0, 0.01, "gx");
    near(s.temperature, 31, 0.01, "temperature");
    chip.setMotion({ angularVelocity: { x: 10, y: -45.5, z: 200 }, pitch: 90 });
    s = mpu.sample(s); // fills the object given
    near(s.gx, 10, 0.01, "gx");
    near(s.gy, -45.5, 0.01, "gy");
    near(s.gz, 200, 0.01, "gz");
    near(s.ax, -G, 0.01, "ax when pitched up 90°");
    near(s.az, 0, 0.01, "az when pitched up 90°");
    mpu.close();
    assert.equal(busByte(bus, 0x68, 0x6b), 0x40); // asleep again, as micro-rdk leaves it
  });

  test("ranges: ±8 g and ±2000 °/s", () => {
    const bus = w.i2c(PINS);
    bus.attach(0x69, new MPU6050Model({ motion: { acceleration: { x: 0, y: 0, z: 3 * G }, angularVelocity: { x: 0, y: 0, z: 1500 } } }));
    const mpu = new MPU6050({ sensor, use_alt_i2c_address: true, accel_range_g: 8, gyro_range_dps: 2000 });
    assert.equal(busByte(bus, 0x69, 0x1c), 2 << 3);
    assert.equal(busByte(bus, 0x69, 0x1b), 3 << 3);
    const s = mpu.sample();
    near(s.az, 4 * G, 0.01, "az");
    near(s.gz, 1500, 0.1, "gz");
    mpu.close();
  });

  test("a wrong WHO_AM_I is refused", () => {
    w.i2c(PINS).attach(0x68, new ADXL345Model());
    assert.throws(() => new MPU6050({ sensor }), {
      message: "MPU6050 at 0x68: unexpected WHO_AM_I 0x00 at register 0x75, expected 0x68",
    });
  });
});

describe("ADXL345", () => {
  test("at rest and level: +1 g on z; full resolution, ±16 g, measuring", () => {
    const bus = w.i2c(PINS);
    const chip = bus.attach(0x53, new ADXL345Model());
    const adxl = new ADXL345({ sensor });
    assert.equal(busByte(bus, 0x53, 0x31), 0x0b); // FULL_RES | ±16 g
    assert.equal(busByte(bus, 0x53, 0x2d), 0x08); // Measure
    const s = adxl.sample();
    near(s.az, G, G / 256, "az"); // 3.9 mg/LSB
    near(s.ax, 0, G / 256, "ax");
    chip.setMotion({ roll: 90 });
    near(adxl.sample().ay, G, G / 256, "ay when rolled 90°");
    chip.setMotion({ roll: 0, acceleration: { x: 12 * G, y: 0, z: 0 } });
    near(adxl.sample().ax, 12 * G, G / 256, "ax at 12 g (13 bits at ±16 g)");
    adxl.close();
    assert.equal(busByte(bus, 0x53, 0x2d), 0x00); // standby
  });

  test("use_alt_i2c_address selects 0x1D; a wrong DEVID is refused", () => {
    w.i2c(PINS).attach(0x1d, new ADXL345Model());
    const adxl = new ADXL345({ sensor, use_alt_i2c_address: true });
    near(adxl.sample().az, G, G / 256, "az");
    adxl.close();
    w.i2c(PINS).attach(0x53, new MPU6050Model());
    assert.throws(() => new ADXL345({ sensor }), {
      message: "ADXL345 at 0x53: unexpected DEVID 0x00 at register 0x00, expected 0xe5",
    });
  });
});
