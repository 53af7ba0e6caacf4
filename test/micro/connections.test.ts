// Connections of the micro RPC server: authentication first, the 4-connection cap with a clean
// refusal of the fifth, and bad input (garbage, truncated frames, oversized declared lengths) that
// ends only the offending connection while the firmware and the other connections carry on.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { Code } from "../../proto/channel/frames.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import { network } from "../../tools/sim/network.js";
import { setWorld } from "../../tools/sim/world.js";
import { MicroClient, PART_ID, PART_KEY, connectAuthenticated, startMicro, until, type MicroSim, outcome as code } from "./harness.js";

let sim: MicroSim;

before(async () => {
  sim = await startMicro({ frameTimeoutMs: 300 });
});

after(async () => {
  await sim?.stop();
});

async function rawSocket(): Promise<Socket> {
  const s = connect({ host: "127.0.0.1", port: sim.port, noDelay: true });
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

async function stillServing(): Promise<void> {
  const c = await connectAuthenticated(sim);
  const v = await c.call(RobotService.method.getVersion, {});
  assert.equal(v.platform, "sprocket-micro");
  c.close();
  await until(() => sim.runtime.tcp?.connections.size === 0, 2000, "connection gone");
}

test("every call before Authenticate answers UNAUTHENTICATED \"authentication required\"", async () => {
  const c = await MicroClient.tcp(sim.port);
  for (const call of [
    c.call(RobotService.method.getVersion, {}),
    c.call(SensorService.method.getReadings, { name: "env" }),
    c.client.unary("/viam.component.arm.v1.ArmService/Nope", {}, new Uint8Array(0)),
  ]) {
    assert.deepEqual(await code(call), { code: Code.UNAUTHENTICATED, message: "authentication required" });
  }
  await c.authenticate();
  assert.equal((await c.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
  c.close();
});

test("wrong key, wrong id or wrong type: UNAUTHENTICATED \"invalid credentials\", and still unauthenticated", async () => {
  const c = await MicroClient.tcp(sim.port);
  const bad = [
    { entity: PART_ID, credentials: { type: "api-key", payload: PART_KEY + "x" } },
    { entity: PART_ID, credentials: { type: "api-key", payload: PART_KEY.slice(0, -1) } },
    { entity: "other-part", credentials: { type: "api-key", payload: PART_KEY } },
    { entity: PART_ID, credentials: { type: "robot-location-secret", payload: PART_KEY } },
    { entity: PART_ID },
  ];
  for (const req of bad) {
    assert.deepEqual(await code(c.call(AuthService.method.authenticate, req)), { code: Code.UNAUTHENTICATED, message: "invalid credentials" });
  }
  assert.equal((await code(c.call(RobotService.method.getVersion, {}))).message, "authentication required");
  const token = await c.authenticate();
  assert.ok(token.length > 0);
  c.close();
});

test("authentication belongs to the connection: a new connection starts unauthenticated", async () => {
  const a = await connectAuthenticated(sim);
  const b = await MicroClient.tcp(sim.port);
  assert.equal((await code(b.call(RobotService.method.getVersion, {}))).code, Code.UNAUTHENTICATED);
  assert.equal((await a.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
  a.close();
  b.close();
});

test("a fifth connection gets RESOURCE_EXHAUSTED on its first call and is closed; the four keep working", async () => {
  await until(() => sim.runtime.tcp?.connections.size === 0, 2000, "idle server");
  const four = await Promise.all([0, 1, 2, 3].map(() => connectAuthenticated(sim)));
  assert.equal(sim.runtime.tcp?.connections.size, 4);
  const fifth = await MicroClient.tcp(sim.port);
  const refused = await code(fifth.call(AuthService.method.authenticate, { entity: PART_ID, credentials: { type: "api-key", payload: PART_KEY } }));
  assert.deepEqual(refused, { code: Code.RESOURCE_EXHAUSTED, message: "too many connections: this part serves at most 4" });
  assert.equal(await fifth.closed, "socket closed");
  for (const c of four) assert.equal((await c.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
  assert.ok((sim.runtime.tcp?.refused ?? 0) >= 1);
  // One refusal at a time; a sixth that arrives meanwhile is just closed. Both leave the four alone.
  const fifthAgain = await rawSocket();
  const sixth = await rawSocket();
  assert.ok(await closedWithin(sixth, 1500), "sixth closed");
  assert.ok(await closedWithin(fifthAgain, 2000), "silent fifth closed after the refusal timeout");
  for (const c of four) c.close();
  await until(() => sim.runtime.tcp?.connections.size === 0, 2000, "four closed");
  await stillServing();
});

test("the simulated lwIP never ran out of sockets (listener + 4 + the one being refused fit the budget)", () => {
  assert.equal(network(sim.world).refusedConnections, 0);
  assert.ok(network(sim.world).maxSockets >= 6);
});

test("an oversized declared length closes that connection at once; others keep working", async () => {
  const other = await connectAuthenticated(sim);
  for (const prefix of [
    [0xff, 0xff, 0xff, 0xff],
    [0x00, 0x01, 0x00, 0x00], // 64 KiB: far above the micro part's 5 KiB frame limit
    [0x00, 0x00, 0x14, 0x01], // 5121 bytes: one past it
    [0x00, 0x00, 0x14, 0x01], // 5121 bytes: one past it
  ]) {
    const s = await rawSocket();
    s.write(Uint8Array.from(prefix));
    assert.ok(await closedWithin(s, 1000), "closed after " + prefix);
  }
  assert.equal((await other.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
  other.close();
  await stillServing();
});

test("garbage closes that connection: random bytes, and a well-framed frame that is not a Request", async () => {
  const other = await connectAuthenticated(sim);
  const random = await rawSocket();
  random.write(Uint8Array.from({ length: 64 }, (_, i) => (i * 97 + 13) & 0xff));
  assert.ok(await closedWithin(random, 1000));
  const framedJunk = await rawSocket();
  framedJunk.write(Uint8Array.of(0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff));
  assert.ok(await closedWithin(framedJunk, 1000));
  assert.equal((await other.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
  other.close();
  await stillServing();
});

test("a truncated frame: closed when the peer leaves mid-frame, or when the frame stays incomplete", async () => {
  const other = await connectAuthenticated(sim);
  const leaves = await rawSocket();
  leaves.write(Uint8Array.of(0, 0, 0, 50, 1, 2, 3));
  leaves.end();
  assert.ok(await closedWithin(leaves, 1000));
  const stalls = await rawSocket();
  stalls.write(Uint8Array.of(0, 0, 0, 50, 1, 2, 3));
  assert.equal(await closedWithin(stalls, 100), false, "not before the frame timeout");
  assert.ok(await closedWithin(stalls, 1000), "closed by the 300 ms frame timeout");
  const stallsInPrefix = await rawSocket();
  stallsInPrefix.write(Uint8Array.of(0, 0));
  assert.ok(await closedWithin(stallsInPrefix, 1000));
  assert.equal((await other.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
  other.close();
  await stillServing();
});

test("a client that drops mid-call leaves the firmware serving", async () => {
  const c = await connectAuthenticated(sim);
  void c.call(RobotService.method.getMachineStatus, {}).catch(() => undefined);
  c.close();
  await stillServing();
});

test("a part without a provisioned key accepts no one", async () => {
  const other = await startMicro({ partKey: null, wire: () => undefined, config: "{}" });
  try {
    const c = await MicroClient.tcp(other.port);
    assert.deepEqual(await code(c.authenticate(PART_ID, "")), { code: Code.UNAUTHENTICATED, message: "invalid credentials" });
    assert.deepEqual(await code(c.authenticate()), { code: Code.UNAUTHENTICATED, message: "invalid credentials" });
    c.close();
  } finally {
    await other.stop();
    setWorld(sim.world); // one simulated board per process is current at a time
  }
});
