// The models this host knows, registered explicitly. Add new models here.
import { ModelRegistry } from "./resource/registry.js";
import { fakeBaseModel } from "./components/base/fake.js";
import { wheeledBaseModel } from "./components/base/wheeled.js";
import { fakeBoardModel } from "./components/board/fake.js";
import { fakeEncoderModel } from "./components/encoder/fake.js";
import { incrementalEncoderModel } from "./components/encoder/incremental.js";
import { singleEncoderModel } from "./components/encoder/single.js";
import { fakeGenericModel } from "./components/generic/fake.js";
import { fakeMotorModel } from "./components/motor/fake.js";
import { gpioMotorModel } from "./components/motor/gpio.js";
import { fakeMovementSensorModel } from "./components/movement_sensor/fake.js";
import { fakePowerSensorModel } from "./components/power_sensor/fake.js";
import { fakeSensorModel } from "./components/sensor/fake.js";
import { fakeServoModel } from "./components/servo/fake.js";
import { gpioServoModel } from "./components/servo/gpio.js";

/** A fresh registry with every built-in model. */
export function builtinModels(): ModelRegistry {
  return new ModelRegistry()
    .register(fakeBoardModel)
    .register(fakeEncoderModel)
    .register(fakeGenericModel)
    .register(fakeMotorModel)
    .register(fakeMovementSensorModel)
    .register(fakePowerSensorModel)
    .register(fakeSensorModel)
    .register(fakeServoModel)
    .register(fakeBaseModel)
    // Real models over the Board interface (any board: a fake, a Linux board, a micro part's).
    .register(gpioMotorModel)
    .register(incrementalEncoderModel)
    .register(singleEncoderModel)
    .register(gpioServoModel)
    .register(wheeledBaseModel);
}
