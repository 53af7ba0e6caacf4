// A host's session with a gRPC remote: host A (a child process, so it can be frozen) has host B as
// a remote and drives B's motor for a client. A keeps a session with B (StartSession, heartbeats,
// `viam-sid` on its calls), so while A lives the motor runs, and when A freezes (no FIN, no goodbye)
// B's session for A lapses and B stops the motor itself. A remote without sessions still works, and
// against a scripted remote the connection starts another session (resuming the old id) when the
// remote says its session lapsed, from a heartbeat or from a call (which it then repeats).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type ConnectRouter, type Transport } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { ResourceNameSchema } from "../../proto/gen/common/v1/common_pb.js";
import { MotorService, SetPowerRequestSchema } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import { RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { motorApi, type Motor } from "../../host/components/motor/motor.js";
import type { Host } from "../../host/host.js";
import { createLogger } from "../../host/log/logger.js";
import { GrpcConnection } from "../../host/remote/grpc.js";
import { unaryBytes } from "../../host/remote/typed.js";
import { internalCall } from "../../host/resource/resource.js";
import { startTestHost, testKeyId, testKeySecret, withApiKey, type ObservedRequest } from "../support/host.js";
import { eventually } from "./support.js";

const cli = fileURLToPath(new URL("../../host/cli.js", import.meta.url));
const setPowerPath = "/viam.component.motor.v1.MotorService/SetPower";

/** `sprocket serve` as a child process, with its output kept for failure messages. */
class ServedHost {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly url: Promise<string>;

  constructor(configPath: string) {
    this.child = spawn(process.execPath, [cli, "serve", "--config", configPath], { stdio: ["ignore", "pipe", "pipe"] });
    this.url = new Promise((resolve, reject) => {
      let buffered = "";
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString("utf8");
        const parts = buffered.split("\n");
        buffered = parts.pop()!;
        for (const line of parts) {
          this.lines.push(line);
          const banner = /^Sprocket .* serving .* at (\S+)/.exec(line);
          if (banner) resolve(banner[1]);
        }
      };
      this.child.stdout!.on("data", onData);
      this.child.stderr!.on("data", onData);
      this.child.once("exit", (code) => reject(new Error(`sprocket serve exited (${code}) before serving:\n${this.lines.join("\n")}`)));
    });
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

/** A gRPC transport over an HTTP/2 connection the test closes itself (a frozen peer never would). */
function transportTo(baseUrl: string, token?: string): { transport: Transport; close: () => void } {
  const sessionManager = new Http2SessionManager(baseUrl);
  const transport = createGrpcTransport({
    baseUrl,
    sessionManager,
    interceptors: token === undefined ? [] : [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))],
  });
  return { transport, close: () => sessionManager.abort() };
}

async function isPowered(host: Host, name: string): Promise<boolean> {
  return (await host.machine.get<Motor>(motorApi, name).isPowered(internalCall())).isOn;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const motorName = create(ResourceNameSchema, { namespace: "rdk", type: "component", subtype: "motor", name: "m1" });

/** RobotService's listing of one motor, m1, as a remote's. */
const listsOneMotor = {
  resourceNames: () => ({ resources: [motorName] }),
  resourceRPCSubtypes: () => ({ resourceRpcSubtypes: [{ subtype: { ...motorName, name: "" }, protoService: MotorService.typeName }] }),
};

/** An h2c gRPC server on a free loopback port; `onRequest` sees each request's path first. */
async function startGrpcServer(routes: (router: ConnectRouter) => void, onRequest?: (path: string) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const handler = connectNodeAdapter({ routes });
  const server = http2.createServer((req, res) => {
    onRequest?.(req.url);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("a host's session with a gRPC remote", () => {
  const heartbeatWindowMs = 500;
  let dir: string;
  let b: Host;
  let a: ServedHost;
  let toA: { transport: Transport; close: () => void };
  let toB: { transport: Transport; close: () => void };
  const setPowerSessions: (string | undefined)[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sprocket-grpc-session-"));
    b = await startTestHost(
      withApiKey({
        components: [{ name: "motor1", api: "rdk:component:motor", model: "fake", attributes: { max_rpm: 600 } }],
        network: { sessions: { heartbeat_window: `${heartbeatWindowMs}ms` } },
      }),
      {
        onRequest: (req: ObservedRequest) => {
          if (req.path === setPowerPath) setPowerSessions.push(req.headers["viam-sid"] as string | undefined);
        },
      },
    );
    const configPath = join(dir, "a.json");
    const remote = {
      name: "b",
      address: `127.0.0.1:${new URL(b.url).port}`,
      insecure: true,
      auth: { entity: testKeyId, credentials: { type: "api-key", payload: testKeySecret } },
      connection_check_interval: "200ms",
      reconnect_interval: "200ms",
    };
    await writeFile(configPath, JSON.stringify({ network: { bind_address: "127.0.0.1:0" }, remotes: [remote] }));
    a = new ServedHost(configPath);
    toA = transportTo(await a.url);
    const robotA = createClient(RobotService, toA.transport);
    await eventually("A to list b:motor1", async () => (await robotA.resourceNames({})).resources.some((r) => r.name === "b:motor1"));

    const { accessToken } = await createClient(AuthService, createGrpcTransport({ baseUrl: b.url })).authenticate({
      entity: testKeyId,
      credentials: { type: "api-key", payload: testKeySecret },
    });
    toB = transportTo(b.url, accessToken);
  });

  after(async () => {
    a?.kill();
    toA?.close();
    toB?.close();
    await b?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("keeps B's motor running while A lives and idles: A's heartbeats keep its session with B", async () => {
    await createClient(MotorService, toA.transport).setPower({ name: "b:motor1", powerPct: 0.5 });
    assert.ok(await isPowered(b, "motor1"));
    assert.equal(setPowerSessions.length, 1);
    const sid = setPowerSessions[0];
    assert.ok(sid, "the forwarded SetPower carried A's viam-sid");

    await sleep(4 * heartbeatWindowMs);
    assert.ok(await isPowered(b, "motor1"), "the motor still runs after several windows");
    const { sessions } = await createClient(RobotService, toB.transport).getSessions({});
    assert.deepEqual(
      sessions.map((s) => s.id),
      [sid],
      "B lists A's session, the one SetPower came under",
    );
  });

  it("stops B's motor when A freezes: B's session for A lapses", async (t) => {
    assert.ok(await isPowered(b, "motor1"));
    a.child.kill("SIGSTOP");
    t.after(() => a.kill());
    await eventually("B to stop its motor", async () => !(await isPowered(b, "motor1")));
    const { sessions } = await createClient(RobotService, toB.transport).getSessions({});
    assert.deepEqual(sessions, []);
  });
});

describe("a gRPC remote without sessions", () => {
  let remote: { url: string; close: () => Promise<void> };
  let host: Host;
  const calls: { power: number; sid: string | undefined }[] = [];
  let startSessionCalls = 0;

  before(async () => {
    // A remote as an older or foreign server might be: RobotService without the session calls, which
    // connect's router answers UNIMPLEMENTED.
    remote = await startGrpcServer(
      (router) => {
        router.service(RobotService, listsOneMotor);
        router.service(MotorService, {
          setPower: (req, ctx) => {
            calls.push({ power: req.powerPct, sid: ctx.requestHeader.get("viam-sid") ?? undefined });
            return {};
          },
        });
      },
      (path) => {
        if (path === "/viam.robot.v1.RobotService/StartSession") startSessionCalls += 1;
      },
    );
    host = await startTestHost({
      remotes: [{ name: "old", address: new URL(remote.url).host, insecure: true, connection_check_interval: "200ms", reconnect_interval: "200ms" }],
    });
    await eventually("old:m1 to be ready", () => host.machine.entries().some((e) => e.name.name === "old:m1" && e.state === "ready"));
  });

  after(async () => {
    await host?.close();
    await remote?.close();
  });

  it("connects and forwards calls, without a viam-sid", async () => {
    const to = transportTo(host.url);
    try {
      await createClient(MotorService, to.transport).setPower({ name: "old:m1", powerPct: 0.25 });
    } finally {
      to.close();
    }
    assert.deepEqual(calls, [{ power: 0.25, sid: undefined }]);
    assert.equal(startSessionCalls, 1, "asked once, at connect");
  });
});

describe("a gRPC remote's session lapsing under a live connection", () => {
  let remote: { url: string; close: () => Promise<void> };
  let connection: GrpcConnection;
  /** StartSession's `resume` per session started, in order; session n is "s<n>". */
  const resumes: string[] = [];
  const heartbeats: string[] = [];
  const setPowerSessions: (string | undefined)[] = [];
  /** Sessions the remote no longer has, as its heartbeats and monitored calls see them. */
  const lapsedForHeartbeats = new Set<string>();
  const lapsedForCalls = new Set<string>();
  const sessionExpired = () => new ConnectError("SESSION_EXPIRED", Code.InvalidArgument);

  before(async () => {
    remote = await startGrpcServer((router) => {
      router.service(RobotService, {
        ...listsOneMotor,
        startSession: (req) => {
          resumes.push(req.resume);
          return { id: `s${resumes.length}`, heartbeatWindow: durationFromMs(100) };
        },
        sendSessionHeartbeat: (req) => {
          heartbeats.push(req.id);
          if (lapsedForHeartbeats.has(req.id)) throw sessionExpired();
          return {};
        },
      });
      router.service(MotorService, {
        setPower: (_req, ctx) => {
          const sid = ctx.requestHeader.get("viam-sid") ?? undefined;
          setPowerSessions.push(sid);
          if (sid !== undefined && lapsedForCalls.has(sid)) throw sessionExpired();
          return {};
        },
      });
    });
    connection = new GrpcConnection({ baseUrl: remote.url, auth: {}, callTimeoutMs: 1000, logger: createLogger({ level: "error" }) });
    await connection.connect(AbortSignal.timeout(5000));
  });

  after(async () => {
    await connection?.close();
    await remote?.close();
  });

  const setPower = () => unaryBytes(connection.call(setPowerPath, toBinary(SetPowerRequestSchema, create(SetPowerRequestSchema, { name: "m1", powerPct: 0.5 }))));

  it("starts a session at connect and heartbeats it", async () => {
    assert.deepEqual(resumes, [""]);
    await eventually("a few heartbeats of s1", () => heartbeats.filter((id) => id === "s1").length >= 3);
    await setPower();
    assert.deepEqual(setPowerSessions, ["s1"]);
  });

  it("a heartbeat answered SESSION_EXPIRED: another session, resuming the old id first", async () => {
    lapsedForHeartbeats.add("s1");
    await eventually("heartbeats of s2", () => heartbeats.includes("s2"));
    assert.deepEqual(resumes, ["", "s1"]);
    await setPower();
    assert.equal(setPowerSessions.at(-1), "s2");
  });

  it("a call answered SESSION_EXPIRED: another session, and the call once more under it", async () => {
    lapsedForCalls.add("s2");
    setPowerSessions.length = 0;
    await setPower();
    assert.deepEqual(setPowerSessions, ["s2", "s3"]);
    assert.deepEqual(resumes, ["", "s1", "s2"]);
  });

  it("close() ends the heartbeats", async () => {
    await connection.close();
    await sleep(50);
    const count = heartbeats.length;
    await sleep(200);
    assert.equal(heartbeats.length, count);
  });
});
