// The micro runtime on both engines: the same firmware JavaScript on Node (the tools/sim shims in
// this process) and on the real XS engine (tools/sim/xs, bridged to the same shims), with a
// protobuf-es client (ChannelClient + protobufFrameCodec) calling every served method over TCP
// (length-prefix framing) and over a pseudo-terminal pair (COBS framing; socat makes the pair, the
// simulator holds one end, the client opens the other with node-serialport). Bad input on both
// engines ends only the offending connection (or frame, on the UART) and the firmware carries on.
// `sprocket micro-sim` runs once per engine as a child process with examples/micro.json.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { create, fromBinary, toBinary, type DescService } from "@bufbuild/protobuf";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { ChannelError, Code } from "../../proto/channel/frames.js";
import { encodeCobsFrame } from "../../proto/channel/cobs.js";
import { BoardService, PowerMode, StreamTicksRequestSchema, StreamTicksResponseSchema } from "../../proto/gen/component/board/v1/board_pb.js";
import { EncoderService, PositionType } from "../../proto/gen/component/encoder/v1/encoder_pb.js";
import { GenericService } from "../../proto/gen/component/generic/v1/generic_pb.js";
import { MotorService } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { MovementSensorService } from "../../proto/gen/component/movementsensor/v1/movementsensor_pb.js";
import { PowerSensorService } from "../../proto/gen/component/powersensor/v1/powersensor_pb.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { ServoService } from "../../proto/gen/component/servo/v1/servo_pb.js";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import { GetMachineStatusResponse_State, RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { ConfigService } from "../../proto/gen/sprocket/micro/v1/config_pb.js";
import { haveSocat } from "../../tools/sim/esp32/pty.js";
import { buildNvs } from "../../tools/image/nvs.js";
import { configBlob, provisioningEntries } from "../../tools/image/provisioning.js";
import { serveUartOnPty, startMicroSimulator } from "../../tools/cli/micro-sim.js";
import { network } from "../../tools/sim/network.js";
import { uart } from "../../tools/sim/uart.js";
import { World } from "../../tools/sim/world.js";
import { startFirmware } from "../../tools/sim/xs/runner.js";
import { spawnMicroSim } from "../support/micro-sim-process.js";
import { ENGINES, MicroClient, PART_ID, PART_KEY, PINS, TICKS_PER_ROTATION, standardConfig, startMicro, type MicroSim, outcome } from "./harness.js";

const UART = { port: 2, receive: 16, transmit: 17, baud: 115200 };
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const EXAMPLE = join(ROOT, "examples/micro.json");

const socat = await haveSocat();
const NO_SOCAT = "socat is not installed: these tests need it for pseudo-terminal pairs (apt-get install socat; .ci/run installs it)";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => Promise<boolean> | boolean, ms = 3000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await sleep(5);
  }
}

async function rejects(promise: Promise<unknown>, code: number, message?: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ChannelError, "expected a ChannelError, got " + String(error));
    assert.equal(error.code, code, "code of " + error.message);
    if (message) assert.match(error.message, message);
    return;
  }
  assert.fail("expected the call to fail with code " + code);
}

async function rawSocket(port: number): Promise<Socket> {
  const s = connect({ host: "127.0.0.1", port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    s.once("connect", resolve);
    s.once("error", reject);
  });
  s.on("error", () => undefined);
  return s;
}

function closedWithin(s: Socket, ms: number): Promise<boolean> {
  if (s.destroyed || s.closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    s.once("close", () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** The methods (`pkg.Service/Method`) a client really called, to check none is missed. */
class Coverage {
  readonly called = new Set<string>();
  mark(service: DescService, ...methods: string[]): void {
    for (const m of methods) this.called.add(service.typeName + "/" + m);
  }
}

/**
 * Calls every method the part serves on the standard machine, checking answers against the
 * simulated world (which both engines share with this process). Records each method called in
 * `seen`.
 */
async function everyServedMethod(client: MicroClient, sim: MicroSim, seen: Coverage): Promise<void> {
  const w = sim.world;
  // Every unary call goes through here, so the coverage check below sees what was really called.
  const call: MicroClient["call"] = (method, request, options) => {
    seen.called.add(method.parent.typeName + "/" + method.name);
    return client.call(method, request, options);
  };
  // Auth (a wrong key first: refused, and the connection stays unauthenticated).
  const authenticate = (payload: string) => call(AuthService.method.authenticate, { entity: PART_ID, credentials: { type: "api-key", payload } });
  await rejects(authenticate(PART_KEY + "x"), Code.UNAUTHENTICATED, /invalid credentials/);
  await rejects(call(RobotService.method.getVersion, {}), Code.UNAUTHENTICATED, /authentication required/);
  assert.ok((await authenticate(PART_KEY)).accessToken.length > 0);

  // Board.
  await call(BoardService.method.setGPIO, { name: "board", pin: String(PINS.gpio), high: true });
  assert.equal(w.gpio.level(PINS.gpio), 1);
  assert.equal((await call(BoardService.method.getGPIO, { name: "board", pin: String(PINS.gpio) })).high, true);
  await call(BoardService.method.setGPIO, { name: "board", pin: String(PINS.gpio), high: false });
  assert.equal(w.gpio.level(PINS.gpio), 0);
  await call(BoardService.method.setPWMFrequency, { name: "board", pin: "18", frequencyHz: 2000n });
  await call(BoardService.method.setPWM, { name: "board", pin: "18", dutyCyclePct: 0.25 });
  assert.equal(w.pwm(18)?.hz, 2000);
  assert.ok(Math.abs((w.pwm(18)?.dutyCycle ?? 0) - 0.25) < 0.002);
  assert.equal((await call(BoardService.method.pWM, { name: "board", pin: "18" })).dutyCyclePct, 0.25);
  assert.equal((await call(BoardService.method.pWMFrequency, { name: "board", pin: "18" })).frequencyHz, 2000n);
  const analog = await call(BoardService.method.readAnalogReader, { boardName: "board", analogReaderName: "a1" });
  assert.equal(analog.value, Math.trunc((1650 * 1023) / 3300));
  await rejects(call(BoardService.method.writeAnalog, { name: "board", pin: "25", value: 1 }), Code.UNIMPLEMENTED);
  const interrupt = { boardName: "board", digitalInterruptName: String(PINS.interrupt) };
  const before = (await call(BoardService.method.getDigitalInterruptValue, interrupt)).value;
  for (let i = 0; i < 3; i++) {
    w.gpio.drive(PINS.interrupt, 1);
    await sleep(2);
    w.gpio.drive(PINS.interrupt, 0);
    await sleep(2);
  }
  await eventually(async () => (await call(BoardService.method.getDigitalInterruptValue, interrupt)).value === before + 3n, 3000, "3 interrupt ticks");
  const ticks = client.client.call(
    "/viam.component.board.v1.BoardService/StreamTicks",
    {},
    toBinary(StreamTicksRequestSchema, create(StreamTicksRequestSchema, { name: "board", pinNames: [String(PINS.interrupt)] })),
  );
  seen.mark(BoardService, "StreamTicks");
  // Toggle the pin until the stream reports an edge (it may start after the first toggles).
  let level: 0 | 1 = 0;
  const toggling = setInterval(() => w.gpio.drive(PINS.interrupt, (level ^= 1) as 0 | 1), 20);
  try {
    for await (const m of ticks.responses) {
      assert.equal(fromBinary(StreamTicksResponseSchema, m).pinName, String(PINS.interrupt));
      break;
    }
  } finally {
    clearInterval(toggling);
    w.gpio.drive(PINS.interrupt, 0);
  }
  ticks.cancel();
  assert.equal((await ticks.trailers).status.code, Code.CANCELLED);
  await call(BoardService.method.setPowerMode, { name: "board", powerMode: PowerMode.NORMAL });
  await rejects(call(BoardService.method.doCommand, { name: "board", command: {} }), Code.UNIMPLEMENTED);
  assert.deepEqual((await call(BoardService.method.getGeometries, { name: "board" })).geometries, []);

  // Sensors.
  const env = await call(SensorService.method.getReadings, { name: "env" });
  assert.ok(Math.abs((env.readings.temperature.kind.value as number) - 21.5) < 0.05);
  w.freeHeap = 123_456;
  assert.equal((await call(SensorService.method.getReadings, { name: "heap" })).readings.bytes.kind.value, 123_456);
  assert.deepEqual((await call(SensorService.method.doCommand, { name: "heap", command: {} })).result, { bytes: 123_456 });
  assert.deepEqual((await call(SensorService.method.getGeometries, { name: "env" })).geometries, []);

  const volts = (await call(PowerSensorService.method.getVoltage, { name: "power" })).volts;
  assert.ok(Math.abs(volts - 4.95) < 0.01, String(volts));
  assert.ok(Math.abs((await call(PowerSensorService.method.getCurrent, { name: "power" })).amperes - 0.5) < 0.01);
  assert.ok(Math.abs((await call(PowerSensorService.method.getPower, { name: "power" })).watts - 2.475) < 0.05);
  assert.deepEqual(Object.keys((await call(PowerSensorService.method.getReadings, { name: "power" })).readings).sort(), ["amps", "is_ac", "volts", "watts"]);
  await rejects(call(PowerSensorService.method.doCommand, { name: "power", command: {} }), Code.UNIMPLEMENTED);

  const av = (await call(MovementSensorService.method.getAngularVelocity, { name: "imu" })).angularVelocity;
  assert.ok(av !== undefined && Math.abs(av.x) < 0.1 && Math.abs(av.z) < 0.1, JSON.stringify(av));
  const la = (await call(MovementSensorService.method.getLinearAcceleration, { name: "imu" })).linearAcceleration;
  assert.ok(la !== undefined && Math.abs(la.z - 9.80665) < 0.05, JSON.stringify(la));
  assert.equal((await call(MovementSensorService.method.getProperties, { name: "imu" })).angularVelocitySupported, true);
  for (const m of [
    MovementSensorService.method.getLinearVelocity,
    MovementSensorService.method.getCompassHeading,
    MovementSensorService.method.getOrientation,
    MovementSensorService.method.getPosition,
  ]) {
    await rejects(call(m as never, { name: "imu" } as never), Code.UNIMPLEMENTED);
  }
  assert.deepEqual((await call(MovementSensorService.method.getAccuracy, { name: "imu" })).accuracy, {});
  assert.ok("angular_velocity" in (await call(MovementSensorService.method.getReadings, { name: "imu" })).readings);
  await rejects(call(MovementSensorService.method.doCommand, { name: "imu", command: {} }), Code.UNIMPLEMENTED);
  assert.deepEqual((await call(MovementSensorService.method.getGeometries, { name: "imu" })).geometries, []);

  // Motor, encoder (turned by the simulated motor), servo, generic.
  await call(MotorService.method.setPower, { name: "m1", powerPct: 0.5 });
  assert.ok(Math.abs((w.pwm(PINS.motor.pwm)?.dutyCycle ?? 0) - 0.5) < 0.002);
  assert.deepEqual([w.gpio.level(PINS.motor.a), w.gpio.level(PINS.motor.b)], [1, 0]);
  const powered = await call(MotorService.method.isPowered, { name: "m1" });
  assert.deepEqual([powered.isOn, powered.powerPct], [true, 0.5]);
  assert.equal((await call(MotorService.method.isMoving, { name: "m1" })).isMoving, true);
  await call(MotorService.method.setRPM, { name: "m1", rpm: 50 });
  await call(MotorService.method.stop, { name: "m1" });
  assert.equal(w.pwm(PINS.motor.pwm)?.duty, 0);
  await call(MotorService.method.resetZeroPosition, { name: "m1", offset: 0 });
  assert.equal((await call(MotorService.method.getPosition, { name: "m1" })).position, 0);
  assert.equal((await call(MotorService.method.getProperties, { name: "m1" })).positionReporting, true);
  await call(MotorService.method.goFor, { name: "m1", rpm: 100, revolutions: 0.5 });
  assert.equal(w.pwm(PINS.motor.pwm)?.duty, 0, "stopped at the target");
  const pos = (await call(MotorService.method.getPosition, { name: "m1" })).position;
  assert.ok(pos >= 0.5 && pos < 0.7, "position " + pos);
  await call(MotorService.method.goTo, { name: "m1", rpm: 100, positionRevolutions: 0 });
  const back = (await call(MotorService.method.getPosition, { name: "m1" })).position;
  assert.ok(back <= 0 && back > -0.2, "position " + back);
  await rejects(call(MotorService.method.doCommand, { name: "m1", command: {} }), Code.UNIMPLEMENTED);
  assert.deepEqual((await call(MotorService.method.getGeometries, { name: "m1" })).geometries, []);

  await call(EncoderService.method.resetPosition, { name: "enc" });
  await call(MotorService.method.goFor, { name: "m1", rpm: 100, revolutions: 0.25 });
  const ticksCount = await call(EncoderService.method.getPosition, { name: "enc", positionType: PositionType.TICKS_COUNT });
  assert.ok(ticksCount.value >= 0.25 * TICKS_PER_ROTATION && ticksCount.value <= 0.25 * TICKS_PER_ROTATION + 3, String(ticksCount.value));
  const encoderProperties = await call(EncoderService.method.getProperties, { name: "enc" });
  assert.deepEqual([encoderProperties.ticksCountSupported, encoderProperties.angleDegreesSupported], [true, false]);
  await rejects(call(EncoderService.method.doCommand, { name: "enc", command: {} }), Code.UNIMPLEMENTED);
  assert.deepEqual((await call(EncoderService.method.getGeometries, { name: "enc" })).geometries, []);

  await call(ServoService.method.move, { name: "servo", angleDeg: 90 });
  assert.ok(Math.abs((w.pwm(PINS.servo)?.dutyCycle ?? 0) - 0.075) < 0.002);
  assert.equal((await call(ServoService.method.getPosition, { name: "servo" })).positionDeg, 90);
  assert.equal((await call(ServoService.method.isMoving, { name: "servo" })).isMoving, true);
  await call(ServoService.method.stop, { name: "servo" });
  assert.equal(w.pwm(PINS.servo)?.duty, 0);
  await rejects(call(ServoService.method.doCommand, { name: "servo", command: {} }), Code.UNIMPLEMENTED);
  assert.deepEqual((await call(ServoService.method.getGeometries, { name: "servo" })).geometries, []);

  assert.deepEqual((await call(GenericService.method.doCommand, { name: "heap-generic", command: {} })).result, { bytes: 123_456 });
  assert.deepEqual((await call(GenericService.method.getGeometries, { name: "heap-generic" })).geometries, []);

  // Robot and config.
  assert.equal((await call(RobotService.method.resourceNames, {})).resources.length, 9);
  assert.equal((await call(RobotService.method.resourceRPCSubtypes, {})).resourceRpcSubtypes.length, 8);
  const status = await call(RobotService.method.getMachineStatus, {});
  assert.equal(status.state, GetMachineStatusResponse_State.RUNNING);
  assert.equal(status.resources.length, 9);
  assert.equal((await call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
  assert.deepEqual((await call(RobotService.method.getOperations, {})).operations.map((o) => o.method), ["/viam.robot.v1.RobotService/GetOperations"]);
  await call(MotorService.method.setPower, { name: "m1", powerPct: 0.7 });
  await call(RobotService.method.stopAll, {});
  assert.equal(w.pwm(PINS.motor.pwm)?.duty, 0);
  await rejects(call(RobotService.method.getCloudMetadata, {}), Code.UNIMPLEMENTED);
  const session = await call(RobotService.method.startSession, { resume: "" });
  assert.equal(session.heartbeatWindow === undefined ? 0 : durationMs(session.heartbeatWindow), 2000);
  await call(RobotService.method.sendSessionHeartbeat, { id: session.id });
  await rejects(call(RobotService.method.sendSessionHeartbeat, { id: "no-such-session" }), Code.INVALID_ARGUMENT, /^SESSION_EXPIRED$/);

  const cfg = await call(ConfigService.method.getConfig, {});
  const set = await call(ConfigService.method.setConfig, { configJson: cfg.configJson }, { timeoutMs: 10_000 });
  assert.equal(set.revision, cfg.revision);
  assert.equal((await call(ConfigService.method.getConfig, {})).revision, cfg.revision);
}

const COMPONENT_SERVICES = [BoardService, SensorService, PowerSensorService, MovementSensorService, MotorService, EncoderService, ServoService, GenericService];

function assertEveryMethod(seen: Coverage): void {
  const expected = [
    ...COMPONENT_SERVICES.flatMap((s) => s.methods.map((m) => s.typeName + "/" + m.name)),
    ...["ResourceNames", "ResourceRPCSubtypes", "GetMachineStatus", "GetVersion", "GetOperations", "StopAll", "StartSession", "SendSessionHeartbeat"].map((m) => RobotService.typeName + "/" + m),
    ...ConfigService.methods.map((m) => ConfigService.typeName + "/" + m.name),
    AuthService.typeName + "/Authenticate",
  ];
  assert.deepEqual(expected.filter((name) => !seen.called.has(name)), []);
}

for (const engine of ENGINES) {
  describe(`micro runtime on ${engine}: every served method over TCP and a pseudo-terminal, then bad input`, () => {
    let sim: MicroSim;
    let dir: string;
    let pty: { readonly path: string; close(): Promise<void> };
    let tcp: MicroClient | undefined;
    let serial: MicroClient | undefined;

    before(async () => {
      assert.ok(socat, NO_SOCAT);
      sim = await startMicro({ engine, config: { ...standardConfig(), rpc_uart: UART }, frameTimeoutMs: 300 });
      dir = mkdtempSync(join(tmpdir(), "sprocket-micro-pty-"));
      pty = await serveUartOnPty(sim.world, join(dir, "tty"), UART);
    });

    after(async () => {
      tcp?.close();
      serial?.close();
      await pty?.close();
      await sim?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** The firmware still serves a fresh TCP client, and no exception escaped into the XS host. */
    async function stillServing(): Promise<void> {
      const c = await MicroClient.tcp(sim.port);
      await c.authenticate();
      assert.equal((await c.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
      c.close();
      await eventually(async () => (await sim.status()).connections === 0, 3000, "the connection gone");
      if (sim.fw?.xs) {
        assert.ok(sim.fw.xs.alive, "the XS worker runs");
        assert.deepEqual(sim.fw.xs.errors.map((e) => e.message), []);
      }
    }

    test("over TCP (4-byte length prefix): every served method", async () => {
      tcp = await MicroClient.tcp(sim.port);
      const seen = new Coverage();
      await everyServedMethod(tcp, sim, seen);
      assertEveryMethod(seen);
      tcp.close();
      tcp = undefined;
    });

    test("over a pseudo-terminal (COBS + CRC-32 at 115200 baud): every served method", async () => {
      serial = await MicroClient.serial(pty.path, UART.baud);
      const seen = new Coverage();
      await everyServedMethod(serial, sim, seen);
      assertEveryMethod(seen);
      assert.equal(uart(sim.world, UART.port).overruns, 0);
    });

    test("TCP: an oversized declared length closes that connection at once; others keep working", async () => {
      const other = await MicroClient.tcp(sim.port);
      await other.authenticate();
      for (const prefix of [
        [0xff, 0xff, 0xff, 0xff],
        [0x00, 0x01, 0x00, 0x00], // 64 KiB
        [0x00, 0x00, 0x14, 0x01], // 5121 bytes: one past the micro part's 5 KiB frames
      ]) {
        const s = await rawSocket(sim.port);
        s.write(Uint8Array.from(prefix));
        assert.ok(await closedWithin(s, 2000), "closed after " + prefix.join(","));
      }
      assert.equal((await other.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
      other.close();
      await stillServing();
    });

    test("TCP: garbage closes that connection (random bytes, a framed non-Request); others keep working", async () => {
      const other = await MicroClient.tcp(sim.port);
      await other.authenticate();
      const random = await rawSocket(sim.port);
      random.write(Uint8Array.from({ length: 64 }, (_, i) => (i * 97 + 13) & 0xff));
      assert.ok(await closedWithin(random, 2000));
      const framedJunk = await rawSocket(sim.port);
      framedJunk.write(Uint8Array.of(0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff));
      assert.ok(await closedWithin(framedJunk, 2000));
      assert.equal((await other.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
      other.close();
      await stillServing();
    });

    test("TCP: truncated frames close the connection (peer leaves mid-frame, frame or prefix left incomplete)", async () => {
      const other = await MicroClient.tcp(sim.port);
      await other.authenticate();
      const leaves = await rawSocket(sim.port);
      leaves.write(Uint8Array.of(0, 0, 0, 50, 1, 2, 3));
      leaves.end();
      assert.ok(await closedWithin(leaves, 2000));
      const stalls = await rawSocket(sim.port);
      stalls.write(Uint8Array.of(0, 0, 0, 50, 1, 2, 3));
      assert.ok(await closedWithin(stalls, 3000), "closed by the 300 ms frame timeout");
      const stallsInPrefix = await rawSocket(sim.port);
      stallsInPrefix.write(Uint8Array.of(0, 0));
      assert.ok(await closedWithin(stallsInPrefix, 3000));
      assert.equal((await other.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
      other.close();
      await stillServing();
    });

    test("TCP: a wrong key answers UNAUTHENTICATED and the connection stays usable", async () => {
      const c = await MicroClient.tcp(sim.port);
      for (const [entity, payload] of [
        [PART_ID, "wrong"],
        ["other-part", PART_KEY],
        [PART_ID, ""],
      ] as const) {
        assert.deepEqual(await outcome(c.authenticate(entity, payload)), { code: Code.UNAUTHENTICATED, message: "invalid credentials" });
      }
      assert.deepEqual(await outcome(c.call(SensorService.method.getReadings, { name: "env" })), { code: Code.UNAUTHENTICATED, message: "authentication required" });
      await c.authenticate();
      assert.ok(typeof (await c.call(SensorService.method.getReadings, { name: "env" })).readings.temperature.kind.value === "number");
      c.close();
      await stillServing();
    });

    test("TCP: a fifth connection gets RESOURCE_EXHAUSTED and is closed, a sixth meanwhile is closed; the four keep working", async () => {
      await eventually(async () => (await sim.status()).connections === 0, 3000, "an idle server");
      const four = await Promise.all(
        [0, 1, 2, 3].map(async () => {
          const c = await MicroClient.tcp(sim.port);
          await c.authenticate();
          return c;
        }),
      );
      assert.equal((await sim.status()).connections, 4);
      const fifth = await MicroClient.tcp(sim.port);
      assert.deepEqual(await outcome(fifth.authenticate()), { code: Code.RESOURCE_EXHAUSTED, message: "too many connections: this part serves at most 4" });
      assert.equal(await fifth.closed, "socket closed");
      const fifthAgain = await rawSocket(sim.port);
      const sixth = await rawSocket(sim.port);
      assert.ok(await closedWithin(sixth, 3000), "sixth closed");
      assert.ok(await closedWithin(fifthAgain, 3000), "silent fifth closed after the refusal timeout");
      for (const c of four) assert.equal((await c.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
      assert.ok((await sim.status()).refused >= 3);
      assert.equal(network(sim.world).refusedConnections, 0, "the simulated lwIP had sockets for all of them");
      for (const c of four) c.close();
      await stillServing();
    });

    test("pseudo-terminal: line noise, a corrupted frame, a truncated frame and an oversized one are dropped; the link goes on", async () => {
      assert.ok(serial, "the serial client of the earlier test");
      const counters = async () => (await sim.status()).uart ?? assert.fail("no UART connection");
      const start = await counters();
      const raw = (bytes: Uint8Array) => writeFileSync(pty.path, bytes);
      raw(Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 1) & 0xff)); // boot-log-like noise
      const corrupted = encodeCobsFrame(Uint8Array.of(0x0a, 0x02, 0x08, 0x63, 0x12, 0x01, 0x00));
      corrupted[4] ^= 0x10;
      raw(corrupted);
      raw(encodeCobsFrame(Uint8Array.from({ length: 60 }, (_, i) => i + 1)).subarray(0, 30)); // cut short…
      raw(Uint8Array.of(0)); // …and ended by the next delimiter
      raw(Uint8Array.from({ length: 5300 }, (_, i) => (i % 250) + 1)); // longer than the 5 KiB frame limit
      raw(Uint8Array.of(0));
      assert.equal((await serial.call(RobotService.method.getVersion, {}, { timeoutMs: 10_000 })).platform, "sprocket-micro");
      const end = await counters();
      assert.ok(end.dropped >= start.dropped + 4, `dropped ${end.dropped - start.dropped}`);
      assert.ok(end.crcErrors >= start.crcErrors + 1);
      assert.equal((await serial.call(SensorService.method.getReadings, { name: "env" })).readings.temperature.kind.case, "numberValue");
      await stillServing();
    });
  });
}

for (const engine of ENGINES) {
  test(`boot on ${engine} joins the provisioned Wi-Fi network (station mode) and advertises the RPC port over mDNS`, async () => {
    const sim = await startMicro({ engine, wifi: { ssid: "workshop", password: "hunter22" }, config: "{}", wire: () => undefined });
    try {
      const n = network(sim.world);
      await eventually(() => n.mdns.services.length === 1, 3000, "the mDNS service");
      assert.deepEqual([n.wifi.mode, n.wifi.ssid, n.wifi.connected, sim.world.wifiActive], [1, "workshop", true, true]);
      assert.equal(n.mdns.hostName, "sprocket-" + PART_ID);
      assert.deepEqual(n.mdns.services[0], { name: "sprocket", protocol: "tcp", port: 8081, txt: { part: PART_ID, version: "0.1.0" } });
    } finally {
      await sim.stop();
    }
  });

  test(`wifi, net, mdns and instrumentation answer alike on ${engine}: statics, accessors, callbacks`, async () => {
    const world = new World();
    world.freeHeap = 98_765;
    // On Node, "net" maps to the shim only for imports from firmware/ (Node has its own net): name the shim.
    const Net = engine === "node" ? new URL("../../tools/sim/shims/net.js", import.meta.url).href : "net";
    const fw = await startFirmware({ engine, world, expose: { WiFi: "wifi", Net, MDNS: "mdns", Instrumentation: "instrumentation" } });
    try {
      const early = await fw.run<unknown[]>(`
        const WiFi = modules.WiFi.default, Net = modules.Net.default, I = modules.Instrumentation.default;
        modules.log = [];
        WiFi.mode = WiFi.Mode.station;
        const before = [WiFi.mode, Net.get("IP") === undefined, Net.get("MAC")];
        modules.wifi = new WiFi({ ssid: "lab" }, (message) => modules.log.push("wifi " + message));
        WiFi.scan({}, (item) => modules.log.push("scan " + item));
        Net.resolve("localhost", (name, address) => modules.log.push("resolve " + name + " " + address));
        modules.mdns = new modules.MDNS.default({ hostName: "part" }, function (message, value) {
          modules.log.push("mdns " + message + " " + value + " " + (this === modules.mdns));
          this.add({ name: "x", protocol: "tcp", port: 1, txt: { a: "b" } });
        });
        return [...before, Net.get("SSID"), I.get(I.map("System Free Memory")), I.name(I.map("Timers")), I.map("nothing"), modules.mdns.hostName];`);
      assert.deepEqual(early, [1, true, "24:0a:c4:00:00:01", "lab", 98_765, "Timers", undefined, "part"]);
      await eventually(async () => (await fw.run<string[]>(`return modules.log`)).length >= 5, 3000, "the callbacks");
      assert.deepEqual((await fw.run<string[]>(`return modules.log`)).sort(), ["mdns 1 part true", "resolve localhost 127.0.0.1", "scan null", "wifi connect", "wifi gotIP"]);
      assert.deepEqual(network(world).mdns.services, [{ name: "x", protocol: "tcp", port: 1, txt: { a: "b" } }]);
      await fw.run(`modules.WiFi.default.disconnect(); modules.wifi.close();`);
      assert.equal(network(world).wifi.connected, false);
    } finally {
      await fw.stop();
      world.dispose();
    }
  });
}

for (const engine of ENGINES) {
  test(`sprocket micro-sim --engine ${engine} (a child process): examples/micro.json over TCP and the pty; SIGTERM exits cleanly`, async () => {
    assert.ok(socat, NO_SOCAT);
    const dir = mkdtempSync(join(tmpdir(), "sprocket-micro-sim-"));
    const ttyPath = join(dir, "tty");
    const id = "bench-part";
    const key = "k-" + engine + "-0123456789";
    const sim = await spawnMicroSim(["--config", EXAMPLE, "--listen", "tcp://127.0.0.1:0", "--serial", ttyPath, "--engine", engine, "--part-id", id, "--part-key", key]);
    try {
      assert.match(sim.output(), engine === "xs" ? /XS engine/ : /Node engine/);
      for (const d of ["BME280 on i2c0 (SDA 21, SCL 22) at 0x76", "INA219 on i2c0 (SDA 21, SCL 22) at 0x40", "INA226 on i2c0 (SDA 21, SCL 22) at 0x41", "MPU-6050 on i2c0 (SDA 21, SCL 22) at 0x68", "ADXL345 on i2c0 (SDA 21, SCL 22) at 0x53", "encoder enc on 32/33"]) {
        assert.ok(sim.output().includes(d), d + "\n" + sim.output());
      }
      const c = await MicroClient.tcp(sim.port);
      assert.deepEqual(await outcome(c.authenticate(id, PART_KEY)), { code: Code.UNAUTHENTICATED, message: "invalid credentials" });
      await c.authenticate(id, key);
      assert.equal((await c.call(RobotService.method.resourceNames, {})).resources.length, 11);
      const status = await c.call(RobotService.method.getMachineStatus, {});
      assert.deepEqual(status.resources.filter((r) => r.error !== "").map((r) => r.name?.name + ": " + r.error), []);
      const env = await c.call(SensorService.method.getReadings, { name: "env" });
      assert.ok(Math.abs((env.readings.temperature.kind.value as number) - 21.5) < 0.05);
      assert.ok(Math.abs((await c.call(PowerSensorService.method.getVoltage, { name: "power" })).volts - 4.95) < 0.01);
      assert.ok(Math.abs((await c.call(PowerSensorService.method.getVoltage, { name: "power2" })).volts - 4.95) < 0.01);
      const accel = (await c.call(MovementSensorService.method.getLinearAcceleration, { name: "accel" })).linearAcceleration;
      assert.ok(accel !== undefined && Math.abs(accel.z - 9.80665) < 0.2, JSON.stringify(accel));
      const analog = await c.call(BoardService.method.readAnalogReader, { boardName: "board", analogReaderName: "a1" });
      assert.equal(analog.value, Math.trunc((1650 * 1023) / 3300));
      await c.call(MotorService.method.goFor, { name: "m1", rpm: 100, revolutions: 0.25 });
      assert.ok((await c.call(MotorService.method.getPosition, { name: "m1" })).position >= 0.25, "the encoder followed the simulated motor");

      const s = await MicroClient.serial(sim.serial);
      await s.authenticate(id, key);
      assert.equal((await s.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
      assert.equal((await s.call(SensorService.method.getReadings, { name: "heap" })).readings.bytes.kind.case, "numberValue");
      s.close();
      c.close();
    } finally {
      sim.child.kill("SIGTERM");
      const code = await sim.exited;
      assert.equal(code, 0, sim.output());
      assert.match(sim.output(), /stopping \(SIGTERM\)/);
      assert.equal(existsSync(ttyPath), false, "socat removed the pty link");
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("micro-sim provisions from an NVS image; --part-key overrides the image's key (xs)", async () => {
  const config = { ...standardConfig(), components: standardConfig().components as object[] };
  const image = buildNvs(provisioningEntries({ partId: "from-image", partKey: "image-key", config: configBlob(config) }));
  const sim = await startMicroSimulator({ engine: "xs", host: "127.0.0.1", port: 0, nvs: image, partKey: "flag-key" });
  try {
    assert.equal(sim.provisioned.configSource, "--nvs");
    assert.deepEqual([sim.provisioned.partId, sim.provisioned.partKey], ["from-image", "flag-key"]);
    const c = await MicroClient.tcp(sim.port);
    assert.deepEqual(await outcome(c.authenticate("from-image", "image-key")), { code: Code.UNAUTHENTICATED, message: "invalid credentials" });
    await c.authenticate("from-image", "flag-key");
    assert.deepEqual(JSON.parse((await c.call(ConfigService.method.getConfig, {})).configJson), config);
    assert.equal((await c.call(RobotService.method.resourceNames, {})).resources.length, 9);
    assert.ok(Math.abs(((await c.call(SensorService.method.getReadings, { name: "env" })).readings.temperature.kind.value as number) - 21.5) < 0.05);
    c.close();
  } finally {
    await sim.stop();
  }
});
