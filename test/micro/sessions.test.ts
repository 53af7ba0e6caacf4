// Sessions on a micro part, on both engines: a client that stops heartbeating has its motor stopped
// within the heartbeat window while its link stays open (a TCP socket kept open, a UART that never
// closes), and the connection stays authenticated; heartbeats, or calls carrying `viam-sid`, keep the
// motor running; the window comes from the config's network.sessions.heartbeat_window; bad input
// gets a clear error and the part keeps serving. The deadlines here only bound a hang.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code } from "../../proto/channel/frames.js";
import { MotorService } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { ConfigService } from "../../proto/gen/sprocket/micro/v1/config_pb.js";
import { parseConfig } from "../../firmware/config/schema.js";
import { ConfigError } from "../../firmware/config/attributes.js";
import { serveUartOnPty } from "../../tools/cli/micro-sim.js";
import { haveSocat } from "../../tools/sim/esp32/pty.js";
import { ENGINES, MicroClient, PINS, standardConfig, startMicro, until, type MicroSim, outcome } from "./harness.js";

const UART = { port: 2, receive: 16, transmit: 17, baud: 115200 };
const socat = await haveSocat();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const EXPIRED = { code: Code.INVALID_ARGUMENT, message: "SESSION_EXPIRED" };

async function startSession(client: MicroClient, resume = ""): Promise<{ id: string; windowMs: number }> {
  const res = await client.call(RobotService.method.startSession, { resume });
  assert.ok(res.heartbeatWindow, "a heartbeat window");
  return { id: res.id, windowMs: durationMs(res.heartbeatWindow) };
}

async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await sleep(10);
  }
}

/** Calls `beat` every window/5 for `ms`, as a client keeping its session does. */
async function keepAlive(ms: number, windowMs: number, beat: () => Promise<unknown>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await beat();
    await sleep(windowMs / 5);
  }
}

/**
 * The whole story on one link: a session, the motor driven under it, kept running by heartbeats (or
 * by calls carrying viam-sid), then stopped by the part once the client goes quiet with its link open.
 */
async function motorStopsWhenHeartbeatsStop(sim: MicroSim, client: MicroClient, expectedWindowMs: number, beatWith: "heartbeat" | "viam-sid"): Promise<void> {
  const duty = () => sim.world.pwm(PINS.motor.pwm)?.dutyCycle ?? 0;
  await client.authenticate();
  const session = await startSession(client);
  assert.equal(session.windowMs, expectedWindowMs);
  assert.match(session.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const sid = { "viam-sid": [session.id] };
  await client.call(MotorService.method.setPower, { name: "m1", powerPct: 0.5 }, { metadata: sid });
  assert.ok(Math.abs(duty() - 0.5) < 0.01);

  const beat =
    beatWith === "heartbeat"
      ? () => client.call(RobotService.method.sendSessionHeartbeat, { id: session.id })
      : () => client.call(RobotService.method.getVersion, {}, { metadata: sid });
  await keepAlive(session.windowMs * 1.5, session.windowMs, beat);
  assert.ok(Math.abs(duty() - 0.5) < 0.01, "still running after 1.5 windows of heartbeats");

  // Quiet, with the link left open: the part stops the motor by itself.
  await until(() => duty() === 0, session.windowMs + 5000, "the motor stopped after the session lapsed");
  assert.deepEqual([sim.world.gpio.level(PINS.motor.a), sim.world.gpio.level(PINS.motor.b)], [0, 0]);
  assert.deepEqual(await outcome(client.call(RobotService.method.sendSessionHeartbeat, { id: session.id })), EXPIRED);

  // The connection is still open and authenticated: a new session, resumed while live, is the same one.
  assert.equal((await client.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
  const next = await startSession(client, session.id);
  assert.notEqual(next.id, session.id, "a lapsed session does not come back");
  assert.equal((await startSession(client, next.id)).id, next.id);
  const operations = await client.call(RobotService.method.getOperations, {});
  assert.deepEqual(operations.operations.map((o) => o.sessionId), [next.id]);
  await client.call(RobotService.method.sendSessionHeartbeat, { id: next.id });
}

test("network.sessions.heartbeat_window: a Go duration or milliseconds, 30 ms to 1 min, 2 s by default", () => {
  const windowOf = (network: unknown) => parseConfig(JSON.stringify({ network })).heartbeatWindowMs;
  assert.equal(parseConfig("{}").heartbeatWindowMs, 2000);
  assert.equal(windowOf({ bind_address: ":8081" }), 2000);
  assert.equal(windowOf({ sessions: {} }), 2000);
  assert.equal(windowOf({ sessions: { heartbeat_window: "0" } }), 2000);
  assert.equal(windowOf({ sessions: { heartbeat_window: "500ms" } }), 500);
  assert.equal(windowOf({ sessions: { heartbeat_window: "1.5s" } }), 1500);
  assert.equal(windowOf({ sessions: { heartbeat_window: "1m" } }), 60_000);
  assert.equal(windowOf({ sessions: { heartbeat_window: "1s250ms" } }), 1250);
  assert.equal(windowOf({ sessions: { heartbeat_window: 750 } }), 750);
  for (const [value, problem] of [
    ["10ms", /must be between 30ms and 1m, not "10ms"/],
    ["2m", /must be between 30ms and 1m/],
    [70_000, /must be between 30ms and 1m, not 70000/],
    ["2 s", /"2 s" is not a duration such as "2s"/],
    ["fast", /is not a duration/],
    ["5", /is not a duration/],
    ["3d", /is not a duration/],
    [true, /must be a duration such as "2s" or a number of milliseconds, not true/],
  ] as const) {
    assert.throws(() => windowOf({ sessions: { heartbeat_window: value } }), (e: unknown) => e instanceof ConfigError && problem.test(e.message), String(value));
  }
  assert.throws(() => windowOf({ sessions: "2s" }), /network.sessions must be an object/);
});

for (const engine of ENGINES) {
  describe(`sessions on a micro part (${engine})`, () => {
    let sim: MicroSim;
    let dir: string | undefined;
    let pty: { readonly path: string; close(): Promise<void> } | undefined;
    const clients: MicroClient[] = [];

    const tcp = async () => {
      const c = await MicroClient.tcp(sim.port);
      clients.push(c);
      return c;
    };

    before(async () => {
      sim = await startMicro({ engine, config: { ...standardConfig(), rpc_uart: UART } });
      if (socat) {
        dir = mkdtempSync(join(tmpdir(), "sprocket-sessions-"));
        pty = await serveUartOnPty(sim.world, join(dir, "tty"), UART);
      }
    });

    // At most 4 TCP connections per part: each test's go when it ends.
    afterEach(async () => {
      for (const c of clients.splice(0)) {
        c.close();
        await c.closed;
      }
      await eventually(async () => (await sim.status()).connections === 0, 10_000, "the test's connections gone");
    });

    after(async () => {
      await pty?.close();
      await sim?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test("TCP: heartbeats keep the motor running; silent with the socket open, the part stops it within the 2 s default window", async () => {
      await motorStopsWhenHeartbeatsStop(sim, await tcp(), 2000, "heartbeat");
    });

    test("UART (pseudo-terminal): the motor stops when the host goes quiet, though the UART never closes", { skip: !socat && "socat is not installed (apt-get install socat)" }, async () => {
      const serial = await MicroClient.serial(pty!.path, UART.baud);
      clients.push(serial);
      await motorStopsWhenHeartbeatsStop(sim, serial, 2000, "heartbeat");
    });

    test("bad input: StartSession before Authenticate, made-up and foreign ids, a malformed request; the part keeps serving", async () => {
      const stranger = await tcp();
      assert.deepEqual(await outcome(stranger.call(RobotService.method.startSession, { resume: "" })), { code: Code.UNAUTHENTICATED, message: "authentication required" });
      assert.deepEqual(await outcome(stranger.call(RobotService.method.sendSessionHeartbeat, { id: "x" })), { code: Code.UNAUTHENTICATED, message: "authentication required" });

      const a = await tcp();
      await a.authenticate();
      assert.deepEqual(await outcome(a.call(RobotService.method.sendSessionHeartbeat, { id: "no-such-session" })), EXPIRED);
      assert.deepEqual(await outcome(a.call(RobotService.method.sendSessionHeartbeat, { id: "" })), EXPIRED);
      const own = await startSession(a, "made-up-id");
      assert.notEqual(own.id, "made-up-id", "resuming an unknown id starts a new session");

      // Sessions belong to their connection: another one can neither beat for nor resume it.
      const b = await tcp();
      await b.authenticate();
      assert.deepEqual(await outcome(b.call(RobotService.method.sendSessionHeartbeat, { id: own.id })), EXPIRED);
      assert.notEqual((await startSession(b, own.id)).id, own.id);
      await a.call(RobotService.method.sendSessionHeartbeat, { id: own.id });

      const malformed = await outcome(a.client.unary("/viam.robot.v1.RobotService/StartSession", {}, Uint8Array.of(0x0a, 0x05, 0x01), { timeoutMs: 5000 }));
      assert.equal(malformed.code, Code.INVALID_ARGUMENT);
      assert.match(malformed.message, /malformed request/);

      assert.equal((await a.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
      const fresh = await tcp();
      await fresh.authenticate();
      assert.equal((await fresh.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
      if (sim.fw?.xs) assert.deepEqual(sim.fw.xs.errors.map((e) => e.message), []);
    });

    test("closing a connection ends its session at once, not at its lapse", async () => {
      const c = await tcp();
      await c.authenticate();
      const config = { ...standardConfig(), rpc_uart: UART, network: { sessions: { heartbeat_window: "1m" } } };
      await c.call(ConfigService.method.setConfig, { configJson: JSON.stringify(config) }, { timeoutMs: 10_000 });
      const liveSessions = () => sim.run<number>("return runtime.machine.safety.sessions.size;");
      // The earlier tests' sessions lapse within their 2 s windows.
      await eventually(async () => (await liveSessions()) === 0, 10_000, "the earlier sessions gone");
      assert.equal((await startSession(c)).windowMs, 60_000);
      assert.equal(await liveSessions(), 1);
      c.close();
      await c.closed;
      await eventually(async () => (await liveSessions()) === 0, 10_000, "the session ended with its connection");
    });

    test("a configured heartbeat_window (SetConfig, for sessions started after it) is what StartSession gives and what the part enforces", async () => {
      const c = await tcp();
      await c.authenticate();
      const config = { ...standardConfig(), rpc_uart: UART, network: { sessions: { heartbeat_window: "1s" } } };
      await c.call(ConfigService.method.setConfig, { configJson: JSON.stringify(config) }, { timeoutMs: 10_000 });
      await motorStopsWhenHeartbeatsStop(sim, await tcp(), 1000, "heartbeat");
    });

    test("TCP: calls carrying viam-sid count as heartbeats", async () => {
      await motorStopsWhenHeartbeatsStop(sim, await tcp(), 1000, "viam-sid");
    });
  });

  test(`a heartbeat_window in the boot config (milliseconds) is honoured (${engine})`, async () => {
    const sim = await startMicro({ engine, config: { ...standardConfig(), network: { sessions: { heartbeat_window: 1500 } } } });
    const client = await MicroClient.tcp(sim.port);
    try {
      await motorStopsWhenHeartbeatsStop(sim, client, 1500, "heartbeat");
    } finally {
      client.close();
      await sim.stop();
    }
  });
}
