// A second Sprocket host as a remote over gRPC (HTTP/2 h2c, api-key auth): the official SDK,
// connected to the first host only, runs the shared component API checks against the second host's
// fakes through the first host's forwarder (the bare names resolve to the remote's resources, as
// rdk's simple names do), reads them under `b:` names, and the token is renewed when refused.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RobotClient, SensorClient } from "@viamrobotics/sdk";
import { parseMachineConfig } from "../../host/config/load.js";
import type { Host } from "../../host/host.js";
import { apiChecks } from "../sdk/api-checks.js";
import { disconnectSdk, tameSdk } from "../sdk/harness.js";
import { allFakesConfig, startTestHost, testKeyId, testKeySecret, withApiKey } from "../support/host.js";
import { dialHost, eventually, stateOf } from "./support.js";

const componentCheck = /^(sensor|board|motor|encoder|movement sensor|power sensor|servo|generic): |^an unknown resource name/;

describe("a Sprocket host as a remote over gRPC (h2c, api key)", () => {
  let remote: Host;
  let host: Host;
  let client: RobotClient;
  let untame: () => void;

  before(async () => {
    untame = tameSdk();
    remote = await startTestHost(withApiKey(allFakesConfig()));
    host = await startTestHost({
      remotes: [
        {
          name: "b",
          address: remote.url,
          auth: { entity: testKeyId, credentials: { type: "api-key", payload: testKeySecret } },
          connection_check_interval: "200ms",
          reconnect_interval: "200ms",
        },
      ],
    });
    client = await dialHost(host);
  });

  after(async () => {
    if (client) await disconnectSdk(client);
    await host?.close();
    await remote?.close();
    untame?.();
  });

  it("connects over gRPC, lists the remote's resources as b:name, and shows the remote READY", async () => {
    assert.equal(host.remotes.part("b")?.connection?.kind, "grpc");
    const names = ((await client.resourceNames()) as { subtype: string; name: string }[]).map((r) => `${r.subtype}/${r.name}`).sort();
    assert.deepEqual(names, [
      "board/b:board1",
      "encoder/b:encoder1",
      "generic/b:generic1",
      "motor/b:motor1",
      "movement_sensor/b:imu1",
      "power_sensor/b:power1",
      "sensor/b:sensor1",
      "servo/b:servo1",
    ]);
    assert.equal(stateOf(host, "rdk-internal:remote:/b"), "ready");
    const r = await new SensorClient(client, "b:sensor1").getReadings();
    assert.deepEqual([r.a, r.b, r.c], [1, 2, 3]);
  });

  describe("the shared SDK component checks, through the host to the remote's fakes", () => {
    for (const check of apiChecks.filter((c) => componentCheck.test(c.name))) {
      it(check.name, () => check.run({ client, host: remote }));
    }
  });

  it("the remote restarting on its port: its resources go UNHEALTHY, then come back (new token, new connection)", async () => {
    const port = new URL(remote.url).port;
    await remote.close();
    await eventually("b:sensor1 to go UNHEALTHY", () => stateOf(host, "rdk:component:sensor/b:sensor1") === "unhealthy");
    remote = await startTestHost(withApiKey({ ...allFakesConfig(), network: { bind_address: `127.0.0.1:${port}` } }));
    await eventually("b:sensor1 to be READY again", () => stateOf(host, "rdk:component:sensor/b:sensor1") === "ready");
    const r = await new SensorClient(client, "b:sensor1").getReadings();
    assert.deepEqual([r.a, r.b, r.c], [1, 2, 3]);
  });

  it("a config without the remote (reconfigure) drops it and its resources", async () => {
    await host.reconfigurer.submit(parseMachineConfig(JSON.stringify({ network: { bind_address: "127.0.0.1:0" } }), "no-remotes.json"));
    assert.equal(stateOf(host, "rdk-internal:remote:/b"), "absent");
    const names = (await client.resourceNames()) as { name: string }[];
    assert.deepEqual(names.filter((n) => n.name.startsWith("b:")), []);
    assert.equal(host.remotes.part("b"), undefined);
  });
});
