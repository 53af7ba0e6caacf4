// Every model this firmware builds, with micro-rdk's names (rdk:builtin:<name>). Models are
// compiled in, as micro-rdk's are; there is no loading at run time.
import { esp32BoardModel } from "../components/board/esp32.js";
import { incrementalEncoderModel } from "../components/encoder/incremental.js";
import { freeHeapGenericModel, freeHeapSensorModel } from "../components/generic/free-heap.js";
import { gpioMotorModel } from "../components/motor/gpio.js";
import { adxl345Model, mpu6050Model } from "../components/movement_sensor/imu.js";
import { ina219Model, ina226Model } from "../components/power_sensor/ina.js";
import { bme280Model } from "../components/sensor/bme280.js";
import { gpioServoModel } from "../components/servo/gpio.js";
import type { Model } from "../resource.js";

export const builtinModels: readonly Model[] = [
  esp32BoardModel,
  bme280Model,
  freeHeapSensorModel,
  ina219Model,
  ina226Model,
  mpu6050Model,
  adxl345Model,
  gpioMotorModel,
  incrementalEncoderModel,
  gpioServoModel,
  freeHeapGenericModel,
] as readonly Model[];
