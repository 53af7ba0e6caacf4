// The embedded default: `sim:<micro config>` remotes are simulated micro parts the host starts itself
// (tools/cli/micro-sim.ts on the Node engine), and `npm start`'s examples/machine.json runs the host's
// fakes beside one (`esp`), with a host gpio motor on `esp:board`. Run from the repository root, as
// `npm test` does (the example's sim path is relative to the working directory).
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MotorService } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import { RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { parseMachineConfig } from "../../host/config/load.js";
import { startHost, type Host } from "../../host/host.js";
import { createLogger } from "../../host/log/logger.js";
import { parseSimAddress } from "../../host/remote/sim.js";
import { network } from "../../tools/sim/network.js";
import { world } from "../../tools/sim/world.js";
import { MicroClient } from "../micro/harness.js";
import { eventually, stateOf } from "./support.js";

async function hostFrom(config: Record<string, unknown>, source: string): Promise<Host> {
  const withPort = { ...config, network: { ...(config.network as object), bind_address: "127.0.0.1:0" } };
  return startHost({ config: parseMachineConfig(JSON.stringify(withPort), source), logger: createLogger({ level: "error" }) });
}

describe("sim: remote addresses", () => {
  it("parse sim:PATH with an optional engine", () => {
    assert.deepEqual(parseSimAddress("sim:examples/micro.json"), { path: "examples/micro.json", engine: "node" });
    assert.deepEqual(parseSimAddress("sim:/abs/micro.json?engine=xs"), { path: "/abs/micro.json", engine: "xs" });
    assert.throws(() => parseSimAddress("sim:micro.json?engine=wasm"), /engine must be node or xs/);
    assert.throws(() => parseSimAddress("sim:micro.json?port=3"), /unknown option "port"/);
  });
});

describe("npm start's examples/machine.json", () => {
  let host: Host;
  let token: string;
  let transport: ReturnType<typeof createGrpcTransport>;

  before(async () => {
    const source = resolve("examples/machine.json");
    const config = JSON.parse(await readFile(source, "utf8")) as Record<string, unknown>;
    host = await hostFrom(config, source);
    // The example's api key, from its auth section.
    const handler = (config.auth as { handlers: { config: Record<string, unknown> & { keys: string[] } }[] }).handlers[0]!.config;
    const id = handler.keys[0]!;
    const auth = createClient(AuthService, createGrpcTransport({ baseUrl: host.url }));
    token = (await auth.authenticate({ entity: id, credentials: { type: "api-key", payload: String(handler[id]) } })).accessToken;
    const bearer: Interceptor = (next) => (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    };
    transport = createGrpcTransport({ baseUrl: host.url, interceptors: [bearer] });
  });

  after(async () => {
    await host?.close();
  });

  it("serves the host's fakes and the simulated part esp's resources, one of each micro model", async () => {
    const robot = createClient(RobotService, transport);
    const names = (await robot.resourceNames({})).resources.map((r) => `${r.subtype}/${r.name}`);
    for (const want of [
      "sensor/sensor1",
      "motor/motor1",
      "board/esp:board",
      "sensor/esp:env",
      "power_sensor/esp:power",
      "power_sensor/esp:power2",
      "movement_sensor/esp:imu",
      "movement_sensor/esp:accel",
      "encoder/esp:enc",
      "motor/esp:m1",
      "servo/esp:servo",
      "sensor/esp:heap",
      "generic/esp:heap-generic",
      "motor/motor2",
    ]) {
      assert.ok(names.includes(want), `${want} in ${names.join(", ")}`);
    }
    assert.equal(host.remotes.part("esp")?.state, "connected");
    const readings = await createClient(SensorService, transport).getReadings({ name: "esp:env" });
    assert.ok(readings.readings.temperature !== undefined);
  });

  it("the host's gpio motor on esp:board drives the simulated part's PWM pin", async () => {
    assert.equal(stateOf(host, "rdk:component:motor/motor2"), "ready");
    const motors = createClient(MotorService, transport);
    await motors.setPower({ name: "motor2", powerPct: 0.5 });
    // The Node-engine part's World is the process's current one.
    assert.ok(Math.abs((world().pwm(23)?.dutyCycle ?? 0) - 0.5) < 0.01);
    assert.equal(world().gpio.level(18), 1);
    await motors.stop({ name: "motor2" });
    assert.equal(world().pwm(23)?.dutyCycle ?? 0, 0);
  });
});

describe("a sim: remote from a micro config of its own", () => {
  let dir: string;
  let micro: string;
  let host: Host;
  const auth = { entity: "sim-part-7", credentials: { type: "api-key", payload: "sim-key-7" } };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sprocket-sim-"));
    micro = join(dir, "micro.json");
    await writeFile(
      micro,
      JSON.stringify({
        components: [
          { name: "board", api: "rdk:component:board", model: "esp32", attributes: { i2cs: [{ name: "i2c0", bus: "i2c0", data_pin: 21, clock_pin: 22 }] } },
          { name: "env", api: "rdk:component:sensor", model: "bme280", attributes: { i2c_bus: "i2c0" } },
        ],
      }),
    );
    host = await hostFrom(
      {
        remotes: [
          { name: "part", address: `sim:${micro}`, auth, reconnect_interval: "100ms" },
          // A second Node-engine part cannot share the process's World.
          { name: "second", address: `sim:${micro}`, reconnect_interval: "10s" },
        ],
      },
      join(dir, "machine.json"),
    );
  });

  after(async () => {
    await host?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("starts the part provisioned with the remote's auth, with a device for its sensor", async () => {
    assert.equal(stateOf(host, "rdk:component:sensor/part:env"), "ready");
    const readings = await createClient(SensorService, createGrpcTransport({ baseUrl: host.url })).getReadings({ name: "part:env" });
    assert.ok(readings.readings.temperature !== undefined);
    // The part answers the remote's key directly too.
    const port = network(world()).listeners.at(-1)!.port!;
    const client = await MicroClient.tcp(port);
    try {
      await client.authenticate(auth.entity, auth.credentials.payload);
      await assert.rejects(client.authenticate(auth.entity, "wrong"), /invalid credentials/);
    } finally {
      client.close();
    }
  });

  it("a second Node-engine part in the same process is refused, naming the way out", () => {
    const second = host.remotes.part("second");
    assert.notEqual(second?.state, "connected");
    assert.match(second?.error ?? "", /already runs a simulated part on the node engine.*engine=xs/);
  });

  it("removing the remote stops its part", async () => {
    const port = network(world()).listeners.at(-1)!.port!;
    await host.reconfigurer.submit(parseMachineConfig(JSON.stringify({ network: { bind_address: "127.0.0.1:0" } }), join(dir, "machine.json")));
    await eventually("part:env gone", () => stateOf(host, "rdk:component:sensor/part:env") === "absent");
    await eventually("the part's port closed", () =>
      new Promise<boolean>((resolve) => {
        const s = connect({ host: "127.0.0.1", port });
        s.once("connect", () => {
          s.destroy();
          resolve(false);
        });
        s.once("error", () => resolve(true));
      }),
    );
  });
});
