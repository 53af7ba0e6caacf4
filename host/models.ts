// The models this host knows, registered explicitly. Add new models here.
import { ModelRegistry } from "./resource/registry.js";
import { fakeBoardModel } from "./components/board/fake.js";
import { fakeEncoderModel } from "./components/encoder/fake.js";
import { fakeGenericModel } from "./components/generic/fake.js";
import { fakeMotorModel } from "./components/motor/fake.js";
import { fakeMovementSensorModel } from "./components/movement_sensor/fake.js";
import { fakePowerSensorModel } from "./components/power_sensor/fake.js";
import { fakeSensorModel } from "./components/sensor/fake.js";
import { fakeServoModel } from "./components/servo/fake.js";

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
    .register(fakeServoModel);
}
