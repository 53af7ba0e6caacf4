// A host answering WebRTC calls through an external signaling server (spec §4.6): `sprocket signaling`
// runs as its own process, the host (in this process) answers through it under its cloud names, and
// the official SDK dials the machine by name with the signaling server as `signalingAddress`.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-node";
import { MotorClient, RobotClient, SensorClient, type Credential } from "@viamrobotics/sdk";
import type { Host } from "../../host/host.js";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import { allFakesConfig, startTestHost, withApiKey } from "../support/host.js";
import { startSignalingProcess, type SignalingProcess } from "./answerer-env.js";
import { quietSdk, waitFor } from "./wrtc-env.js";

const fqdn = "rover.sprocket.test";
const localFqdn = "rover.local";
const callerKey: Credential = { type: "api-key", authEntity: "caller-key", payload: "caller-secret" };
const keyArgs = ["--api-key", "caller-key:caller-secret", "--api-key", "rover-key:rover-secret"];

function cloudConfig(port: number, key = "rover-secret") {
  return {
    id: "rover-part-id",
    fqdn,
    local_fqdn: localFqdn,
    api_key: { id: "rover-key", key },
    signaling_address: `127.0.0.1:${port}`,
    signaling_insecure: true,
  };
}

function dialThrough(sig: SignalingProcess, host: string, credentials: Credential = callerKey): Promise<RobotClient> {
  // `new RobotClient().dial` rather than `createRobotClient` (see wrtc-env.ts `dialWebRtc`).
  return new RobotClient().dial({ host, signalingAddress: sig.url, credentials, noReconnect: true, dialTimeout: 10_000 });
}

describe("a host answering through `sprocket signaling` in another process", () => {
  let sig: SignalingProcess;
  let host: Host;
  let restore: () => void;
  const clients: RobotClient[] = [];

  before(async () => {
    restore = quietSdk();
    sig = await startSignalingProcess("127.0.0.1:0", [...keyArgs, "--heartbeat-interval", "50ms"]);
    // With auth on: calls on the data channel pass as authenticated at the signaling server.
    host = await startTestHost({ ...withApiKey(allFakesConfig()), cloud: cloudConfig(sig.port) });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.disconnect()));
    await host?.close();
    await sig?.stop();
    restore?.();
  });

  test("the host waits for calls on two Answer streams, under its fqdn and local fqdn", async () => {
    assert.ok(host.answerer, "an answerer is running");
    assert.deepEqual(host.answerer.hosts, [fqdn, localFqdn]);
    await waitFor("two waiting Answer streams", () => host.answerer!.stats.waiting === 2, 5000);
  });

  test("heartbeats arrive on the waiting streams and are ignored", async () => {
    const before = host.answerer!.stats;
    const seen = before.heartbeats;
    const streams = before.streams;
    await waitFor("heartbeats", () => host.answerer!.stats.heartbeats >= seen + 4, 5000);
    // Nothing was answered and no stream was replaced because of them.
    assert.equal(host.answerer!.stats.streams, streams);
    assert.equal(host.answerer!.stats.calls, 0);
  });

  test("the SDK dials the machine by name: a sensor reads, a motor runs", async () => {
    const client = await dialThrough(sig, fqdn);
    clients.push(client);
    assert.equal(client.peerConnection?.connectionState, "connected");
    // The call came through the external signaler, not the host's own.
    assert.equal(host.signaling.peerCount, 0);
    assert.equal(host.answerer!.peerCount, 1);
    const readings = await new SensorClient(client, "sensor1").getReadings();
    assert.equal(typeof readings.sine, "number");
    const motor = new MotorClient(client, "motor1");
    await motor.setPower(0.25);
    assert.deepEqual(await motor.isPowered(), [true, 0.25]);
    await motor.stop();
  });

  test("two clients dialing at once both connect (two answer loops), by either name", async () => {
    const calls = host.answerer!.stats.calls;
    const [a, b] = await Promise.all([dialThrough(sig, fqdn), dialThrough(sig, localFqdn)]);
    clients.push(a, b);
    assert.equal(a.peerConnection?.connectionState, "connected");
    assert.equal(b.peerConnection?.connectionState, "connected");
    assert.equal(host.answerer!.stats.calls, calls + 2);
    const [ra, rb] = await Promise.all([new SensorClient(a, "sensor1").getReadings(), new SensorClient(b, "sensor1").getReadings()]);
    assert.equal(typeof ra.sine, "number");
    assert.equal(typeof rb.sine, "number");
  });

  test("a wrong key at the signaling server is refused", async () => {
    const auth = createClient(AuthService, createGrpcWebTransport({ baseUrl: sig.url, httpVersion: "1.1" }));
    await assert.rejects(auth.authenticate({ entity: "caller-key", credentials: { type: "api-key", payload: "wrong" } }), (err) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.Unauthenticated);
      assert.equal(err.rawMessage, "invalid credentials");
      return true;
    });
    const calls = host.answerer!.stats.calls;
    await assert.rejects(dialThrough(sig, fqdn, { ...callerKey, payload: "wrong" }));
    assert.equal(host.answerer!.stats.calls, calls, "no call reached the host");
  });

  test("the signaling server is killed and restarted: the host answers again by itself", async () => {
    const port = sig.port;
    const established = clients[0]!;
    await sig.kill();
    // Peer connections do not need the signaler once they are up.
    const readings = await new SensorClient(established, "sensor1").getReadings();
    assert.equal(typeof readings.sine, "number");
    await waitFor("the answerer to notice", () => host.answerer!.stats.waiting === 0, 5000);

    sig = await startSignalingProcess(`127.0.0.1:${port}`, [...keyArgs, "--heartbeat-interval", "50ms"]);
    await waitFor("two waiting Answer streams again", () => host.answerer!.stats.waiting === 2, 10_000);
    const client = await dialThrough(sig, fqdn);
    clients.push(client);
    assert.equal(client.peerConnection?.connectionState, "connected");
    const motor = new MotorClient(client, "motor1");
    await motor.setPower(-0.5);
    assert.deepEqual(await motor.isPowered(), [true, -0.5]);
    await motor.stop();
  });
});

describe("a host with a wrong cloud key", () => {
  let sig: SignalingProcess;
  let host: Host;

  before(async () => {
    sig = await startSignalingProcess("127.0.0.1:0", keyArgs);
    host = await startTestHost({ ...allFakesConfig(), cloud: cloudConfig(sig.port, "not-the-secret") });
  });

  after(async () => {
    await host?.close();
    await sig?.stop();
  });

  test("is refused by the signaling server and keeps retrying without answering", async () => {
    await waitFor("an authentication error", () => (host.answerer!.stats.lastError ?? "").includes("invalid credentials"), 5000);
    assert.match(host.answerer!.stats.lastError!, /authenticating to the signaling server: invalid credentials/);
    assert.equal(host.answerer!.stats.streams, 0);
  });
});
