// Managed micro config: the host's config file gives the remote micro part its own config
// (`part_config`); the host pushes it with ConfigService/SetConfig when it connects and again when
// the file changes only there (over the same connection: no reconnect). The part applies it without
// a reboot; the host shows the part's resources with the part's own states (a sensor that does not
// answer on its bus is UNHEALTHY with the part's error), and a part_config the part refuses leaves
// the part on its previous config while the remote's node says why.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ResourceStatus_State, RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { parseMachineConfig } from "../../host/config/load.js";
import { startHost, type Host } from "../../host/host.js";
import { createLogger } from "../../host/log/logger.js";
import { PINS, startMicro, type MicroSim } from "../micro/harness.js";
import { entry, eventually, microRemote, stateOf } from "./support.js";

const BOARD = {
  name: "board",
  api: "rdk:component:board",
  model: "esp32",
  attributes: { pins: [PINS.gpio], i2cs: [{ name: "i2c0", bus: "i2c0", data_pin: PINS.i2c.data, clock_pin: PINS.i2c.clock }] },
};
const ENV = { name: "env", api: "rdk:component:sensor", model: "bme280", attributes: { i2c_bus: "i2c0" } };
const HEAP = { name: "heap", api: "rdk:component:sensor", model: "free-heap" };
/** Nothing answers at 0x77 on the simulated bus: the part cannot build it. */
const ENV2 = { name: "env2", api: "rdk:component:sensor", model: "bme280", attributes: { i2c_bus: "i2c0", i2c_address: 0x77 } };
const BAD = { name: "bad", api: "rdk:component:sensor", model: "no-such-model" };

const partConfig = (...components: object[]) => ({ components: [BOARD, ...components] });

describe("part_config: the host manages a micro part's config", () => {
  let sim: MicroSim;
  let dir: string;
  let file: string;
  let host: Host;
  let robot: ReturnType<typeof createClient<typeof RobotService>>;

  const hostConfig = (pc: object) => ({
    network: { bind_address: "127.0.0.1:0" },
    components: [{ name: "local", api: "rdk:component:sensor", model: "fake" }],
    remotes: [microRemote("esp", `tcp://127.0.0.1:${sim.port}`, { part_config: pc, connection_check_interval: "300ms" })],
  });

  const writeHostConfig = (pc: object) => writeFile(file, JSON.stringify(hostConfig(pc), null, 2));

  before(async () => {
    sim = await startMicro(); // boots with the standard machine stored in its flash
    dir = await mkdtemp(join(tmpdir(), "sprocket-part-config-"));
    file = join(dir, "machine.json");
    const text = JSON.stringify(hostConfig(partConfig(ENV)), null, 2);
    await writeFile(file, text);
    host = await startHost({
      config: parseMachineConfig(text, file),
      configPath: file,
      configText: text,
      watchDebounceMs: 50,
      logger: createLogger({ level: "error" }),
    });
    robot = createClient(RobotService, createGrpcTransport({ baseUrl: host.url }));
  });

  after(async () => {
    await host?.close();
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("is pushed on connect: the part runs it and the host lists exactly its resources", async () => {
    await eventually("esp:env ready", () => stateOf(host, "rdk:component:sensor/esp:env") === "ready");
    assert.deepEqual(JSON.parse(sim.runtime.config.text), partConfig(ENV));
    assert.deepEqual(
      sim.runtime.machine.entries().map((e) => e.name.name),
      ["board", "env"],
    );
    // The standard machine's other resources (m1, servo, …) are gone from the host too.
    assert.equal(stateOf(host, "rdk:component:motor/esp:m1"), "absent");
    assert.equal(stateOf(host, "rdk:component:sensor/esp:heap"), "absent");
  });

  it("an edit of the host config file reaches the part over the same connection; a sensor the part cannot build shows UNHEALTHY with the part's error", async () => {
    const connectionsBefore = [...(sim.runtime.tcp?.connections ?? [])];
    await writeHostConfig(partConfig(ENV, HEAP, ENV2));
    await eventually("esp:heap ready", () => stateOf(host, "rdk:component:sensor/esp:heap") === "ready");
    await eventually("esp:env2 unhealthy", () => stateOf(host, "rdk:component:sensor/esp:env2") === "unhealthy");
    assert.deepEqual(JSON.parse(sim.runtime.config.text), partConfig(ENV, HEAP, ENV2));
    assert.deepEqual([...(sim.runtime.tcp?.connections ?? [])], connectionsBefore, "no reconnect");

    const partError = sim.runtime.machine.entries().find((e) => e.name.name === "env2")?.error;
    assert.ok(partError);
    assert.equal(entry(host, "rdk:component:sensor/esp:env2")?.error, partError);
    const status = await robot.getMachineStatus({});
    const env2 = status.resources.find((r) => r.name?.name === "esp:env2");
    assert.equal(env2?.state, ResourceStatus_State.UNHEALTHY);
    assert.equal(env2?.error, partError);
    assert.equal(status.resources.find((r) => r.name?.name === "esp:heap")?.state, ResourceStatus_State.READY);
    // The new sensor answers through the host.
    const sensor = createClient(SensorService, createGrpcTransport({ baseUrl: host.url }));
    const readings = await sensor.getReadings({ name: "esp:heap" });
    assert.ok(Object.keys(readings.readings).length > 0);
  });

  it("a part_config the part refuses leaves the part on its previous config; the host shows why", async () => {
    await writeHostConfig(partConfig(ENV, HEAP, BAD));
    await eventually("the remote's node unhealthy", () => stateOf(host, "rdk-internal:remote:/esp") === "unhealthy");
    const why = entry(host, "rdk-internal:remote:/esp")?.error ?? "";
    assert.match(why, /part_config rejected by the part/);
    assert.match(why, /no-such-model/);
    // The part still runs the last config it accepted, and its resources stay usable through the host.
    assert.deepEqual(JSON.parse(sim.runtime.config.text), partConfig(ENV, HEAP, ENV2));
    assert.equal(stateOf(host, "rdk:component:sensor/esp:heap"), "ready");
    assert.equal(stateOf(host, "rdk:component:sensor/local"), "ready");
    const status = await robot.getMachineStatus({});
    const node = status.resources.find((r) => r.name?.namespace === "rdk-internal" && r.name?.name === "esp");
    assert.equal(node?.state, ResourceStatus_State.UNHEALTHY);
    assert.match(node?.error ?? "", /no-such-model/);

    // Fixed in the file: the part takes it, the node is ready again, the dropped resources go.
    await writeHostConfig(partConfig(ENV));
    await eventually("the remote's node ready", () => stateOf(host, "rdk-internal:remote:/esp") === "ready");
    await eventually("esp:heap gone", () => stateOf(host, "rdk:component:sensor/esp:heap") === "absent");
    assert.equal(stateOf(host, "rdk:component:sensor/esp:env2"), "absent");
    assert.deepEqual(JSON.parse(sim.runtime.config.text), partConfig(ENV));
  });
});
