// Every component API's protobuf service with its adapter, for the server to register in one loop:
// `for (const { service, impl } of componentServices(lookup)) router.service(service, impl);`
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { BaseService, baseService } from "./base/service.js";
import { BoardService, boardService } from "./board/service.js";
import type { ResourceLookup } from "./common.js";
import { EncoderService, encoderService } from "./encoder/service.js";
import { GenericService, genericService } from "./generic/service.js";
import { MotorService, motorService } from "./motor/service.js";
import { MovementSensorService, movementSensorService } from "./movement_sensor/service.js";
import { PowerSensorService, powerSensorService } from "./power_sensor/service.js";
import { SensorService, sensorService } from "./sensor/service.js";
import { ServoService, servoService } from "./servo/service.js";

/** A generated service descriptor and its implementation. */
export interface ServiceBinding<S extends DescService = DescService> {
  readonly service: S;
  readonly impl: ServiceImpl<S>;
}

/** Pairs a service with its implementation, checking they match before the pair joins a mixed list. */
function bind<S extends DescService>(service: S, impl: ServiceImpl<S>): ServiceBinding {
  return { service, impl };
}

export function componentServices(lookup: ResourceLookup): ServiceBinding[] {
  return [
    bind(SensorService, sensorService(lookup)),
    bind(BoardService, boardService(lookup)),
    bind(MotorService, motorService(lookup)),
    bind(EncoderService, encoderService(lookup)),
    bind(MovementSensorService, movementSensorService(lookup)),
    bind(PowerSensorService, powerSensorService(lookup)),
    bind(ServoService, servoService(lookup)),
    bind(GenericService, genericService(lookup)),
    bind(BaseService, baseService(lookup)),
  ];
}
