// Which protobuf service serves each resource API, for ResourceRPCSubtypes and reflection.
import { apiString, type Api } from "../resource/name.js";

const protoServices: Record<string, string> = {
  "rdk:component:base": "viam.component.base.v1.BaseService",
  "rdk:component:board": "viam.component.board.v1.BoardService",
  "rdk:component:encoder": "viam.component.encoder.v1.EncoderService",
  "rdk:component:generic": "viam.component.generic.v1.GenericService",
  "rdk:component:motor": "viam.component.motor.v1.MotorService",
  "rdk:component:movement_sensor": "viam.component.movementsensor.v1.MovementSensorService",
  "rdk:component:power_sensor": "viam.component.powersensor.v1.PowerSensorService",
  "rdk:component:sensor": "viam.component.sensor.v1.SensorService",
  "rdk:component:servo": "viam.component.servo.v1.ServoService",
};

export function protoServiceFor(api: Api): string | undefined {
  return protoServices[apiString(api)];
}
