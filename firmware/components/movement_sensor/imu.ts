// micro-rdk's two movement sensors, on one of the board's I2C buses:
// - `gyro-mpu6050`: InvenSense MPU-6050 (firmware/drivers/mpu6050.ts): angular velocity (°/s) and
//   linear acceleration (m/s²); readings add its die temperature.
// - `accel-adxl345`: Analog Devices ADXL345 (firmware/drivers/adxl345.ts): linear acceleration.
// Attributes: `i2c_bus`, `use_alt_i2c_address` (MPU-6050 0x68/0x69, ADXL345 0x53/0x1D), also
// `i2c_address`, and `board`. Readings use micro-rdk's keys (angular_velocity, linear_acceleration
// as {x, y, z}).
import type { JsonValue } from "../../../proto/micro/runtime.js";
import type { Attributes } from "../../config/attributes.js";
import ADXL345 from "../../drivers/adxl345.js";
import MPU6050 from "../../drivers/mpu6050.js";
import { unimplemented } from "../../rpc/errors.js";
import { movementSensorApi, type Api, type BuildContext, type Model } from "../../resource.js";
import { boardDependency, boardOf } from "../board/board.js";
import type { MovementSensor, MovementSensorProperties, Vector3 } from "./movement_sensor.js";

abstract class Imu implements MovementSensor {
  abstract properties(): MovementSensorProperties;
  abstract linearAcceleration(): Vector3;
  abstract readings(): Record<string, JsonValue>;
  abstract close(): void;

  angularVelocity(): Vector3 {
    throw unimplemented("angular velocity is not supported by this sensor");
  }

  linearVelocity(): Vector3 {
    throw unimplemented("linear velocity is not supported by this sensor");
  }

  compassHeading(): number {
    throw unimplemented("compass heading is not supported by this sensor");
  }

  orientation(): { oX: number; oY: number; oZ: number; theta: number } {
    throw unimplemented("orientation is not supported by this sensor");
  }

  position(): { latitude: number; longitude: number; altitudeM: number } {
    throw unimplemented("position is not supported by this sensor");
  }
}

const NONE: MovementSensorProperties = {
  linearVelocitySupported: false,
  angularVelocitySupported: false,
  orientationSupported: false,
  positionSupported: false,
  compassHeadingSupported: false,
  linearAccelerationSupported: false,
};

export class Mpu6050Sensor extends Imu {
  readonly #driver: MPU6050;
  readonly #sample = { ax: 0, ay: 0, az: 0, gx: 0, gy: 0, gz: 0, temperature: 0 };

  constructor(driver: MPU6050) {
    super();
    this.#driver = driver;
  }

  properties(): MovementSensorProperties {
    return { ...NONE, angularVelocitySupported: true, linearAccelerationSupported: true };
  }

  override angularVelocity(): Vector3 {
    const s = this.#driver.sample(this.#sample);
    return { x: s.gx, y: s.gy, z: s.gz };
  }

  linearAcceleration(): Vector3 {
    const s = this.#driver.sample(this.#sample);
    return { x: s.ax, y: s.ay, z: s.az };
  }

  readings(): Record<string, JsonValue> {
    const s = this.#driver.sample(this.#sample);
    return {
      angular_velocity: { x: s.gx, y: s.gy, z: s.gz },
      linear_acceleration: { x: s.ax, y: s.ay, z: s.az },
      temperature_celsius: s.temperature,
    };
  }

  close(): void {
    this.#driver.close();
  }
}

export class Adxl345Sensor extends Imu {
  readonly #driver: ADXL345;
  readonly #sample = { ax: 0, ay: 0, az: 0 };

  constructor(driver: ADXL345) {
    super();
    this.#driver = driver;
  }

  properties(): MovementSensorProperties {
    return { ...NONE, linearAccelerationSupported: true };
  }

  linearAcceleration(): Vector3 {
    const s = this.#driver.sample(this.#sample);
    return { x: s.ax, y: s.ay, z: s.az };
  }

  readings(): Record<string, JsonValue> {
    const s = this.#driver.sample(this.#sample);
    return { linear_acceleration: { x: s.ax, y: s.ay, z: s.az } };
  }

  close(): void {
    this.#driver.close();
  }
}

function validate(attributes: Attributes, all: readonly { name: string; api: Api }[]) {
  attributes.string("i2c_bus");
  attributes.optionalNumber("i2c_address", { min: 0, max: 127, integer: true });
  attributes.boolean("use_alt_i2c_address", false);
  return [boardDependency(attributes, all)];
}

function busOptions(ctx: BuildContext) {
  const a = ctx.attributes;
  return {
    sensor: boardOf(ctx).i2cBus(a.string("i2c_bus")),
    use_alt_i2c_address: a.boolean("use_alt_i2c_address", false),
    ...(a.has("i2c_address") ? { i2c_address: a.integer("i2c_address") } : {}),
  };
}

export const mpu6050Model: Model<Mpu6050Sensor> = {
  api: movementSensorApi,
  model: "rdk:builtin:gyro-mpu6050",
  validate,
  build: (ctx) => new Mpu6050Sensor(new MPU6050(busOptions(ctx))),
};

export const adxl345Model: Model<Adxl345Sensor> = {
  api: movementSensorApi,
  model: "rdk:builtin:accel-adxl345",
  validate,
  build: (ctx) => new Adxl345Sensor(new ADXL345(busOptions(ctx))),
};
