// Test support for running the same firmware code on both engines: Node (the embedded:* shims in
// this process) and XS (a bundle on xsnap, bridged to the same shims). See tools/sim/xs/runner.ts.
import { startFirmware, type EngineName, type RunningFirmware, type StartFirmwareOptions } from "../../tools/sim/xs/runner.js";
import { World, type WorldOptions } from "../../tools/sim/world.js";

export const ENGINES: readonly EngineName[] = ["node", "xs"];

/** A file of this build (dist/…) as a file URL: `built("firmware/drivers/bme280.js")`. */
export function built(path: string): string {
  return new URL("../../" + path, import.meta.url).href;
}

/** The sensor drivers and the IO modules they need, as `modules.<name>` in run(). */
export const DRIVERS: Record<string, string> = {
  I2C: "embedded:io/i2c",
  BME280: built("firmware/drivers/bme280.js"),
  INA219: built("firmware/drivers/ina219.js"),
  INA226: built("firmware/drivers/ina226.js"),
  MPU6050: built("firmware/drivers/mpu6050.js"),
  ADXL345: built("firmware/drivers/adxl345.js"),
};

/** IO and runtime modules, as `modules.<name>` in run(). */
export const IO: Record<string, string> = {
  Digital: "embedded:io/digital",
  PWM: "embedded:io/pwm",
  Analog: "embedded:io/analog",
  I2C: "embedded:io/i2c",
  Timer: "timer",
  Preference: "preference",
};

/** Starts firmware on `engine` with a fresh World (or the one given). */
export async function start(
  engine: EngineName,
  options: Partial<Omit<StartFirmwareOptions, "engine">> & { worldOptions?: WorldOptions } = {},
): Promise<RunningFirmware> {
  const world = options.world ?? new World(options.worldOptions);
  return startFirmware({ ...options, engine, world });
}

/** Resolves after `ms` of Node time, letting timers and immediates run. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every few ms until it is true or `ms` pass. */
export async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await sleep(2);
  }
}
