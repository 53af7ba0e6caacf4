// The component service adapters, in process: a connect router transport over stub resources that
// record what reaches them, so every RPC's argument and result conversion is checked.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { BoardService, PowerMode } from "../../proto/gen/component/board/v1/board_pb.js";
import { EncoderService, PositionType } from "../../proto/gen/component/encoder/v1/encoder_pb.js";
import { GenericService } from "../../proto/gen/component/generic/v1/generic_pb.js";
import { MotorService } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { MovementSensorService } from "../../proto/gen/component/movementsensor/v1/movementsensor_pb.js";
import { PowerSensorService } from "../../proto/gen/component/powersensor/v1/powersensor_pb.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { ServoService } from "../../proto/gen/component/servo/v1/servo_pb.js";
import { boardApi, type AnalogReading, type Board, type PowerMode as BoardPowerMode, type Tick } from "../../host/components/board/board.js";
import type { ResourceLookup } from "../../host/components/common.js";
import { encoderApi, type Encoder, type EncoderProperties, type PositionType as EncPositionType } from "../../host/components/encoder/encoder.js";
import { genericApi } from "../../host/components/generic/generic.js";
import { motorApi, type Motor, type MotorProperties } from "../../host/components/motor/motor.js";
import {
  movementSensorApi,
  type Accuracy,
  type GeoPosition,
  type MovementSensor,
  type MovementSensorProperties,
  type Orientation,
  type Vector3,
} from "../../host/components/movement_sensor/movement_sensor.js";
import { powerSensorApi, type PowerSensor } from "../../host/components/power_sensor/power_sensor.js";
import { sensorApi, type Sensor } from "../../host/components/sensor/sensor.js";
import { componentServices } from "../../host/components/services.js";
import { servoApi, type Servo } from "../../host/components/servo/servo.js";
import { ResourceNotFoundError } from "../../host/machine/machine.js";
import { resourceNameString, type Api } from "../../host/resource/name.js";
import { NotSupportedError, type CallOptions, type Geometry, type Resource } from "../../host/resource/resource.js";

// ---- stubs -------------------------------------------------------------------------------------

interface Recorded {
  method: string;
  args: unknown[];
  extra?: JsonObject;
}

/** Base of every stub: records calls, answers DoCommand with an echo and reports one sphere. */
class Stub implements Resource {
  readonly calls: Recorded[] = [];
  constructor(readonly name: string) {}
  protected record(method: string, args: unknown[], call?: CallOptions): void {
    this.calls.push(call ? { method, args, extra: call.extra } : { method, args });
  }
  last(): Recorded {
    const c = this.calls.at(-1);
    assert.ok(c, `${this.name} was not called`);
    return c;
  }
  async doCommand(command: JsonObject, call: CallOptions): Promise<JsonObject> {
    this.record("doCommand", [command], call);
    return { echo: command, from: this.name };
  }
  async geometries(call: CallOptions): Promise<Geometry[]> {
    this.record("geometries", [], call);
    return [{ kind: "sphere", radiusMm: 3, label: `${this.name}-g` }];
  }
  async close(): Promise<void> {}
}

class StubBoard extends Stub implements Board {
  pwmFrequencyResult = 1000.4;
  analogResult: AnalogReading = { value: 7.6, minRange: 0, maxRange: 3.25, stepSize: 0.5 };
  interruptValue = 2n ** 40n + 1n;
  ticks: Tick[] = [];
  /** After the ticks: wait for the caller's abort (true) or end the stream (false). */
  waitForAbort = true;
  /** Thrown by the stream after the ticks, when set. */
  streamError: Error | undefined;
  streamEnded: Promise<"aborted" | "ended">;
  #resolveEnded!: (how: "aborted" | "ended") => void;
  constructor(name: string) {
    super(name);
    this.streamEnded = new Promise((r) => (this.#resolveEnded = r));
  }
  async setGpio(pin: string, high: boolean, call: CallOptions) {
    this.record("setGpio", [pin, high], call);
  }
  async getGpio(pin: string, call: CallOptions) {
    this.record("getGpio", [pin], call);
    return true;
  }
  async pwm(pin: string, call: CallOptions) {
    this.record("pwm", [pin], call);
    return 0.25;
  }
  async setPwm(pin: string, dutyCycle: number, call: CallOptions) {
    this.record("setPwm", [pin, dutyCycle], call);
  }
  async pwmFrequency(pin: string, call: CallOptions) {
    this.record("pwmFrequency", [pin], call);
    return this.pwmFrequencyResult;
  }
  async setPwmFrequency(pin: string, frequencyHz: number, call: CallOptions) {
    this.record("setPwmFrequency", [pin, frequencyHz], call);
  }
  async readAnalog(reader: string, call: CallOptions) {
    this.record("readAnalog", [reader], call);
    return this.analogResult;
  }
  async writeAnalog(pin: string, value: number, call: CallOptions) {
    this.record("writeAnalog", [pin, value], call);
  }
  async digitalInterruptValue(name: string, call: CallOptions) {
    this.record("digitalInterruptValue", [name], call);
    return this.interruptValue;
  }
  async *streamTicks(interrupts: string[], call: CallOptions): AsyncIterable<Tick> {
    this.record("streamTicks", [interrupts], call);
    try {
      for (const t of this.ticks) yield t;
      if (this.streamError) throw this.streamError;
      if (this.waitForAbort && !call.signal.aborted) {
        await new Promise<void>((resolve) => call.signal.addEventListener("abort", () => resolve(), { once: true }));
      }
    } finally {
      this.#resolveEnded(call.signal.aborted ? "aborted" : "ended");
    }
  }
  async setPowerMode(mode: BoardPowerMode, durationMs: number | undefined, call: CallOptions) {
    this.record("setPowerMode", [mode, durationMs], call);
  }
}

class StubMotor extends Stub implements Motor {
  async setPower(powerPct: number, call: CallOptions) {
    this.record("setPower", [powerPct], call);
  }
  async goFor(rpm: number, revolutions: number, call: CallOptions) {
    this.record("goFor", [rpm, revolutions], call);
  }
  async goTo(rpm: number, positionRevolutions: number, call: CallOptions) {
    this.record("goTo", [rpm, positionRevolutions], call);
  }
  async setRpm(rpm: number, call: CallOptions) {
    this.record("setRpm", [rpm], call);
  }
  async resetZeroPosition(offset: number, call: CallOptions) {
    this.record("resetZeroPosition", [offset], call);
  }
  async position(call: CallOptions) {
    this.record("position", [], call);
    return -12.125;
  }
  async properties(call: CallOptions): Promise<MotorProperties> {
    this.record("properties", [], call);
    return { positionReporting: true };
  }
  async isPowered(call: CallOptions) {
    this.record("isPowered", [], call);
    return { isOn: true, powerPct: -0.5 };
  }
  async stop(call: CallOptions) {
    this.record("stop", [], call);
  }
  async isMoving() {
    this.record("isMoving", []);
    return true;
  }
}

class StubEncoder extends Stub implements Encoder {
  answerType: EncPositionType = "degrees";
  async position(type: EncPositionType, call: CallOptions) {
    this.record("position", [type], call);
    return { value: 42.5, type: this.answerType };
  }
  async resetPosition(call: CallOptions) {
    this.record("resetPosition", [], call);
  }
  async properties(call: CallOptions): Promise<EncoderProperties> {
    this.record("properties", [], call);
    return { ticksCountSupported: true, angleDegreesSupported: false };
  }
}

class StubMovementSensor extends Stub implements MovementSensor {
  accuracyResult: Accuracy = { accuracy: {} };
  async linearVelocity(call: CallOptions): Promise<Vector3> {
    this.record("linearVelocity", [], call);
    return { x: 1, y: 2, z: 3 };
  }
  async angularVelocity(call: CallOptions): Promise<Vector3> {
    this.record("angularVelocity", [], call);
    return { x: -1, y: -2, z: -3 };
  }
  async compassHeading(call: CallOptions) {
    this.record("compassHeading", [], call);
    return 271.5;
  }
  async orientation(call: CallOptions): Promise<Orientation> {
    this.record("orientation", [], call);
    return { oX: 0, oY: 0.6, oZ: 0.8, theta: 45 };
  }
  async position(call: CallOptions): Promise<GeoPosition> {
    this.record("position", [], call);
    return { latitude: 40.7128123456, longitude: -74.0060123456, altitudeM: 12.5 };
  }
  async properties(call: CallOptions): Promise<MovementSensorProperties> {
    this.record("properties", [], call);
    return {
      linearVelocitySupported: true,
      angularVelocitySupported: false,
      orientationSupported: true,
      positionSupported: false,
      compassHeadingSupported: true,
      linearAccelerationSupported: false,
    };
  }
  async accuracy(call: CallOptions): Promise<Accuracy> {
    this.record("accuracy", [], call);
    return this.accuracyResult;
  }
  async linearAcceleration(call: CallOptions): Promise<Vector3> {
    this.record("linearAcceleration", [], call);
    return { x: 0, y: 0, z: 9.81 };
  }
  async readings(call: CallOptions): Promise<Record<string, JsonValue>> {
    this.record("readings", [], call);
    return { heading: 271.5, ok: true };
  }
}

class StubPowerSensor extends Stub implements PowerSensor {
  async voltage(call: CallOptions) {
    this.record("voltage", [], call);
    return { volts: 12.25, isAc: false };
  }
  async current(call: CallOptions) {
    this.record("current", [], call);
    return { amperes: 1.5, isAc: true };
  }
  async power(call: CallOptions) {
    this.record("power", [], call);
    return 18.375;
  }
  async readings(call: CallOptions): Promise<Record<string, JsonValue>> {
    this.record("readings", [], call);
    return { volts: 12.25, amps: 1.5 };
  }
}

class StubServo extends Stub implements Servo {
  positionResult = 90.4;
  async move(angleDeg: number, call: CallOptions) {
    this.record("move", [angleDeg], call);
  }
  async position(call: CallOptions) {
    this.record("position", [], call);
    return this.positionResult;
  }
  async stop(call: CallOptions) {
    this.record("stop", [], call);
  }
  async isMoving() {
    this.record("isMoving", []);
    return false;
  }
}

class StubSensor extends Stub implements Sensor {
  async readings(call: CallOptions): Promise<Record<string, JsonValue>> {
    this.record("readings", [], call);
    return { a: 1, b: "two", c: [1, null], d: { e: false } };
  }
}

// ---- harness -----------------------------------------------------------------------------------

function setup() {
  const resources = new Map<string, Resource>();
  const add = <R extends Resource>(api: Api, r: R): R => {
    resources.set(resourceNameString({ ...api, name: r.name }), r);
    return r;
  };
  const lookup: ResourceLookup = {
    get<R extends Resource>(api: Api, name: string): R {
      const r = resources.get(resourceNameString({ ...api, name }));
      if (!r) throw new ResourceNotFoundError({ ...api, name });
      return r as R;
    },
  };
  const transport = createRouterTransport((router) => {
    for (const { service, impl } of componentServices(lookup)) router.service(service, impl);
  });
  return {
    board: add(boardApi, new StubBoard("b1")),
    board2: add(boardApi, new StubBoard("b2")),
    motor: add(motorApi, new StubMotor("m1")),
    encoder: add(encoderApi, new StubEncoder("e1")),
    movement: add(movementSensorApi, new StubMovementSensor("ms1")),
    power: add(powerSensorApi, new StubPowerSensor("ps1")),
    servo: add(servoApi, new StubServo("s1")),
    generic: add(genericApi, new Stub("g1")),
    sensor: add(sensorApi, new StubSensor("sen1")),
    clients: {
      board: createClient(BoardService, transport),
      motor: createClient(MotorService, transport),
      encoder: createClient(EncoderService, transport),
      movement: createClient(MovementSensorService, transport),
      power: createClient(PowerSensorService, transport),
      servo: createClient(ServoService, transport),
      generic: createClient(GenericService, transport),
      sensor: createClient(SensorService, transport),
    },
  };
}

const extra = { k: "v", n: 1 };

async function rejectsWith(p: Promise<unknown>, code: Code, text?: string): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ConnectError, `expected a ConnectError, got ${String(err)}`);
    assert.equal(err.code, code, `code ${Code[err.code]}: ${err.message}`);
    if (text !== undefined) assert.ok(err.rawMessage.includes(text), `"${err.rawMessage}" should include "${text}"`);
    return err;
  }
  assert.fail("expected the call to fail");
}

/** DoCommand and GetGeometries reach the named resource, for any service that has them. */
async function checkShared(
  client: {
    doCommand: (r: { name: string; command: JsonObject }) => Promise<{ result?: JsonObject }>;
    getGeometries?: (r: { name: string; extra: JsonObject }) => Promise<{ geometries: { label: string; geometryType: { case?: string } }[] }>;
  },
  stub: Stub,
) {
  const dc = await client.doCommand({ name: stub.name, command: { cmd: "x", v: [1, 2] } });
  assert.deepEqual(dc.result, { echo: { cmd: "x", v: [1, 2] }, from: stub.name });
  assert.deepEqual(stub.last().args, [{ cmd: "x", v: [1, 2] }]);
  if (client.getGeometries) {
    const g = await client.getGeometries({ name: stub.name, extra });
    assert.equal(g.geometries.length, 1);
    assert.equal(g.geometries[0].label, `${stub.name}-g`);
    assert.equal(g.geometries[0].geometryType.case, "sphere");
    assert.deepEqual(stub.last(), { method: "geometries", args: [], extra });
  }
}

// ---- tests -------------------------------------------------------------------------------------

describe("componentServices", () => {
  it("pairs all nine component services with implementations of every method", () => {
    const lookup: ResourceLookup = {
      get() {
        throw new Error("unused");
      },
    };
    const bindings = componentServices(lookup);
    assert.deepEqual(bindings.map((b) => b.service.typeName).sort(), [
      "viam.component.base.v1.BaseService",
      "viam.component.board.v1.BoardService",
      "viam.component.encoder.v1.EncoderService",
      "viam.component.generic.v1.GenericService",
      "viam.component.motor.v1.MotorService",
      "viam.component.movementsensor.v1.MovementSensorService",
      "viam.component.powersensor.v1.PowerSensorService",
      "viam.component.sensor.v1.SensorService",
      "viam.component.servo.v1.ServoService",
    ]);
    for (const { service, impl } of bindings) {
      for (const m of service.methods) {
        assert.equal(typeof (impl as Record<string, unknown>)[m.localName], "function", `${service.typeName}.${m.name}`);
      }
    }
  });
});

describe("BoardService adapter", () => {
  it("SetGPIO and GetGPIO", async () => {
    const { board, clients } = setup();
    await clients.board.setGPIO({ name: "b1", pin: "37", high: true, extra });
    assert.deepEqual(board.last(), { method: "setGpio", args: ["37", true], extra });
    const r = await clients.board.getGPIO({ name: "b1", pin: "38" });
    assert.equal(r.high, true);
    assert.deepEqual(board.last(), { method: "getGpio", args: ["38"], extra: {} });
  });

  it("PWM and SetPWM carry the duty cycle as a fraction", async () => {
    const { board, clients } = setup();
    assert.equal((await clients.board.pWM({ name: "b1", pin: "12", extra })).dutyCyclePct, 0.25);
    assert.deepEqual(board.last(), { method: "pwm", args: ["12"], extra });
    await clients.board.setPWM({ name: "b1", pin: "12", dutyCyclePct: 0.75, extra });
    assert.deepEqual(board.last(), { method: "setPwm", args: ["12", 0.75], extra });
  });

  it("PWMFrequency rounds to a bigint; SetPWMFrequency converts to a number", async () => {
    const { board, clients } = setup();
    const r = await clients.board.pWMFrequency({ name: "b1", pin: "12", extra });
    assert.equal(r.frequencyHz, 1000n);
    assert.deepEqual(board.last(), { method: "pwmFrequency", args: ["12"], extra });

    board.pwmFrequencyResult = -3;
    await rejectsWith(clients.board.pWMFrequency({ name: "b1", pin: "12" }), Code.Internal, "uint64");

    await clients.board.setPWMFrequency({ name: "b1", pin: "12", frequencyHz: 50_000n, extra });
    assert.deepEqual(board.last(), { method: "setPwmFrequency", args: ["12", 50_000], extra });
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    await clients.board.setPWMFrequency({ name: "b1", pin: "12", frequencyHz: max });
    assert.deepEqual(board.last().args, ["12", Number.MAX_SAFE_INTEGER]);

    const before = board.calls.length;
    await rejectsWith(
      clients.board.setPWMFrequency({ name: "b1", pin: "12", frequencyHz: max + 1n }),
      Code.InvalidArgument,
      String(max + 1n),
    );
    await rejectsWith(clients.board.setPWMFrequency({ name: "b1", pin: "12", frequencyHz: 2n ** 64n - 1n }), Code.InvalidArgument);
    assert.equal(board.calls.length, before, "the model is not called with a frequency it cannot hold");
  });

  it("ReadAnalogReader routes by board_name and rounds the int32 value", async () => {
    const { board, board2, clients } = setup();
    board2.analogResult = { value: 1023, minRange: -1.5, maxRange: 3.25, stepSize: 0.125 };
    const r = await clients.board.readAnalogReader({ boardName: "b2", analogReaderName: "a1", extra });
    assert.deepEqual(
      { value: r.value, minRange: r.minRange, maxRange: r.maxRange, stepSize: r.stepSize },
      { value: 1023, minRange: -1.5, maxRange: 3.25, stepSize: 0.125 },
    );
    assert.deepEqual(board2.last(), { method: "readAnalog", args: ["a1"], extra });
    assert.equal(board.calls.length, 0);

    const r1 = await clients.board.readAnalogReader({ boardName: "b1", analogReaderName: "a2" });
    assert.equal(r1.value, 8);
    assert.deepEqual(board.last().args, ["a2"]);

    board.analogResult = { value: 2 ** 31, minRange: 0, maxRange: 0, stepSize: 0 };
    await rejectsWith(clients.board.readAnalogReader({ boardName: "b1", analogReaderName: "a2" }), Code.Internal, "int32");
  });

  it("WriteAnalog", async () => {
    const { board, clients } = setup();
    await clients.board.writeAnalog({ name: "b1", pin: "dac0", value: -5, extra });
    assert.deepEqual(board.last(), { method: "writeAnalog", args: ["dac0", -5], extra });
  });

  it("GetDigitalInterruptValue routes by board_name and keeps the int64 exact", async () => {
    const { board, board2, clients } = setup();
    board2.interruptValue = 2n ** 62n + 7n;
    const r = await clients.board.getDigitalInterruptValue({ boardName: "b2", digitalInterruptName: "di", extra });
    assert.equal(r.value, 2n ** 62n + 7n);
    assert.deepEqual(board2.last(), { method: "digitalInterruptValue", args: ["di"], extra });
    assert.equal(board.calls.length, 0);

    board.interruptValue = -(2n ** 63n);
    assert.equal((await clients.board.getDigitalInterruptValue({ boardName: "b1", digitalInterruptName: "x" })).value, -(2n ** 63n));
    board.interruptValue = 2n ** 63n;
    await rejectsWith(clients.board.getDigitalInterruptValue({ boardName: "b1", digitalInterruptName: "x" }), Code.Internal, "int64");
  });

  it("StreamTicks yields ticks until the client aborts, and the model sees the abort", async () => {
    const { board, clients } = setup();
    board.ticks = [
      { pinName: "di1", timeNs: 2n ** 60n + 3n, high: true },
      { pinName: "di2", timeNs: 5n, high: false },
    ];
    const ac = new AbortController();
    const got: { pinName: string; time: bigint; high: boolean }[] = [];
    const consume = (async () => {
      for await (const t of clients.board.streamTicks({ name: "b1", pinNames: ["di1", "di2"], extra }, { signal: ac.signal })) {
        got.push({ pinName: t.pinName, time: t.time, high: t.high });
        if (got.length === 2) ac.abort();
      }
    })();
    await rejectsWith(consume, Code.Canceled);
    assert.deepEqual(got, [
      { pinName: "di1", time: 2n ** 60n + 3n, high: true },
      { pinName: "di2", time: 5n, high: false },
    ]);
    assert.deepEqual(board.last(), { method: "streamTicks", args: [["di1", "di2"]], extra });
    assert.equal(await board.streamEnded, "aborted");
  });

  it("StreamTicks ends cleanly when the model's stream ends", async () => {
    const { board, clients } = setup();
    board.ticks = [{ pinName: "di1", timeNs: 1n, high: true }];
    board.waitForAbort = false;
    const got: bigint[] = [];
    for await (const t of clients.board.streamTicks({ name: "b1", pinNames: ["di1"] })) got.push(t.time);
    assert.deepEqual(got, [1n]);
    assert.equal(await board.streamEnded, "ended");
  });

  it("StreamTicks ends when the client aborts while the model has nothing to send", async () => {
    const { board, clients } = setup();
    const ac = new AbortController();
    const consume = (async () => {
      for await (const _ of clients.board.streamTicks({ name: "b1", pinNames: ["di1"] }, { signal: ac.signal })) {
        assert.fail("no ticks expected");
      }
    })();
    setTimeout(() => ac.abort(), 20);
    await rejectsWith(consume, Code.Canceled);
    assert.equal(await board.streamEnded, "aborted");
  });

  it("StreamTicks passes on the model's error after the ticks sent before it", async () => {
    const { board, clients } = setup();
    board.ticks = [{ pinName: "di1", timeNs: 9n, high: false }];
    board.streamError = new Error("digital interrupt di9 not found");
    const got: bigint[] = [];
    const consume = (async () => {
      for await (const t of clients.board.streamTicks({ name: "b1", pinNames: ["di9"] })) got.push(t.time);
    })();
    await rejectsWith(consume, Code.Unknown, "di9 not found");
    assert.deepEqual(got, [9n]);
  });

  it("StreamTicks for an unknown board is NOT_FOUND", async () => {
    const { clients } = setup();
    const consume = (async () => {
      for await (const _ of clients.board.streamTicks({ name: "nope", pinNames: ["di1"] })) assert.fail("no ticks expected");
    })();
    await rejectsWith(consume, Code.NotFound, "rdk:component:board/nope");
  });

  it("SetPowerMode maps the enum and the duration; UNSPECIFIED is refused", async () => {
    const { board, clients } = setup();
    await clients.board.setPowerMode({
      name: "b1",
      powerMode: PowerMode.OFFLINE_DEEP,
      duration: { seconds: 2n, nanos: 500_000_000 },
      extra,
    });
    assert.deepEqual(board.last(), { method: "setPowerMode", args: ["offline_deep", 2500], extra });
    await clients.board.setPowerMode({ name: "b1", powerMode: PowerMode.NORMAL });
    assert.deepEqual(board.last().args, ["normal", undefined]);

    const before = board.calls.length;
    await rejectsWith(clients.board.setPowerMode({ name: "b1", powerMode: PowerMode.UNSPECIFIED }), Code.InvalidArgument, "UNSPECIFIED");
    await rejectsWith(
      clients.board.setPowerMode({ name: "b1", powerMode: PowerMode.NORMAL, duration: { seconds: 1n, nanos: -1 } }),
      Code.InvalidArgument,
      "duration",
    );
    assert.equal(board.calls.length, before);
  });

  it("DoCommand and GetGeometries", async () => {
    const { board, clients } = setup();
    await checkShared(clients.board, board);
  });
});

describe("MotorService adapter", () => {
  it("commands carry their arguments and extra", async () => {
    const { motor, clients } = setup();
    await clients.motor.setPower({ name: "m1", powerPct: -0.3, extra });
    assert.deepEqual(motor.last(), { method: "setPower", args: [-0.3], extra });
    await clients.motor.goFor({ name: "m1", rpm: 60, revolutions: 2.5, extra });
    assert.deepEqual(motor.last(), { method: "goFor", args: [60, 2.5], extra });
    await clients.motor.goTo({ name: "m1", rpm: 30, positionRevolutions: -4, extra });
    assert.deepEqual(motor.last(), { method: "goTo", args: [30, -4], extra });
    await clients.motor.setRPM({ name: "m1", rpm: -120, extra });
    assert.deepEqual(motor.last(), { method: "setRpm", args: [-120], extra });
    await clients.motor.resetZeroPosition({ name: "m1", offset: 1.75, extra });
    assert.deepEqual(motor.last(), { method: "resetZeroPosition", args: [1.75], extra });
    await clients.motor.stop({ name: "m1", extra });
    assert.deepEqual(motor.last(), { method: "stop", args: [], extra });
  });

  it("queries return the model's answers", async () => {
    const { motor, clients } = setup();
    assert.equal((await clients.motor.getPosition({ name: "m1", extra })).position, -12.125);
    assert.deepEqual(motor.last(), { method: "position", args: [], extra });
    assert.equal((await clients.motor.getProperties({ name: "m1", extra })).positionReporting, true);
    assert.deepEqual(motor.last(), { method: "properties", args: [], extra });
    const p = await clients.motor.isPowered({ name: "m1", extra });
    assert.deepEqual({ isOn: p.isOn, powerPct: p.powerPct }, { isOn: true, powerPct: -0.5 });
    assert.deepEqual(motor.last(), { method: "isPowered", args: [], extra });
    assert.equal((await clients.motor.isMoving({ name: "m1" })).isMoving, true);
    assert.deepEqual(motor.last(), { method: "isMoving", args: [] });
  });

  it("DoCommand and GetGeometries", async () => {
    const { motor, clients } = setup();
    await checkShared(clients.motor, motor);
  });

  it("a model's NotSupportedError is UNIMPLEMENTED", async () => {
    const { motor, clients } = setup();
    motor.goTo = async () => {
      throw new NotSupportedError("GoTo");
    };
    await rejectsWith(clients.motor.goTo({ name: "m1", rpm: 1, positionRevolutions: 1 }), Code.Unimplemented, "GoTo");
  });
});

describe("EncoderService adapter", () => {
  it("GetPosition maps the position type both ways", async () => {
    const { encoder, clients } = setup();
    const r = await clients.encoder.getPosition({ name: "e1", positionType: PositionType.TICKS_COUNT, extra });
    assert.equal(r.value, 42.5);
    assert.equal(r.positionType, PositionType.ANGLE_DEGREES);
    assert.deepEqual(encoder.last(), { method: "position", args: ["ticks"], extra });

    encoder.answerType = "ticks";
    const r2 = await clients.encoder.getPosition({ name: "e1", positionType: PositionType.ANGLE_DEGREES });
    assert.equal(r2.positionType, PositionType.TICKS_COUNT);
    assert.deepEqual(encoder.last().args, ["degrees"]);

    encoder.answerType = "unspecified";
    const r3 = await clients.encoder.getPosition({ name: "e1" });
    assert.equal(r3.positionType, PositionType.UNSPECIFIED);
    assert.deepEqual(encoder.last().args, ["unspecified"]);
    await clients.encoder.getPosition({ name: "e1", positionType: PositionType.UNSPECIFIED });
    assert.deepEqual(encoder.last().args, ["unspecified"]);
  });

  it("ResetPosition and GetProperties", async () => {
    const { encoder, clients } = setup();
    await clients.encoder.resetPosition({ name: "e1", extra });
    assert.deepEqual(encoder.last(), { method: "resetPosition", args: [], extra });
    const p = await clients.encoder.getProperties({ name: "e1", extra });
    assert.deepEqual(
      { ticks: p.ticksCountSupported, angle: p.angleDegreesSupported },
      { ticks: true, angle: false },
    );
    assert.deepEqual(encoder.last(), { method: "properties", args: [], extra });
  });

  it("DoCommand and GetGeometries", async () => {
    const { encoder, clients } = setup();
    await checkShared(clients.encoder, encoder);
  });
});

describe("MovementSensorService adapter", () => {
  it("velocities, acceleration, heading and orientation", async () => {
    const { movement, clients } = setup();
    const lv = await clients.movement.getLinearVelocity({ name: "ms1", extra });
    assert.deepEqual([lv.linearVelocity?.x, lv.linearVelocity?.y, lv.linearVelocity?.z], [1, 2, 3]);
    assert.deepEqual(movement.last(), { method: "linearVelocity", args: [], extra });
    const av = await clients.movement.getAngularVelocity({ name: "ms1", extra });
    assert.deepEqual([av.angularVelocity?.x, av.angularVelocity?.y, av.angularVelocity?.z], [-1, -2, -3]);
    assert.deepEqual(movement.last(), { method: "angularVelocity", args: [], extra });
    const la = await clients.movement.getLinearAcceleration({ name: "ms1", extra });
    assert.deepEqual([la.linearAcceleration?.x, la.linearAcceleration?.y, la.linearAcceleration?.z], [0, 0, 9.81]);
    assert.deepEqual(movement.last(), { method: "linearAcceleration", args: [], extra });
    assert.equal((await clients.movement.getCompassHeading({ name: "ms1", extra })).value, 271.5);
    assert.deepEqual(movement.last(), { method: "compassHeading", args: [], extra });
    const o = (await clients.movement.getOrientation({ name: "ms1", extra })).orientation;
    assert.deepEqual([o?.oX, o?.oY, o?.oZ, o?.theta], [0, 0.6, 0.8, 45]);
    assert.deepEqual(movement.last(), { method: "orientation", args: [], extra });
  });

  it("GetPosition returns the coordinate and altitude", async () => {
    const { movement, clients } = setup();
    const p = await clients.movement.getPosition({ name: "ms1", extra });
    assert.equal(p.coordinate?.latitude, 40.7128123456);
    assert.equal(p.coordinate?.longitude, -74.0060123456);
    assert.equal(p.altitudeM, 12.5);
    assert.deepEqual(movement.last(), { method: "position", args: [], extra });
  });

  it("GetProperties", async () => {
    const { movement, clients } = setup();
    const p = await clients.movement.getProperties({ name: "ms1", extra });
    assert.deepEqual(
      [
        p.linearVelocitySupported,
        p.angularVelocitySupported,
        p.orientationSupported,
        p.positionSupported,
        p.compassHeadingSupported,
        p.linearAccelerationSupported,
      ],
      [true, false, true, false, true, false],
    );
    assert.deepEqual(movement.last(), { method: "properties", args: [], extra });
  });

  it("GetAccuracy sets the optional fields only when the model reports them", async () => {
    const { movement, clients } = setup();
    const none = await clients.movement.getAccuracy({ name: "ms1", extra });
    assert.deepEqual(none.accuracy, {});
    assert.equal(none.positionHdop, undefined);
    assert.equal(none.positionVdop, undefined);
    assert.equal(none.positionNmeaGgaFix, undefined);
    assert.equal(none.compassDegreesError, undefined);
    assert.deepEqual(movement.last(), { method: "accuracy", args: [], extra });

    movement.accuracyResult = { accuracy: { hacc: 0.5, vacc: 2.25 }, positionHdop: 1.5, positionNmeaGgaFix: 4 };
    const some = await clients.movement.getAccuracy({ name: "ms1" });
    assert.deepEqual(some.accuracy, { hacc: 0.5, vacc: 2.25 });
    assert.equal(some.positionHdop, 1.5);
    assert.equal(some.positionVdop, undefined);
    assert.equal(some.positionNmeaGgaFix, 4);
    assert.equal(some.compassDegreesError, undefined);

    movement.accuracyResult = {
      accuracy: {},
      positionHdop: 0,
      positionVdop: 0.75,
      positionNmeaGgaFix: 0,
      compassDegreesError: 0.125,
    };
    const all = await clients.movement.getAccuracy({ name: "ms1" });
    assert.equal(all.positionHdop, 0, "a reported 0 stays present");
    assert.equal(all.positionVdop, 0.75);
    assert.equal(all.positionNmeaGgaFix, 0);
    assert.equal(all.compassDegreesError, 0.125);
  });

  it("GetReadings", async () => {
    const { movement, clients } = setup();
    const r = await clients.movement.getReadings({ name: "ms1", extra });
    assert.deepEqual(r.readings.heading.kind, { case: "numberValue", value: 271.5 });
    assert.deepEqual(r.readings.ok.kind, { case: "boolValue", value: true });
    assert.deepEqual(movement.last(), { method: "readings", args: [], extra });
  });

  it("DoCommand and GetGeometries", async () => {
    const { movement, clients } = setup();
    await checkShared(clients.movement, movement);
  });
});

describe("PowerSensorService adapter", () => {
  it("voltage, current, power and readings", async () => {
    const { power, clients } = setup();
    const v = await clients.power.getVoltage({ name: "ps1", extra });
    assert.deepEqual({ volts: v.volts, isAc: v.isAc }, { volts: 12.25, isAc: false });
    assert.deepEqual(power.last(), { method: "voltage", args: [], extra });
    const c = await clients.power.getCurrent({ name: "ps1", extra });
    assert.deepEqual({ amperes: c.amperes, isAc: c.isAc }, { amperes: 1.5, isAc: true });
    assert.deepEqual(power.last(), { method: "current", args: [], extra });
    assert.equal((await clients.power.getPower({ name: "ps1", extra })).watts, 18.375);
    assert.deepEqual(power.last(), { method: "power", args: [], extra });
    const r = await clients.power.getReadings({ name: "ps1", extra });
    assert.deepEqual(r.readings.volts.kind, { case: "numberValue", value: 12.25 });
    assert.deepEqual(r.readings.amps.kind, { case: "numberValue", value: 1.5 });
    assert.deepEqual(power.last(), { method: "readings", args: [], extra });
  });

  it("DoCommand", async () => {
    const { power, clients } = setup();
    await checkShared(clients.power, power);
  });
});

describe("ServoService adapter", () => {
  it("Move, GetPosition, Stop and IsMoving", async () => {
    const { servo, clients } = setup();
    await clients.servo.move({ name: "s1", angleDeg: 135, extra });
    assert.deepEqual(servo.last(), { method: "move", args: [135], extra });
    assert.equal((await clients.servo.getPosition({ name: "s1", extra })).positionDeg, 90);
    assert.deepEqual(servo.last(), { method: "position", args: [], extra });
    await clients.servo.stop({ name: "s1", extra });
    assert.deepEqual(servo.last(), { method: "stop", args: [], extra });
    assert.equal((await clients.servo.isMoving({ name: "s1" })).isMoving, false);
    assert.deepEqual(servo.last(), { method: "isMoving", args: [] });
  });

  it("a position the uint32 cannot carry is an internal error", async () => {
    const { servo, clients } = setup();
    servo.positionResult = -1;
    await rejectsWith(clients.servo.getPosition({ name: "s1" }), Code.Internal, "uint32");
  });

  it("DoCommand and GetGeometries", async () => {
    const { servo, clients } = setup();
    await checkShared(clients.servo, servo);
  });
});

describe("GenericService and SensorService adapters", () => {
  it("generic DoCommand and GetGeometries", async () => {
    const { generic, clients } = setup();
    await checkShared(clients.generic, generic);
  });

  it("sensor GetReadings, DoCommand and GetGeometries", async () => {
    const { sensor, clients } = setup();
    const r = await clients.sensor.getReadings({ name: "sen1", extra });
    assert.deepEqual(r.readings.b.kind, { case: "stringValue", value: "two" });
    assert.equal(r.readings.c.kind.case, "listValue");
    assert.equal(r.readings.d.kind.case, "structValue");
    assert.deepEqual(sensor.last(), { method: "readings", args: [], extra });
    await checkShared(clients.sensor, sensor);
  });
});

describe("unknown resource names", () => {
  it("are NOT_FOUND naming the resource, for every API", async () => {
    const { clients, board } = setup();
    const cases: [Promise<unknown>, string][] = [
      [clients.board.getGPIO({ name: "nope", pin: "1" }), "rdk:component:board/nope"],
      [clients.board.readAnalogReader({ boardName: "nope", analogReaderName: "a" }), "rdk:component:board/nope"],
      [clients.board.getDigitalInterruptValue({ boardName: "nope", digitalInterruptName: "d" }), "rdk:component:board/nope"],
      [clients.board.setPWMFrequency({ name: "nope", pin: "1", frequencyHz: 10n }), "rdk:component:board/nope"],
      [clients.board.doCommand({ name: "nope", command: {} }), "rdk:component:board/nope"],
      [clients.motor.setPower({ name: "nope", powerPct: 1 }), "rdk:component:motor/nope"],
      [clients.motor.isMoving({ name: "nope" }), "rdk:component:motor/nope"],
      [clients.motor.getGeometries({ name: "nope" }), "rdk:component:motor/nope"],
      [clients.encoder.getPosition({ name: "nope" }), "rdk:component:encoder/nope"],
      [clients.movement.getAccuracy({ name: "nope" }), "rdk:component:movement_sensor/nope"],
      [clients.movement.getReadings({ name: "nope" }), "rdk:component:movement_sensor/nope"],
      [clients.power.getVoltage({ name: "nope" }), "rdk:component:power_sensor/nope"],
      [clients.servo.isMoving({ name: "nope" }), "rdk:component:servo/nope"],
      [clients.generic.doCommand({ name: "nope", command: {} }), "rdk:component:generic/nope"],
      [clients.sensor.getReadings({ name: "nope" }), "rdk:component:sensor/nope"],
      // A resource of another API under the same name is not found either.
      [clients.motor.stop({ name: "b1" }), "rdk:component:motor/b1"],
    ];
    for (const [p, text] of cases) await rejectsWith(p, Code.NotFound, text);
    assert.equal(board.calls.length, 0);
  });
});
