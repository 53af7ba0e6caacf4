// Client-side resources: a remote part's resource as the host's own interface (Board, Motor, …),
// each method one call through the generated client of its API over the remote's transport, so a
// host model can depend on a remote resource (`ctx.dependencies.get(boardApi, "esp:board")`).
//
// What every API has is generic: DoCommand and GetGeometries for any service, and Stop/IsMoving for
// any service that has both (which makes the resource an Actuator for StopAll and the session safety
// stop). The per-API parts are the mapping of each interface method to its request and response.
import { toJson, type DescMethod, type DescService, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { durationFromMs, ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { createClient, type Client } from "@connectrpc/connect";
import { BaseService } from "../../proto/gen/component/base/v1/base_pb.js";
import { BoardService, PowerMode as PbPowerMode } from "../../proto/gen/component/board/v1/board_pb.js";
import { EncoderService, PositionType as PbPositionType } from "../../proto/gen/component/encoder/v1/encoder_pb.js";
import { GenericService } from "../../proto/gen/component/generic/v1/generic_pb.js";
import { MotorService } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { MovementSensorService } from "../../proto/gen/component/movementsensor/v1/movementsensor_pb.js";
import { PowerSensorService } from "../../proto/gen/component/powersensor/v1/powersensor_pb.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { ServoService } from "../../proto/gen/component/servo/v1/servo_pb.js";
import type { Geometry as PbGeometry } from "../../proto/gen/common/v1/common_pb.js";
import type { Base, BaseProperties, Vector3 as BaseVector } from "../components/base/base.js";
import type { AnalogReading, Board, PowerMode, Tick } from "../components/board/board.js";
import type { Encoder, EncoderProperties, PositionType } from "../components/encoder/encoder.js";
import type { Motor, MotorProperties } from "../components/motor/motor.js";
import type { Accuracy, GeoPosition, MovementSensor, MovementSensorProperties, Orientation, Vector3 } from "../components/movement_sensor/movement_sensor.js";
import type { PowerSensor } from "../components/power_sensor/power_sensor.js";
import type { Sensor } from "../components/sensor/sensor.js";
import type { Servo } from "../components/servo/servo.js";
import type { CallOptions, Geometry, Resource } from "../resource/resource.js";
import { remoteTransport, type RemoteCaller } from "./transport.js";

/** The generated services the host knows, by protobuf name. */
export const knownServices: ReadonlyMap<string, DescService> = new Map(
  [BaseService, BoardService, EncoderService, GenericService, MotorService, MovementSensorService, PowerSensorService, SensorService, ServoService].map(
    (s) => [s.typeName, s],
  ),
);

const opts = (call: CallOptions) => ({ signal: call.signal });

function readingsOf(readings: Record<string, Value>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(readings)) out[k] = toJson(ValueSchema, v);
  return out;
}

function geometryOf(g: PbGeometry): Geometry[] {
  const label = g.label || undefined;
  switch (g.geometryType.case) {
    case "sphere":
      return [{ kind: "sphere", radiusMm: g.geometryType.value.radiusMm, label }];
    case "box": {
      const d = g.geometryType.value.dimsMm;
      return [{ kind: "box", dimsMm: { x: d?.x ?? 0, y: d?.y ?? 0, z: d?.z ?? 0 }, label }];
    }
    case "capsule":
      return [{ kind: "capsule", radiusMm: g.geometryType.value.radiusMm, lengthMm: g.geometryType.value.lengthMm, label }];
    default:
      return [];
  }
}

/** What a client-side resource knows about itself. */
export interface RemoteResourceInit {
  /** The name the host shows (`esp:board`). */
  readonly name: string;
  /** The part's own name for it (`board`). */
  readonly remoteName: string;
  readonly service: DescService;
  readonly caller: RemoteCaller;
}

/** Any API: DoCommand, GetGeometries, and Stop/IsMoving when the service has them. */
export class RemoteResource implements Resource {
  readonly name: string;
  readonly remoteName: string;
  readonly service: DescService;
  protected readonly caller: RemoteCaller;
  readonly #transport;

  constructor(init: RemoteResourceInit) {
    this.name = init.name;
    this.remoteName = init.remoteName;
    this.service = init.service;
    this.caller = init.caller;
    this.#transport = remoteTransport(init.caller);
  }

  protected client<S extends DescService>(service: S): Client<S> {
    return createClient(service, this.#transport);
  }

  /** A unary method of this resource's service by its proto name, with `name` filled in. */
  protected async invoke(methodName: string, request: Record<string, unknown>, call: CallOptions): Promise<Record<string, unknown>> {
    const method = this.service.methods.find((m) => m.name === methodName);
    if (!method || method.methodKind !== "unary") throw new Error(`${this.service.typeName} has no unary method ${methodName}`);
    const res = await this.#transport.unary(method as DescMethod & { methodKind: "unary" }, call.signal, undefined, undefined, {
      name: this.remoteName,
      ...request,
    } as never);
    return res.message as unknown as Record<string, unknown>;
  }

  async doCommand(command: JsonObject, call: CallOptions): Promise<JsonObject> {
    const res = await this.invoke("DoCommand", { command }, call);
    return (res.result as JsonObject | undefined) ?? {};
  }

  async geometries(call: CallOptions): Promise<Geometry[]> {
    const res = await this.invoke("GetGeometries", { extra: call.extra }, call);
    return (res.geometries as PbGeometry[]).flatMap(geometryOf);
  }

  /** Nothing to release: the connection belongs to the remote manager. */
  async close(): Promise<void> {}
}

/** A RemoteResource that is an Actuator: its service has Stop and IsMoving. */
export class RemoteActuator extends RemoteResource {
  async stop(call: CallOptions): Promise<void> {
    await this.invoke("Stop", { extra: call.extra }, call);
  }

  async isMoving(): Promise<boolean> {
    const res = await this.invoke("IsMoving", {}, { extra: {}, signal: new AbortController().signal });
    return res.isMoving === true;
  }
}

export class RemoteSensor extends RemoteResource implements Sensor {
  async readings(call: CallOptions): Promise<Record<string, JsonValue>> {
    const res = await this.client(SensorService).getReadings({ name: this.remoteName, extra: call.extra }, opts(call));
    return readingsOf(res.readings);
  }
}

const powerModes: Record<PowerMode, PbPowerMode> = { normal: PbPowerMode.NORMAL, offline_deep: PbPowerMode.OFFLINE_DEEP };

export class RemoteBoard extends RemoteResource implements Board {
  readonly #board = this.client(BoardService);

  async setGpio(pin: string, high: boolean, call: CallOptions): Promise<void> {
    await this.#board.setGPIO({ name: this.remoteName, pin, high, extra: call.extra }, opts(call));
  }
  async getGpio(pin: string, call: CallOptions): Promise<boolean> {
    return (await this.#board.getGPIO({ name: this.remoteName, pin, extra: call.extra }, opts(call))).high;
  }
  async pwm(pin: string, call: CallOptions): Promise<number> {
    return (await this.#board.pWM({ name: this.remoteName, pin, extra: call.extra }, opts(call))).dutyCyclePct;
  }
  async setPwm(pin: string, dutyCycle: number, call: CallOptions): Promise<void> {
    await this.#board.setPWM({ name: this.remoteName, pin, dutyCyclePct: dutyCycle, extra: call.extra }, opts(call));
  }
  async pwmFrequency(pin: string, call: CallOptions): Promise<number> {
    return Number((await this.#board.pWMFrequency({ name: this.remoteName, pin, extra: call.extra }, opts(call))).frequencyHz);
  }
  async setPwmFrequency(pin: string, frequencyHz: number, call: CallOptions): Promise<void> {
    await this.#board.setPWMFrequency({ name: this.remoteName, pin, frequencyHz: BigInt(Math.round(frequencyHz)), extra: call.extra }, opts(call));
  }
  async readAnalog(reader: string, call: CallOptions): Promise<AnalogReading> {
    const r = await this.#board.readAnalogReader({ boardName: this.remoteName, analogReaderName: reader, extra: call.extra }, opts(call));
    return { value: r.value, minRange: r.minRange, maxRange: r.maxRange, stepSize: r.stepSize };
  }
  async writeAnalog(pin: string, value: number, call: CallOptions): Promise<void> {
    await this.#board.writeAnalog({ name: this.remoteName, pin, value, extra: call.extra }, opts(call));
  }
  async digitalInterruptValue(name: string, call: CallOptions): Promise<bigint> {
    return (await this.#board.getDigitalInterruptValue({ boardName: this.remoteName, digitalInterruptName: name, extra: call.extra }, opts(call))).value;
  }
  async *streamTicks(interrupts: string[], call: CallOptions): AsyncIterable<Tick> {
    for await (const t of this.#board.streamTicks({ name: this.remoteName, pinNames: interrupts, extra: call.extra }, opts(call))) {
      yield { pinName: t.pinName, timeNs: t.time, high: t.high };
    }
  }
  async setPowerMode(mode: PowerMode, durationMs: number | undefined, call: CallOptions): Promise<void> {
    await this.#board.setPowerMode(
      { name: this.remoteName, powerMode: powerModes[mode], duration: durationMs === undefined ? undefined : durationFromMs(durationMs), extra: call.extra },
      opts(call),
    );
  }
}

export class RemoteMotor extends RemoteActuator implements Motor {
  readonly #motor = this.client(MotorService);

  async setPower(powerPct: number, call: CallOptions): Promise<void> {
    await this.#motor.setPower({ name: this.remoteName, powerPct, extra: call.extra }, opts(call));
  }
  async goFor(rpm: number, revolutions: number, call: CallOptions): Promise<void> {
    await this.#motor.goFor({ name: this.remoteName, rpm, revolutions, extra: call.extra }, opts(call));
  }
  async goTo(rpm: number, positionRevolutions: number, call: CallOptions): Promise<void> {
    await this.#motor.goTo({ name: this.remoteName, rpm, positionRevolutions, extra: call.extra }, opts(call));
  }
  async setRpm(rpm: number, call: CallOptions): Promise<void> {
    await this.#motor.setRPM({ name: this.remoteName, rpm, extra: call.extra }, opts(call));
  }
  async resetZeroPosition(offset: number, call: CallOptions): Promise<void> {
    await this.#motor.resetZeroPosition({ name: this.remoteName, offset, extra: call.extra }, opts(call));
  }
  async position(call: CallOptions): Promise<number> {
    return (await this.#motor.getPosition({ name: this.remoteName, extra: call.extra }, opts(call))).position;
  }
  async properties(call: CallOptions): Promise<MotorProperties> {
    return { positionReporting: (await this.#motor.getProperties({ name: this.remoteName, extra: call.extra }, opts(call))).positionReporting };
  }
  async isPowered(call: CallOptions): Promise<{ isOn: boolean; powerPct: number }> {
    const r = await this.#motor.isPowered({ name: this.remoteName, extra: call.extra }, opts(call));
    return { isOn: r.isOn, powerPct: r.powerPct };
  }
}

const positionTypes: Record<PositionType, PbPositionType> = {
  unspecified: PbPositionType.UNSPECIFIED,
  ticks: PbPositionType.TICKS_COUNT,
  degrees: PbPositionType.ANGLE_DEGREES,
};

export class RemoteEncoder extends RemoteResource implements Encoder {
  readonly #encoder = this.client(EncoderService);

  async position(type: PositionType, call: CallOptions): Promise<{ value: number; type: PositionType }> {
    const r = await this.#encoder.getPosition({ name: this.remoteName, positionType: positionTypes[type], extra: call.extra }, opts(call));
    const back = r.positionType === PbPositionType.TICKS_COUNT ? "ticks" : r.positionType === PbPositionType.ANGLE_DEGREES ? "degrees" : "unspecified";
    return { value: r.value, type: back };
  }
  async resetPosition(call: CallOptions): Promise<void> {
    await this.#encoder.resetPosition({ name: this.remoteName, extra: call.extra }, opts(call));
  }
  async properties(call: CallOptions): Promise<EncoderProperties> {
    const r = await this.#encoder.getProperties({ name: this.remoteName, extra: call.extra }, opts(call));
    return { ticksCountSupported: r.ticksCountSupported, angleDegreesSupported: r.angleDegreesSupported };
  }
}

export class RemoteServo extends RemoteActuator implements Servo {
  readonly #servo = this.client(ServoService);

  async move(angleDeg: number, call: CallOptions): Promise<void> {
    await this.#servo.move({ name: this.remoteName, angleDeg, extra: call.extra }, opts(call));
  }
  async position(call: CallOptions): Promise<number> {
    return (await this.#servo.getPosition({ name: this.remoteName, extra: call.extra }, opts(call))).positionDeg;
  }
}

const xyz = (v: { x: number; y: number; z: number } | undefined): Vector3 => ({ x: v?.x ?? 0, y: v?.y ?? 0, z: v?.z ?? 0 });

export class RemoteMovementSensor extends RemoteResource implements MovementSensor {
  readonly #ms = this.client(MovementSensorService);

  async linearVelocity(call: CallOptions): Promise<Vector3> {
    return xyz((await this.#ms.getLinearVelocity({ name: this.remoteName, extra: call.extra }, opts(call))).linearVelocity);
  }
  async angularVelocity(call: CallOptions): Promise<Vector3> {
    return xyz((await this.#ms.getAngularVelocity({ name: this.remoteName, extra: call.extra }, opts(call))).angularVelocity);
  }
  async compassHeading(call: CallOptions): Promise<number> {
    return (await this.#ms.getCompassHeading({ name: this.remoteName, extra: call.extra }, opts(call))).value;
  }
  async orientation(call: CallOptions): Promise<Orientation> {
    const o = (await this.#ms.getOrientation({ name: this.remoteName, extra: call.extra }, opts(call))).orientation;
    return { oX: o?.oX ?? 0, oY: o?.oY ?? 0, oZ: o?.oZ ?? 0, theta: o?.theta ?? 0 };
  }
  async position(call: CallOptions): Promise<GeoPosition> {
    const r = await this.#ms.getPosition({ name: this.remoteName, extra: call.extra }, opts(call));
    return { latitude: r.coordinate?.latitude ?? 0, longitude: r.coordinate?.longitude ?? 0, altitudeM: r.altitudeM };
  }
  async properties(call: CallOptions): Promise<MovementSensorProperties> {
    const r = await this.#ms.getProperties({ name: this.remoteName, extra: call.extra }, opts(call));
    return {
      linearVelocitySupported: r.linearVelocitySupported,
      angularVelocitySupported: r.angularVelocitySupported,
      orientationSupported: r.orientationSupported,
      positionSupported: r.positionSupported,
      compassHeadingSupported: r.compassHeadingSupported,
      linearAccelerationSupported: r.linearAccelerationSupported,
    };
  }
  async accuracy(call: CallOptions): Promise<Accuracy> {
    const r = await this.#ms.getAccuracy({ name: this.remoteName, extra: call.extra }, opts(call));
    return {
      accuracy: { ...r.accuracy },
      positionHdop: r.positionHdop,
      positionVdop: r.positionVdop,
      positionNmeaGgaFix: r.positionNmeaGgaFix,
      compassDegreesError: r.compassDegreesError,
    };
  }
  async linearAcceleration(call: CallOptions): Promise<Vector3> {
    return xyz((await this.#ms.getLinearAcceleration({ name: this.remoteName, extra: call.extra }, opts(call))).linearAcceleration);
  }
  async readings(call: CallOptions): Promise<Record<string, JsonValue>> {
    return readingsOf((await this.#ms.getReadings({ name: this.remoteName, extra: call.extra }, opts(call))).readings);
  }
}

export class RemotePowerSensor extends RemoteResource implements PowerSensor {
  readonly #ps = this.client(PowerSensorService);

  async voltage(call: CallOptions): Promise<{ volts: number; isAc: boolean }> {
    const r = await this.#ps.getVoltage({ name: this.remoteName, extra: call.extra }, opts(call));
    return { volts: r.volts, isAc: r.isAc };
  }
  async current(call: CallOptions): Promise<{ amperes: number; isAc: boolean }> {
    const r = await this.#ps.getCurrent({ name: this.remoteName, extra: call.extra }, opts(call));
    return { amperes: r.amperes, isAc: r.isAc };
  }
  async power(call: CallOptions): Promise<number> {
    return (await this.#ps.getPower({ name: this.remoteName, extra: call.extra }, opts(call))).watts;
  }
  async readings(call: CallOptions): Promise<Record<string, JsonValue>> {
    return readingsOf((await this.#ps.getReadings({ name: this.remoteName, extra: call.extra }, opts(call))).readings);
  }
}

export class RemoteBase extends RemoteActuator implements Base {
  readonly #base = this.client(BaseService);

  async moveStraight(distanceMm: number, mmPerSec: number, call: CallOptions): Promise<void> {
    await this.#base.moveStraight({ name: this.remoteName, distanceMm: BigInt(Math.round(distanceMm)), mmPerSec, extra: call.extra }, opts(call));
  }
  async spin(angleDeg: number, degsPerSec: number, call: CallOptions): Promise<void> {
    await this.#base.spin({ name: this.remoteName, angleDeg, degsPerSec, extra: call.extra }, opts(call));
  }
  async setPower(linear: BaseVector, angular: BaseVector, call: CallOptions): Promise<void> {
    await this.#base.setPower({ name: this.remoteName, linear, angular, extra: call.extra }, opts(call));
  }
  async setVelocity(linear: BaseVector, angular: BaseVector, call: CallOptions): Promise<void> {
    await this.#base.setVelocity({ name: this.remoteName, linear, angular, extra: call.extra }, opts(call));
  }
  async properties(call: CallOptions): Promise<BaseProperties> {
    const r = await this.#base.getProperties({ name: this.remoteName, extra: call.extra }, opts(call));
    return { widthMeters: r.widthMeters, turningRadiusMeters: r.turningRadiusMeters, wheelCircumferenceMeters: r.wheelCircumferenceMeters };
  }
}

/** The host's interfaces with a client class, by protobuf service. Others get the generic one. */
const classes = new Map<string, new (init: RemoteResourceInit) => RemoteResource>([
  [SensorService.typeName, RemoteSensor],
  [BoardService.typeName, RemoteBoard],
  [MotorService.typeName, RemoteMotor],
  [EncoderService.typeName, RemoteEncoder],
  [ServoService.typeName, RemoteServo],
  [MovementSensorService.typeName, RemoteMovementSensor],
  [PowerSensorService.typeName, RemotePowerSensor],
  [BaseService.typeName, RemoteBase],
]);

/** The client-side resource for a remote resource served by `service`. */
export function remoteResource(init: RemoteResourceInit): RemoteResource {
  const cls = classes.get(init.service.typeName);
  if (cls) return new cls(init);
  const names = new Set(init.service.methods.map((m) => m.name));
  return names.has("Stop") && names.has("IsMoving") ? new RemoteActuator(init) : new RemoteResource(init);
}
