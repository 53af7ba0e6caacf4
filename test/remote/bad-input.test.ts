// Remotes that misbehave: one answering garbage (random bytes on a TCP socket), one that accepts and
// never answers, a micro part given the wrong key, and an address no transport knows. Each is logged
// with its reason and UNHEALTHY in GetMachineStatus with that reason, keeps being retried, and the
// rest of the machine (a local fake, a good micro part) keeps serving.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { RobotClient, SensorClient } from "@viamrobotics/sdk";
import { parseMachineConfig } from "../../host/config/load.js";
import { startHost, type Host } from "../../host/host.js";
import { createLogger } from "../../host/log/logger.js";
import { startMicro, type MicroSim } from "../micro/harness.js";
import { disconnectSdk, tameSdk } from "../sdk/harness.js";
import { dialHost, eventually, microRemote, stateOf } from "./support.js";

interface StatusShape {
  name?: { namespace: string; type: string; subtype: string; name: string };
  state: number;
  error: string;
}

async function listen(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

describe("remotes that answer garbage, never answer, or refuse the key", () => {
  let sim: MicroSim;
  let garbage: Awaited<ReturnType<typeof listen>>;
  let silent: Awaited<ReturnType<typeof listen>>;
  let host: Host;
  let client: RobotClient;
  let untame: () => void;
  const logs: string[] = [];

  before(async () => {
    untame = tameSdk();
    sim = await startMicro();
    garbage = await listen((s) => {
      s.write(randomBytes(64));
      s.on("data", () => s.write(randomBytes(64)));
    });
    silent = await listen(() => undefined);
    const config = parseMachineConfig(
      JSON.stringify({
        network: { bind_address: "127.0.0.1:0" },
        components: [{ name: "local", api: "rdk:component:sensor", model: "fake" }],
        remotes: [
          microRemote("esp", `tcp://127.0.0.1:${sim.port}`),
          microRemote("garbage", `tcp://127.0.0.1:${garbage.port}`),
          microRemote("silent", `tcp://127.0.0.1:${silent.port}`),
          microRemote("wrongkey", `tcp://127.0.0.1:${sim.port}`, {
            auth: { entity: "part-1234", credentials: { type: "api-key", payload: "not-the-key" } },
          }),
          microRemote("nowhere", "carrier-pigeon:coop-7"),
        ],
      }),
      "bad-remotes.json",
    );
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    host = await startHost({ config, logger: createLogger({ level: "info", out }) });
    client = await dialHost(host);
  });

  after(async () => {
    if (client) await disconnectSdk(client);
    await host?.close();
    for (const l of [garbage, silent]) {
      for (const s of l?.sockets ?? []) s.destroy();
      await new Promise((r) => l?.server.close(r));
    }
    await sim?.stop();
    untame?.();
  });

  async function status(name: string): Promise<StatusShape | undefined> {
    const s = await client.getMachineStatus();
    return (s.resources as StatusShape[]).find((r) => r.name?.namespace === "rdk-internal" && r.name.name === name);
  }

  const UNHEALTHY = 5;

  it("garbage: UNHEALTHY with a framing or protocol error, logged", async () => {
    const s = await status("garbage");
    assert.equal(s?.state, UNHEALTHY);
    assert.match(s?.error ?? "", /framing error|protocol error|no answer within|closed/);
    assert.ok(logs.some((l) => l.includes("remote is unreachable") && l.includes("garbage")), "the reason is logged");
  });

  it("silent: UNHEALTHY because nothing answered in time", async () => {
    const s = await status("silent");
    assert.equal(s?.state, UNHEALTHY);
    assert.match(s?.error ?? "", /authenticate: no answer within \d+ ms/);
    assert.ok(logs.some((l) => l.includes("silent") && l.includes("no answer within")));
  });

  it("wrong key: UNHEALTHY with the part's UNAUTHENTICATED answer", async () => {
    const s = await status("wrongkey");
    assert.equal(s?.state, UNHEALTHY);
    assert.match(s?.error ?? "", /UNAUTHENTICATED: invalid credentials/);
  });

  it("an address no transport knows: UNHEALTHY, naming the known schemes", async () => {
    const s = await status("nowhere");
    assert.equal(s?.state, UNHEALTHY);
    assert.match(s?.error ?? "", /no transport for "carrier-pigeon"/);
  });

  it("everything else keeps serving: the local fake and the good micro part", async () => {
    const local = await new SensorClient(client, "local").getReadings();
    assert.equal(local.a, 1);
    const env = await new SensorClient(client, "esp:env").getReadings();
    assert.equal(typeof env.temperature, "number");
    assert.equal(stateOf(host, "rdk-internal:remote:/esp"), "ready");
    const machine = await client.getMachineStatus();
    assert.equal(machine.state, 2 /* RUNNING */);
  });

  it("bad remotes keep being retried without disturbing the rest (still unhealthy, still serving)", async () => {
    const attempts = () => logs.filter((l) => l.includes("garbage")).length;
    const before = attempts();
    // A few retry rounds (each backoff step is at most the 200 ms reconnect_interval).
    await eventually("the garbage remote to be tried again", async () => {
      await new SensorClient(client, "local").getReadings();
      return stateOf(host, "rdk-internal:remote:/garbage") === "unhealthy" && (host.remotes.part("garbage")?.error ?? "") !== "";
    });
    assert.ok(attempts() >= before);
    assert.equal(stateOf(host, "rdk-internal:remote:/esp"), "ready");
  });
});
