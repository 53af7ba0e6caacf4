// Killing a micro part's simulator: `sprocket micro-sim` runs as its own process (each engine), a
// host has it as a tcp:// remote with a host gpio motor on its board. SIGKILL (no goodbye from the
// firmware) makes the part's resources and the motor UNHEALTHY within the connection check interval;
// starting the simulator again on the same port brings them back with no action on the host.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Host } from "../../host/host.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { ENGINES } from "../micro/harness.js";
import { startTestHost } from "../support/host.js";
import { ROOT, spawnMicroSim, type MicroSimProcess } from "../support/micro-sim-process.js";
import { entry, eventually, stateOf } from "./support.js";

const CHECK_INTERVAL_MS = 2000;
const PART = { id: "killed-part", key: "kill-me-0123456789abcdef" };

for (const engine of ENGINES) {
  describe(`a micro-sim process (${engine} engine) killed and started again`, () => {
    let part: MicroSimProcess;
    let host: Host;
    let port: number;
    const args = (port: number) => [
      "--config",
      join(ROOT, "examples/micro.json"),
      "--listen",
      `tcp://127.0.0.1:${port}`,
      "--engine",
      engine,
      "--part-id",
      PART.id,
      "--part-key",
      PART.key,
      "--quiet",
    ];

    before(async () => {
      part = await spawnMicroSim(args(0));
      port = part.port;
      host = await startTestHost({
        remotes: [
          {
            name: "esp",
            address: `tcp://127.0.0.1:${port}`,
            auth: { entity: PART.id, credentials: { type: "api-key", payload: PART.key } },
            connection_check_interval: `${CHECK_INTERVAL_MS}ms`,
            reconnect_interval: "200ms",
          },
        ],
        components: [
          { name: "local", api: "rdk:component:sensor", model: "fake" },
          { name: "hm", api: "rdk:component:motor", model: "gpio", attributes: { board: "esp:board", pins: { a: "18", b: "19", pwm: "23" }, max_rpm: 100 } },
        ],
      });
      await eventually("the part's resources READY", () => stateOf(host, "rdk:component:motor/hm") === "ready", 30_000);
    });

    after(async () => {
      await host?.close();
      part?.child.kill("SIGKILL");
      await part?.exited;
    });

    it("SIGKILL: the part's resources and the host motor on its board go UNHEALTHY within the check interval", async () => {
      const killedAt = performance.now();
      part.child.kill("SIGKILL");
      await eventually("esp:env UNHEALTHY", () => stateOf(host, "rdk:component:sensor/esp:env") === "unhealthy", 10_000);
      const noticedMs = performance.now() - killedAt;
      assert.ok(noticedMs < CHECK_INTERVAL_MS, `noticed after ${Math.round(noticedMs)} ms, check interval ${CHECK_INTERVAL_MS} ms`);
      assert.match(entry(host, "rdk-internal:remote:/esp")?.error ?? "", /closed/);
      await eventually("hm UNHEALTHY", () => stateOf(host, "rdk:component:motor/hm") === "unhealthy", 10_000);
      const sensors = createClient(SensorService, createGrpcTransport({ baseUrl: host.url }));
      await assert.rejects(sensors.getReadings({ name: "esp:env" }), /not connected/);
      // The rest of the machine keeps serving.
      assert.ok(Object.keys((await sensors.getReadings({ name: "local" })).readings).length > 0);
    });

    it("started again on the same port: everything comes back by itself", async () => {
      part = await spawnMicroSim(args(port));
      await eventually("esp:env READY again", () => stateOf(host, "rdk:component:sensor/esp:env") === "ready", 30_000);
      await eventually("hm READY again", () => stateOf(host, "rdk:component:motor/hm") === "ready", 30_000);
      const sensors = createClient(SensorService, createGrpcTransport({ baseUrl: host.url }));
      const r = await sensors.getReadings({ name: "esp:env" });
      assert.ok(Math.abs((r.readings.temperature.kind.value as number) - 21.5) < 0.05);
    });
  });
}
