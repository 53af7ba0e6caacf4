// The `bme280` sensor: Bosch BME280 on one of the board's I2C buses (firmware/drivers/bme280.ts).
// Attributes: `i2c_bus` (the board's i2cs[].name), `i2c_address` or `use_alt_i2c_address`
// (0x76, or 0x77), `board` (default: the first board). Readings use micro-rdk's BME280 keys:
// temperature (°C), pressure (Pa), humidity (%RH).
import BME280 from "../../drivers/bme280.js";
import type { JsonValue } from "../../../proto/micro/runtime.js";
import { sensorApi, type BuildContext, type Model } from "../../resource.js";
import { boardDependency, boardOf } from "../board/board.js";
import type { Readable } from "../common.js";

export class Bme280Sensor implements Readable {
  readonly #driver: BME280;
  readonly #sample = { temperature: 0, pressure: 0, humidity: 0 };

  constructor(driver: BME280) {
    this.#driver = driver;
  }

  readings(): Record<string, JsonValue> {
    const s = this.#driver.sample(this.#sample);
    return { temperature: s.temperature, pressure: s.pressure, humidity: s.humidity };
  }

  close(): void {
    this.#driver.close();
  }
}

export const bme280Model: Model<Bme280Sensor> = {
  api: sensorApi,
  model: "rdk:builtin:bme280",
  validate(attributes, all) {
    attributes.string("i2c_bus");
    attributes.optionalNumber("i2c_address", { min: 0, max: 127, integer: true });
    attributes.boolean("use_alt_i2c_address", false);
    return [boardDependency(attributes, all)];
  },
  build(ctx: BuildContext) {
    const a = ctx.attributes;
    const sensor = boardOf(ctx).i2cBus(a.string("i2c_bus"));
    return new Bme280Sensor(
      new BME280({
        sensor,
        ...(a.has("i2c_address") ? { i2c_address: a.integer("i2c_address") } : {}),
        use_alt_i2c_address: a.boolean("use_alt_i2c_address", false),
      }),
    );
  },
};
