// The simulated chips on their own, at register level, with a hand-driven clock: the datasheet
// behaviours the drivers do not exercise.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { I2CBus } from "../../tools/sim/i2c-bus.js";
import { BME280Model } from "../../tools/sim/devices/bme280.js";
import { INA219Model } from "../../tools/sim/devices/ina219.js";
import { INA226Model } from "../../tools/sim/devices/ina226.js";
import { MPU6050Model } from "../../tools/sim/devices/mpu6050.js";
import { ADXL345Model } from "../../tools/sim/devices/adxl345.js";
import { busByte, busWord } from "./sim.js";

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function writeBytes(bus: I2CBus, address: number, ...bytes: number[]): void {
  assert.ok(bus.write(address, Uint8Array.from(bytes), true));
}

function readBytes(bus: I2CBus, address: number, register: number, length: number): number[] {
  const into = new Uint8Array(length);
  bus.write(address, Uint8Array.of(register), false);
  bus.read(address, into, true);
  return [...into];
}

describe("BME280 model", () => {
  test("forced mode: status.measuring for the measurement time, then data and back to sleep", () => {
    const time = clock();
    const bus = new I2CBus(21, 22);
    bus.attach(0x76, new BME280Model({ clock: time.now, environment: { temperature: 22 } }));
    assert.deepEqual(readBytes(bus, 0x76, 0xf7, 8), [0x80, 0, 0, 0x80, 0, 0, 0x80, 0]); // reset values
    writeBytes(bus, 0x76, 0xf2, 0x01, 0xf4, 0b001_001_01); // pairs: ctrl_hum ×1, then ctrl_meas forced
    assert.equal(busByte(bus, 0x76, 0xf3) & 0x08, 0x08); // measuring
    time.advance(9); // below the 9.3 ms maximum
    assert.equal(readBytes(bus, 0x76, 0xfa, 1)[0], 0x80); // still the old data
    time.advance(1);
    assert.equal(busByte(bus, 0x76, 0xf3), 0);
    const data = readBytes(bus, 0x76, 0xf7, 8);
    assert.notEqual(data[3], 0x80);
    assert.equal(data[5] & 0xf0, 0); // ×1 oversampling: 16-bit temperature, xlsb empty
    assert.equal(busByte(bus, 0x76, 0xf4) & 3, 0); // back in sleep mode
  });

  test("ctrl_hum applies at the next ctrl_meas write; skipped channels read 0x80000 / 0x8000", () => {
    const time = clock();
    const bus = new I2CBus(21, 22);
    bus.attach(0x76, new BME280Model({ clock: time.now }));
    writeBytes(bus, 0x76, 0xf4, 0b001_000_01); // forced, temperature only
    writeBytes(bus, 0x76, 0xf2, 0x01); // humidity ×1: not yet effective
    time.advance(10);
    const data = readBytes(bus, 0x76, 0xf7, 8);
    assert.deepEqual([data[0], data[1], data[2]], [0x80, 0, 0]);
    assert.deepEqual([data[6], data[7]], [0x80, 0]);
    assert.notEqual(data[3], 0x80);
  });

  test("soft reset: 0xB6 at 0xE0 restores defaults with im_update while the NVM is copied", () => {
    const time = clock();
    const bus = new I2CBus(21, 22);
    bus.attach(0x76, new BME280Model({ clock: time.now }));
    writeBytes(bus, 0x76, 0xf5, 0xa0, 0xf4, 0x27);
    writeBytes(bus, 0x76, 0xe0, 0xb6);
    assert.equal(busByte(bus, 0x76, 0xf3) & 1, 1);
    time.advance(1);
    assert.equal(busByte(bus, 0x76, 0xf3), 0);
    assert.deepEqual([busByte(bus, 0x76, 0xf4), busByte(bus, 0x76, 0xf5), busByte(bus, 0x76, 0xd0)], [0, 0, 0x60]);
    writeBytes(bus, 0x76, 0xe0, 0x12); // any other value is ignored
    assert.equal(busByte(bus, 0x76, 0xf3), 0);
  });
});

describe("INA219 model", () => {
  test("CNVR sets after a conversion and clears on a power read; reset restores 0x399F", () => {
    const time = clock();
    const bus = new I2CBus(21, 22);
    bus.attach(0x40, new INA219Model({ clock: time.now, load: { supplyVolts: 5, amps: 0.5 } }));
    assert.equal(busWord(bus, 0x40, 0x00), 0x399f);
    assert.equal(busWord(bus, 0x40, 0x02) & 2, 0);
    time.advance(1.1); // 532 µs shunt + 532 µs bus
    assert.equal(busWord(bus, 0x40, 0x02) & 2, 2);
    assert.equal(busWord(bus, 0x40, 0x04), 0); // no calibration, no current
    busWord(bus, 0x40, 0x03);
    assert.equal(busWord(bus, 0x40, 0x02) & 2, 0);
    time.advance(1.1);
    assert.equal(busWord(bus, 0x40, 0x02) & 2, 2);
    writeBytes(bus, 0x40, 0x05, 0x10, 0x01); // 4097: bit 0 is void
    assert.equal(busWord(bus, 0x40, 0x05), 4096);
    assert.equal(busWord(bus, 0x40, 0x04), 5000); // 5000 × 10 µV × 4096 / 4096
    writeBytes(bus, 0x40, 0x00, 0x80, 0x00);
    assert.deepEqual([busWord(bus, 0x40, 0x00), busWord(bus, 0x40, 0x05)], [0x399f, 0]);
  });

  test("the shunt register clips at the PGA range", () => {
    const bus = new I2CBus(21, 22);
    bus.attach(0x40, new INA219Model({ load: { supplyVolts: 5, amps: 1 } })); // 100 mV across 0.1 Ω
    writeBytes(bus, 0x40, 0x00, 0x01, 0x9f); // PGA /1: ±40 mV
    assert.equal(busWord(bus, 0x40, 0x01), 4000);
  });
});

describe("INA226 model", () => {
  test("ids, reserved configuration bits, CVRF cleared by reading Mask/Enable", () => {
    const time = clock();
    const bus = new I2CBus(21, 22);
    bus.attach(0x40, new INA226Model({ clock: time.now }));
    assert.deepEqual([busWord(bus, 0x40, 0xfe), busWord(bus, 0x40, 0xff)], [0x5449, 0x2260]);
    writeBytes(bus, 0x40, 0x00, 0x00, 0x07);
    assert.equal(busWord(bus, 0x40, 0x00), 0x4007);
    time.advance(0.3); // 140 µs + 140 µs
    assert.equal(busWord(bus, 0x40, 0x06) & 0x08, 0x08);
    assert.equal(busWord(bus, 0x40, 0x06) & 0x08, 0);
  });
});

describe("MPU-6050 model", () => {
  test("asleep at power-on with outputs at 0; DEVICE_RESET restores it; burst writes auto-increment", () => {
    const bus = new I2CBus(21, 22);
    bus.attach(0x68, new MPU6050Model());
    assert.equal(busByte(bus, 0x68, 0x6b), 0x40);
    assert.deepEqual(readBytes(bus, 0x68, 0x3f, 2), [0, 0]);
    writeBytes(bus, 0x68, 0x6b, 0x00);
    assert.deepEqual(readBytes(bus, 0x68, 0x3f, 2), [0x40, 0x00]); // +1 g = 16384
    writeBytes(bus, 0x68, 0x1b, 0x08, 0x10); // GYRO_CONFIG, ACCEL_CONFIG in one burst
    assert.deepEqual(readBytes(bus, 0x68, 0x1b, 2), [0x08, 0x10]);
    writeBytes(bus, 0x68, 0x75, 0x00); // WHO_AM_I is read-only
    writeBytes(bus, 0x68, 0x6b, 0x80);
    assert.deepEqual([busByte(bus, 0x68, 0x6b), busByte(bus, 0x68, 0x1c), busByte(bus, 0x68, 0x75)], [0x40, 0, 0x68]);
  });
});

describe("ADXL345 model", () => {
  test("power-on values, reserved registers, 10-bit ranges without FULL_RES, standby holds", () => {
    const bus = new I2CBus(21, 22);
    const chip = bus.attach(0x53, new ADXL345Model());
    assert.deepEqual([busByte(bus, 0x53, 0x00), busByte(bus, 0x53, 0x2c), busByte(bus, 0x53, 0x30)], [0xe5, 0x0a, 0x02]);
    writeBytes(bus, 0x53, 0x10, 0x55);
    assert.equal(busByte(bus, 0x53, 0x10), 0); // reserved
    writeBytes(bus, 0x53, 0x2d, 0x08); // measure, ±2 g 10-bit: 256 LSB/g
    assert.deepEqual(readBytes(bus, 0x53, 0x36, 2), [0x00, 0x01]);
    writeBytes(bus, 0x53, 0x31, 0x01); // ±4 g 10-bit: 128 LSB/g
    assert.deepEqual(readBytes(bus, 0x53, 0x36, 2), [0x80, 0x00]);
    chip.setMotion({ acceleration: { x: 0, y: 0, z: 9 * 9.80665 } }); // 10 g: clips at 511
    assert.deepEqual(readBytes(bus, 0x53, 0x36, 2), [0xff, 0x01]);
    writeBytes(bus, 0x53, 0x2d, 0x00); // standby: data hold
    chip.setMotion({ acceleration: { x: 0, y: 0, z: 0 } });
    assert.deepEqual(readBytes(bus, 0x53, 0x36, 2), [0xff, 0x01]);
  });
});
