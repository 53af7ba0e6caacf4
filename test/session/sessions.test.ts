// Sessions and the safety stop, end to end over h2c gRPC with connect-node clients, plus the
// session pieces (manager, interceptor, safetyMonitor) in process.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MotorService } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import { PeerConnectionType, RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { motorApi, type Motor } from "../../host/components/motor/motor.js";
import type { Host } from "../../host/host.js";
import { createLogger } from "../../host/log/logger.js";
import { resourceNameString, type ResourceName } from "../../host/resource/name.js";
import { internalCall } from "../../host/resource/resource.js";
import { safetyMonitor, SAFETY_MONITORED_RESOURCE_METADATA_KEY, SESSION_ID_METADATA_KEY } from "../../host/session/context.js";
import { isSafetyHeartbeatMonitored, sessionInterceptor } from "../../host/session/interceptor.js";
import { SessionManager, type SessionResources } from "../../host/session/manager.js";
import { allFakesConfig, startTestHost } from "../support/host.js";

const WINDOW_MS = 300;
/** The product requirement: an abandoned actuator stops within the window plus this. */
const STOP_SLACK_MS = 100;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sid = (id: string) => ({ headers: { [SESSION_ID_METADATA_KEY]: id } });

function configWithWindow(window = `${WINDOW_MS}ms`): Record<string, unknown> {
  const base = allFakesConfig();
  return {
    ...base,
    components: [...(base.components as object[]), { name: "motor2", api: "rdk:component:motor", model: "fake", attributes: { max_rpm: 100 } }],
    network: { sessions: { heartbeat_window: window } },
  };
}

function isConnectError(code: Code, message: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ConnectError, `expected ConnectError, got ${String(err)}`);
    assert.equal(err.code, code, `code of ${err.message}`);
    assert.equal(err.rawMessage, message);
    return true;
  };
}
const sessionExpired = isConnectError(Code.InvalidArgument, "SESSION_EXPIRED");

async function powered(host: Host, name: string): Promise<boolean> {
  return (await host.machine.get<Motor>(motorApi, name).isPowered(internalCall())).isOn;
}

/** Polls every few ms until the motor is off; resolves with performance.now() at that moment. */
async function whenStopped(host: Host, name: string, limitMs: number): Promise<number> {
  const until = performance.now() + limitMs;
  while (performance.now() < until) {
    if (!(await powered(host, name))) return performance.now();
    await sleep(2);
  }
  assert.fail(`${name} still powered after ${limitMs} ms`);
}

/** Heartbeats `id` every window/5 (as the SDKs do) until the returned stop is called. */
function keepAlive(robot: Client<typeof RobotService>, id: string): () => void {
  const timer = setInterval(() => void robot.sendSessionHeartbeat({ id }).catch(() => {}), WINDOW_MS / 5);
  return () => clearInterval(timer);
}

describe("sessions over gRPC", () => {
  let host: Host;
  let transport: Transport;
  let robot: Client<typeof RobotService>;
  let motor: Client<typeof MotorService>;

  before(async () => {
    host = await startTestHost(configWithWindow());
    transport = createGrpcTransport({ baseUrl: host.url });
    robot = createClient(RobotService, transport);
    motor = createClient(MotorService, transport);
  });
  after(async () => {
    await host?.close();
  });

  it("StartSession returns a UUIDv4 id and the configured heartbeat window", async () => {
    const res = await robot.startSession({});
    assert.match(res.id, UUID_V4);
    assert.ok(res.heartbeatWindow);
    assert.equal(durationMs(res.heartbeatWindow), WINDOW_MS);
    assert.deepEqual([res.heartbeatWindow.seconds, res.heartbeatWindow.nanos], [0n, 300_000_000]);
  });

  it("the window defaults to 2 s", async () => {
    const other = await startTestHost(allFakesConfig());
    try {
      const res = await createClient(RobotService, createGrpcTransport({ baseUrl: other.url })).startSession({});
      assert.equal(durationMs(res.heartbeatWindow!), 2000);
    } finally {
      await other.close();
    }
  });

  it("heartbeats keep a session alive beyond its window; GetSessions lists it with the peer's addresses", async () => {
    const { id } = await robot.startSession({});
    const stop = keepAlive(robot, id);
    await sleep(WINDOW_MS * 3);
    stop();
    await robot.sendSessionHeartbeat({ id });
    const { sessions } = await robot.getSessions({});
    const mine = sessions.find((s) => s.id === id);
    assert.ok(mine, "session listed");
    assert.equal(mine.peerConnectionInfo?.type, PeerConnectionType.GRPC);
    assert.match(mine.peerConnectionInfo?.remoteAddress ?? "", /^127\.0\.0\.1:\d+$/);
    assert.equal(mine.peerConnectionInfo?.localAddress, `127.0.0.1:${host.server.listener.port}`);
  });

  it("any call carrying a live viam-sid counts as a heartbeat", async () => {
    const { id } = await robot.startSession({});
    for (let i = 0; i < 8; i++) {
      await sleep(WINDOW_MS / 3);
      await motor.getPosition({ name: "motor1" }, sid(id));
    }
    await robot.sendSessionHeartbeat({ id });
  });

  it("a lapsed session answers SESSION_EXPIRED to heartbeats and to monitored calls; others still work", async () => {
    const { id } = await robot.startSession({});
    await sleep(WINDOW_MS + 100);
    await assert.rejects(robot.sendSessionHeartbeat({ id }), sessionExpired);
    await assert.rejects(motor.setPower({ name: "motor1", powerPct: 0.2 }, sid(id)), sessionExpired);
    await assert.rejects(motor.goFor({ name: "motor1", rpm: 10, revolutions: 1 }, sid(id)), sessionExpired);
    assert.equal(await powered(host, "motor1"), false);
    // GetPosition is not safety-monitored: the dead session is ignored.
    const { position } = await motor.getPosition({ name: "motor1" }, sid(id));
    assert.equal(typeof position, "number");
    assert.ok(!(await robot.getSessions({})).sessions.some((s) => s.id === id), "no longer listed");
  });

  it("an unknown session id is SESSION_EXPIRED too", async () => {
    await assert.rejects(robot.sendSessionHeartbeat({ id: "3b0a0a4e-7c55-4b0b-9d3c-6d1f0f3c2a11" }), sessionExpired);
    await assert.rejects(robot.sendSessionHeartbeat({ id: "not-a-uuid" }), sessionExpired);
    await assert.rejects(motor.setPower({ name: "motor1", powerPct: 0.2 }, sid("not-a-uuid")), sessionExpired);
  });

  it("resume returns the live session, else starts a new one", async () => {
    const { id } = await robot.startSession({});
    const resumed = await robot.startSession({ resume: id });
    assert.equal(resumed.id, id);
    assert.equal(durationMs(resumed.heartbeatWindow!), WINDOW_MS);
    const unknown = await robot.startSession({ resume: "3b0a0a4e-7c55-4b0b-9d3c-6d1f0f3c2a11" });
    assert.notEqual(unknown.id, id);
    await sleep(WINDOW_MS + 100);
    const afterLapse = await robot.startSession({ resume: id });
    assert.notEqual(afterLapse.id, id);
    assert.match(afterLapse.id, UUID_V4);
  });

  it("starting a session from a call that already has a live one fails as rdk: UNKNOWN 'session already exists'", async () => {
    const { id } = await robot.startSession({});
    await assert.rejects(robot.startSession({}, sid(id)), isConnectError(Code.Unknown, "session already exists"));
    // A dead one does not count.
    await sleep(WINDOW_MS + 100);
    const fresh = await robot.startSession({}, sid(id));
    assert.notEqual(fresh.id, id);
  });

  it(`stops an actuator whose session lapsed within the window + ${STOP_SLACK_MS} ms`, async (t) => {
    const { id } = await robot.startSession({});
    const t0 = performance.now();
    await motor.setPower({ name: "motor1", powerPct: 0.5 }, sid(id));
    assert.equal(await powered(host, "motor1"), true);
    const positionBefore = (await motor.getPosition({ name: "motor1" })).position;
    // No more heartbeats (the polls below go in process and carry no session).
    const stoppedAt = await whenStopped(host, "motor1", WINDOW_MS + 1000);
    const elapsed = stoppedAt - t0;
    t.diagnostic(`stopped ${elapsed.toFixed(1)} ms after the SetPower call (window ${WINDOW_MS} ms)`);
    assert.ok(elapsed >= WINDOW_MS - 5, `stopped too early: ${elapsed.toFixed(1)} ms`);
    assert.ok(elapsed <= WINDOW_MS + STOP_SLACK_MS, `stopped ${elapsed.toFixed(1)} ms after the last call (limit ${WINDOW_MS + STOP_SLACK_MS})`);
    const p1 = (await motor.getPosition({ name: "motor1" })).position;
    assert.ok(p1 > positionBefore, "it moved while powered");
    await sleep(50);
    assert.equal((await motor.getPosition({ name: "motor1" })).position, p1, "position no longer grows");
  });

  it("does not stop what another live session commanded, nor what it commanded last", async () => {
    const a = (await robot.startSession({})).id;
    const b = (await robot.startSession({})).id;
    const stopB = keepAlive(robot, b);
    try {
      await motor.setPower({ name: "motor1", powerPct: 0.5 }, sid(a));
      await motor.setPower({ name: "motor2", powerPct: 0.5 }, sid(b));
      await whenStopped(host, "motor1", WINDOW_MS + STOP_SLACK_MS + 50);
      assert.equal(await powered(host, "motor2"), true, "motor2 belongs to the live session");

      // a commands motor1 first, b last: a's lapse leaves it running.
      const a2 = (await robot.startSession({})).id;
      await motor.setPower({ name: "motor1", powerPct: 0.3 }, sid(a2));
      await motor.setPower({ name: "motor1", powerPct: 0.4 }, sid(b));
      await sleep(WINDOW_MS + 150);
      await assert.rejects(robot.sendSessionHeartbeat({ id: a2 }), sessionExpired);
      assert.equal(await powered(host, "motor1"), true, "motor1 was last commanded by the live session");
    } finally {
      stopB();
    }
    // Now b lapses too: both its motors stop.
    await whenStopped(host, "motor1", WINDOW_MS + STOP_SLACK_MS + 50);
    await whenStopped(host, "motor2", 50);
  });

  it("a monitored call without a session takes the resource out of the safety stop", async () => {
    const { id } = await robot.startSession({});
    await motor.setPower({ name: "motor1", powerPct: 0.5 }, sid(id));
    await motor.setPower({ name: "motor1", powerPct: 0.6 });
    await sleep(WINDOW_MS + 150);
    await assert.rejects(robot.sendSessionHeartbeat({ id }), sessionExpired);
    assert.equal(await powered(host, "motor1"), true);
    await motor.stop({ name: "motor1" });
  });
});

describe("sessions belong to the authenticated entity", () => {
  let host: Host;
  const clients = new Map<string, { robot: Client<typeof RobotService>; motor: Client<typeof MotorService> }>();

  before(async () => {
    host = await startTestHost({
      ...configWithWindow(),
      auth: { handlers: [{ type: "api-key", config: { keys: ["key-a", "key-b"], "key-a": "secret-a", "key-b": "secret-b" } }] },
    });
    for (const entity of ["key-a", "key-b"]) {
      const plain = createGrpcTransport({ baseUrl: host.url });
      const { accessToken } = await createClient(AuthService, plain).authenticate({
        entity,
        credentials: { type: "api-key", payload: `secret-${entity.slice(-1)}` },
      });
      const transport = createGrpcTransport({
        baseUrl: host.url,
        interceptors: [
          (next) => (req) => {
            req.header.set("authorization", `Bearer ${accessToken}`);
            return next(req);
          },
        ],
      });
      clients.set(entity, { robot: createClient(RobotService, transport), motor: createClient(MotorService, transport) });
    }
  });
  after(async () => {
    await host?.close();
  });

  it("another entity can neither heartbeat, resume, nor use the session", async () => {
    const a = clients.get("key-a")!;
    const b = clients.get("key-b")!;
    const { id } = await a.robot.startSession({});
    await assert.rejects(b.robot.sendSessionHeartbeat({ id }), sessionExpired);
    assert.notEqual((await b.robot.startSession({ resume: id })).id, id);
    await assert.rejects(b.motor.setPower({ name: "motor1", powerPct: 0.5 }, sid(id)), sessionExpired);
    assert.equal((await a.robot.startSession({ resume: id })).id, id);
    await a.robot.sendSessionHeartbeat({ id });
  });
});

describe("session pieces in process", () => {
  const motorName: ResourceName = { ...motorApi, name: "m1" };

  function stubResources(stopped: string[], failing = new Set<string>()): SessionResources {
    return {
      resolve: (service, name) => (service === MotorService.typeName ? { ...motorApi, name } : undefined),
      stop: async (target) => {
        const n = resourceNameString(target);
        if (failing.has(n)) throw new Error("stuck");
        stopped.push(n);
        return true;
      },
    };
  }

  it("reads safety_heartbeat_monitored from the method descriptors", () => {
    const monitored = MotorService.methods.filter(isSafetyHeartbeatMonitored).map((m) => m.name);
    assert.deepEqual(monitored.sort(), ["GoFor", "GoTo", "SetPower", "SetRPM"]);
    assert.equal(RobotService.methods.some(isSafetyHeartbeatMonitored), false);
  });

  it("a failed stop is logged and does not keep the others from stopping", async () => {
    const stopped: string[] = [];
    const lines: string[] = [];
    const logger = createLogger({ level: "debug", out: { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream });
    const sessions = new SessionManager({
      heartbeatWindowMs: 40,
      resources: stubResources(stopped, new Set(["rdk:component:motor/bad"])),
      logger,
    });
    const s = sessions.start("");
    sessions.associate(s.id, motorName);
    sessions.associate(s.id, { ...motorApi, name: "bad" });
    assert.equal(sessions.lastCommandedBy(motorName), s.id);
    await sleep(80);
    await sessions.close();
    assert.deepEqual(stopped, ["rdk:component:motor/m1"]);
    assert.equal(sessions.lastCommandedBy(motorName), undefined);
    const log = lines.join("");
    assert.match(log, /stopped the resources/);
    assert.match(log, /failed to stop some resources/);
    assert.match(log, /stuck/);
  });

  it("close ends sessions without stopping anything", async () => {
    const stopped: string[] = [];
    const sessions = new SessionManager({ heartbeatWindowMs: 30, resources: stubResources(stopped), logger: createLogger({ level: "error" }) });
    const s = sessions.start("");
    sessions.associate(s.id, motorName);
    await sessions.close();
    await sleep(60);
    assert.deepEqual(stopped, []);
    assert.equal(sessions.find(s.id, ""), undefined);
  });

  it("safetyMonitor puts a target under the caller's session and names it in viam-smrn", async () => {
    const stopped: string[] = [];
    const sessions = new SessionManager({ heartbeatWindowMs: 1000, resources: stubResources(stopped), logger: createLogger({ level: "error" }) });
    const target: ResourceName = { namespace: "rdk", type: "component", subtype: "base", name: "b1" };
    const transport = createRouterTransport(
      (router) => {
        router.service(MotorService, {
          isMoving: (_req, ctx) => {
            safetyMonitor(ctx, target);
            return { isMoving: false };
          },
        });
      },
      { router: { interceptors: [sessionInterceptor(sessions)] } },
    );
    const client = createClient(MotorService, transport);
    const s = sessions.start("");
    let header: Headers | undefined;
    await client.isMoving({ name: "m1" }, { ...sid(s.id), onHeader: (h) => (header = h) });
    assert.equal(header?.get(SAFETY_MONITORED_RESOURCE_METADATA_KEY), "rdk:component:base/b1");
    assert.equal(sessions.lastCommandedBy(target), s.id);
    // Without a session the header is still set, and nothing is associated.
    await client.isMoving({ name: "m1" }, { onHeader: (h) => (header = h) });
    assert.equal(header?.get(SAFETY_MONITORED_RESOURCE_METADATA_KEY), "rdk:component:base/b1");
    await sessions.close();
  });
});
