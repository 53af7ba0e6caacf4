// The firmware sensor drivers, unmodified, on both engines against the same simulated chips: on
// real XS (xsnap) they must give exactly the numbers they give on Node, the datasheets' worked
// examples included. Also reports the XS heap the drivers take at steady state.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DRIVERS, ENGINES, start } from "./engines.js";
import { World } from "../../tools/sim/world.js";
import { BME280Model } from "../../tools/sim/devices/bme280.js";
import { INA219Model } from "../../tools/sim/devices/ina219.js";
import { INA226Model } from "../../tools/sim/devices/ina226.js";
import { MPU6050Model } from "../../tools/sim/devices/mpu6050.js";
import { ADXL345Model } from "../../tools/sim/devices/adxl345.js";
import type { EngineName } from "../../tools/sim/xs/runner.js";

const PINS = { data: 21, clock: 22 };
const SENSOR = "{ io: modules.I2C.default, data: 21, clock: 22 }";
const G = 9.80665;

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
}

interface Sample {
  [key: string]: number;
}

async function withFirmware<T>(engine: EngineName, world: World, body: (run: <R>(code: string) => Promise<R>) => Promise<T>): Promise<T> {
  const fw = await start(engine, { world, expose: DRIVERS });
  try {
    return await body((code) => fw.run(code));
  } finally {
    await fw.stop();
  }
}

for (const engine of ENGINES) {
  describe(`sensor drivers on ${engine}`, () => {
    test("BME280: Bosch's worked example → 25.08 °C, 25767233/256 Pa", async () => {
      const world = new World();
      world.i2c(PINS).attach(0x76, new BME280Model()).setRaw({ adcT: 519888, adcP: 415148, adcH: 0x6f00 });
      const s = await withFirmware(engine, world, (run) =>
        run<Sample>(`const bme = new modules.BME280.default({ sensor: ${SENSOR} }); const s = bme.sample(); bme.close(); return s;`),
      );
      assert.equal(s.temperature, 25.08);
      assert.equal(s.pressure, 25767233 / 256);
      near(s.humidity, 46.18, 0.01, "humidity");
    });

    test("INA219: TI's example (SBOS448 Table 7): 10 A, 12 V, 2 mΩ, 1 mA/bit", async () => {
      const world = new World();
      world.i2c(PINS).attach(0x40, new INA219Model({ shuntOhms: 0.002, load: { supplyVolts: 12, amps: 10 } }));
      const r = await withFirmware(engine, world, (run) =>
        run<Sample>(
          `const ina = new modules.INA219.default({ sensor: ${SENSOR}, shunt_resistance: 0.002, max_current_amps: 10, current_lsb: 0.001 });
           const s = ina.sample(); ina.close(); return { ...s, calibration: ina.calibration };`,
        ),
      );
      assert.equal(r.calibration, 20480);
      near(r.shuntVoltage, 0.02, 1e-12, "shunt voltage");
      near(r.busVoltage, 11.98, 1e-12, "bus voltage");
      near(r.current, 10, 1e-12, "current");
      near(r.power, 119.8, 1e-12, "power");
    });

    test("INA226: TI's example (SBOS547 Table 1): 10 A, 12 V, 2 mΩ, 1 mA/bit", async () => {
      const world = new World();
      world.i2c(PINS).attach(0x40, new INA226Model({ shuntOhms: 0.002, load: { supplyVolts: 12, amps: 10 } }));
      const r = await withFirmware(engine, world, (run) =>
        run<Sample>(
          `const ina = new modules.INA226.default({ sensor: ${SENSOR}, shunt_resistance: 0.002, max_current_amps: 15, current_lsb: 0.001 });
           const s = ina.sample(); ina.close(); return { ...s, calibration: ina.calibration };`,
        ),
      );
      assert.equal(r.calibration, 2560);
      near(r.current, 10, 1e-12, "current");
      near(r.busVoltage, 11.98, 1e-12, "bus voltage");
      near(r.power, 119.8, 1e-12, "power");
    });

    test("MPU6050 and ADXL345 at rest and level read +1 g on z", async () => {
      const world = new World();
      const bus = world.i2c(PINS);
      bus.attach(0x68, new MPU6050Model({ temperature: 31 }));
      bus.attach(0x53, new ADXL345Model());
      const r = await withFirmware(engine, world, (run) =>
        run<{ mpu: Sample; adxl: Sample }>(
          `const mpu = new modules.MPU6050.default({ sensor: ${SENSOR} });
           const adxl = new modules.ADXL345.default({ sensor: ${SENSOR} });
           const r = { mpu: mpu.sample(), adxl: adxl.sample() }; mpu.close(); adxl.close(); return r;`,
        ),
      );
      near(r.mpu.az, G, 0.01, "MPU6050 az");
      near(r.mpu.temperature, 31, 0.01, "MPU6050 temperature");
      near(r.adxl.az, G, G / 256, "ADXL345 az");
    });

    test("errors name the device and register, as on the board", async () => {
      const world = new World();
      world.i2c(PINS).attach(0x76, new BME280Model({ chipId: 0x58 }));
      await withFirmware(engine, world, async (run) => {
        await assert.rejects(run(`new modules.BME280.default({ sensor: ${SENSOR} })`), {
          message: "BME280 at 0x76: unexpected chip id 0x58 at register 0xd0, expected 0x60",
        });
        await assert.rejects(run(`new modules.INA219.default({ sensor: ${SENSOR} })`), {
          message: "INA219 at 0x40: I2C write of register 0x00 failed (write failed)",
        });
      });
    });
  });
}

test("XS and Node give identical samples across environments and ADC ranges", async () => {
  const results: Record<string, unknown[]> = {};
  for (const engine of ENGINES) {
    const world = new World();
    const bus = world.i2c(PINS);
    const bme = bus.attach(0x76, new BME280Model());
    const ina = bus.attach(0x40, new INA219Model({ load: { supplyVolts: 5, amps: 1.5 } }));
    const mpu = bus.attach(0x68, new MPU6050Model());
    const out: unknown[] = (results[engine] = []);
    await withFirmware(engine, world, async (run) => {
      await run(`modules.bme = new modules.BME280.default({ sensor: ${SENSOR} });
                 modules.ina = new modules.INA219.default({ sensor: ${SENSOR} });
                 modules.mpu = new modules.MPU6050.default({ sensor: ${SENSOR} });`);
      for (let adcT = 380000; adcT <= 640000; adcT += 52000) {
        for (let adcP = 200000; adcP <= 700000; adcP += 100000) {
          bme.setRaw({ adcT, adcP, adcH: 30000 + (adcT % 7000) });
          out.push(await run(`return modules.bme.sample()`));
        }
      }
      for (const env of [
        { temperature: 21.5, pressure: 98765, humidity: 42.5 },
        { temperature: -12.25, pressure: 80000, humidity: 90 },
      ]) {
        bme.setEnvironment(env);
        out.push(await run(`return modules.bme.sample()`));
      }
      for (const amps of [0, 0.25, 1.5, -0.75]) {
        ina.setLoad({ supplyVolts: 5, amps });
        out.push(await run(`return modules.ina.sample()`));
      }
      mpu.setMotion({ angularVelocity: { x: 10, y: -45.5, z: 200 }, pitch: 30 });
      out.push(await run(`return modules.mpu.sample()`));
      await run(`modules.bme.close(); modules.ina.close(); modules.mpu.close();`);
    });
  }
  assert.ok(results.node.length > 40);
  assert.deepEqual(results.xs, results.node);
});

test("XS heap with all five drivers open and sampled, beside the classic ESP32 budget", async (t) => {
  const world = new World();
  const bus = world.i2c(PINS);
  bus.attach(0x76, new BME280Model());
  bus.attach(0x40, new INA219Model());
  bus.attach(0x41, new INA226Model());
  bus.attach(0x68, new MPU6050Model());
  bus.attach(0x53, new ADXL345Model());
  const fw = await start("xs", { world, expose: DRIVERS });
  try {
    const xs = fw.xs;
    assert.ok(xs !== undefined);
    await fw.run(`
      const sensor = ${SENSOR};
      modules.open = [
        new modules.BME280.default({ sensor }),
        new modules.INA219.default({ sensor }),
        new modules.INA226.default({ sensor, i2c_address: 0x41 }),
        new modules.MPU6050.default({ sensor }),
        new modules.ADXL345.default({ sensor }),
      ];
      modules.samples = modules.open.map((d) => d.sample());`);
    await fw.run(`for (let k = 0; k < 20; k++) modules.open.forEach((d, i) => d.sample(modules.samples[i]))`);
    xs.collectGarbage();
    const steady = xs.heap();
    const { baseline, loaded } = xs;
    const row = (what: string, h: { chunkBytes: number; slots: number }) => `${what}: ${h.chunkBytes} chunk bytes, ${h.slots} slots`;
    t.diagnostic(row("bare xsnap machine (builtins; in ROM on a board)", baseline));
    t.diagnostic(row("after loading the bundle (bridge + drivers code)", loaded));
    t.diagnostic(row("five drivers open, sampled (steady state)", steady));
    const runtime = { chunkBytes: steady.chunkBytes - loaded.chunkBytes, slots: steady.slots - loaded.slots };
    const total = { chunkBytes: steady.chunkBytes - baseline.chunkBytes, slots: steady.slots - baseline.slots };
    t.diagnostic(row("drivers' objects (steady − loaded)", runtime));
    t.diagnostic(row("bundle + objects (steady − bare)", total));
    t.diagnostic(`classic ESP32 creation budget: 78848 chunk bytes, 4928 slots (64-bit host: ${steady.slotSize}-byte slots, 16 on ESP32)`);
    assert.ok(runtime.slots > 0 && runtime.slots < 4928, `${runtime.slots} slots`);
    assert.ok(runtime.chunkBytes > 0 && runtime.chunkBytes < 78848, `${runtime.chunkBytes} chunk bytes`);
    // Steady: sampling allocates nothing that survives a collection. (Each run() itself leaves one
    // slot behind: XS keeps a key for every script it evaluates.)
    await fw.run(`for (let k = 0; k < 50; k++) modules.open.forEach((d, i) => d.sample(modules.samples[i]))`);
    xs.collectGarbage();
    const after = xs.heap();
    assert.ok(after.slots - steady.slots <= 1, `${after.slots - steady.slots} slots more after 250 samples`);
    assert.ok(after.chunkBytes - steady.chunkBytes <= 64, `${after.chunkBytes - steady.chunkBytes} chunk bytes more after 250 samples`);
  } finally {
    await fw.stop();
  }
});
