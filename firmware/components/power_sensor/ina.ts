// The `ina219` and `ina226` power sensors (micro-rdk's models and attributes): a TI current/power
// monitor on one of the board's I2C buses (firmware/drivers/ina*.ts). Attributes: `i2c_bus`,
// `i2c_address` (default 0x40), `shunt_resistance` (Ω, default 0.1), `max_current_amps`, `board`.
// Readings use micro-rdk's keys: volts, amps, is_ac, watts.
import type { JsonValue } from "../../../proto/micro/runtime.js";
import type { Attributes } from "../../config/attributes.js";
import type { INA, INAOptions, PowerSample } from "../../drivers/ina.js";
import INA219 from "../../drivers/ina219.js";
import INA226 from "../../drivers/ina226.js";
import { powerSensorApi, type Api, type BuildContext, type Model } from "../../resource.js";
import { boardDependency, boardOf } from "../board/board.js";
import type { Readable } from "../common.js";

export interface PowerSensor extends Readable {
  voltage(): { volts: number; isAc: boolean };
  current(): { amperes: number; isAc: boolean };
  power(): number;
}

export class InaPowerSensor implements PowerSensor {
  readonly #driver: INA;
  readonly #sample: PowerSample = { busVoltage: 0, shuntVoltage: 0, current: 0, power: 0 };

  constructor(driver: INA) {
    this.#driver = driver;
  }

  #read(): PowerSample {
    return this.#driver.sample(this.#sample);
  }

  voltage() {
    return { volts: this.#read().busVoltage, isAc: false };
  }

  current() {
    return { amperes: this.#read().current, isAc: false };
  }

  power(): number {
    return this.#read().power;
  }

  readings(): Record<string, JsonValue> {
    const s = this.#read();
    return { volts: s.busVoltage, amps: s.current, is_ac: false, watts: s.power };
  }

  close(): void {
    this.#driver.close();
  }
}

function validate(attributes: Attributes, all: readonly { name: string; api: Api }[]) {
  attributes.string("i2c_bus");
  attributes.optionalNumber("i2c_address", { min: 0, max: 127, integer: true });
  attributes.optionalNumber("shunt_resistance", { min: 0 });
  attributes.optionalNumber("max_current_amps", { min: 0 });
  return [boardDependency(attributes, all)];
}

function options(ctx: BuildContext): INAOptions {
  const a = ctx.attributes;
  const out: INAOptions = { sensor: boardOf(ctx).i2cBus(a.string("i2c_bus")) };
  if (a.has("i2c_address")) out.i2c_address = a.integer("i2c_address");
  if (a.has("shunt_resistance")) out.shunt_resistance = a.number("shunt_resistance");
  if (a.has("max_current_amps")) out.max_current_amps = a.number("max_current_amps");
  return out;
}

export const ina219Model: Model<InaPowerSensor> = {
  api: powerSensorApi,
  model: "rdk:builtin:ina219",
  validate,
  build: (ctx) => new InaPowerSensor(new INA219(options(ctx))),
};

export const ina226Model: Model<InaPowerSensor> = {
  api: powerSensorApi,
  model: "rdk:builtin:ina226",
  validate,
  build: (ctx) => new InaPowerSensor(new INA226(options(ctx))),
};
