// The micro part's config: ConfigService.SetConfig replaces the resources at run time without a
// restart and stores the config in Preference; an invalid config answers INVALID_ARGUMENT naming the
// problem and leaves the running one alone; a resource whose hardware does not answer is reported
// UNHEALTHY with its error; a reboot loads the stored config.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ChannelError, Code } from "../../proto/channel/frames.js";
import { MotorService } from "../../proto/gen/component/motor/v1/motor_pb.js";
import { PowerSensorService } from "../../proto/gen/component/powersensor/v1/powersensor_pb.js";
import { SensorService } from "../../proto/gen/component/sensor/v1/sensor_pb.js";
import { ResourceStatus_State, RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { ConfigService } from "../../proto/gen/sprocket/micro/v1/config_pb.js";
import { provisioningKeys } from "../../firmware/provisioning/keys.js";
import { parseConfig } from "../../firmware/config/schema.js";
import { INA226Model } from "../../tools/sim/devices/ina226.js";
import type { World } from "../../tools/sim/world.js";
import { MicroClient, PINS, connectAuthenticated, standardConfig, startMicro, wireStandard, type MicroSim } from "./harness.js";

let sim: MicroSim;
let client: MicroClient;

before(async () => {
  sim = await startMicro({
    wire: (w) => {
      const wiring = wireStandard(w);
      w.i2c(PINS.i2c).attach(0x41, new INA226Model({ load: { supplyVolts: 12, amps: 1 } }));
      return wiring;
    },
  });
  client = await connectAuthenticated(sim);
});

after(async () => {
  client?.close();
  await sim?.stop();
});

function storedConfig(w: World): string | undefined {
  const key = provisioningKeys.config;
  if (w.nvs.open(key.domain, false) !== undefined) return undefined;
  const entry = w.nvs.get(key.domain, key.key, "blob");
  return typeof entry === "string" ? undefined : new TextDecoder().decode(entry.value as Uint8Array);
}

async function names(): Promise<string[]> {
  const r = await client.call(RobotService.method.resourceNames, {});
  return r.resources.map((n) => n.subtype + "/" + n.name).sort();
}

async function failure(promise: Promise<unknown>): Promise<ChannelError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ChannelError);
    return error;
  }
  assert.fail("expected a failure");
}

const boardOnly = () => (standardConfig().components as Record<string, unknown>[])[0];

test("SetConfig replaces the resources at run time on the same connection, and stores the config", async () => {
  const before = await names();
  assert.ok(before.includes("motor/m1"));
  const next = {
    components: [
      boardOnly(),
      { name: "env2", type: "sensor", model: "bme280", attributes: { i2c_bus: "i2c0" } },
      { name: "power12", api: "rdk:component:power_sensor", model: "rdk:builtin:ina226", attributes: { i2c_bus: "i2c0", i2c_address: 0x41 } },
    ],
  };
  const text = JSON.stringify(next);
  const res = await client.call(ConfigService.method.setConfig, { configJson: text });
  assert.match(res.revision, /^[0-9a-f]{8}$/);
  assert.deepEqual(await names(), ["board/board", "power_sensor/power12", "sensor/env2"]);
  await assert.rejects(client.call(MotorService.method.setPower, { name: "m1", powerPct: 0.5 }), (e: ChannelError) => e.code === Code.NOT_FOUND);
  assert.equal(sim.world.pwm(PINS.motor.pwm), undefined, "the motor's PWM channel was given back");
  const v = await client.call(PowerSensorService.method.getVoltage, { name: "power12" });
  assert.ok(Math.abs(v.volts - 11.9) < 0.05, String(v.volts)); // 12 V less 1 A × 0.1 Ω
  const r = await client.call(SensorService.method.getReadings, { name: "env2" });
  assert.ok(typeof r.readings.temperature.kind.value === "number");
  assert.equal(storedConfig(sim.world), text);
  const got = await client.call(ConfigService.method.getConfig, {});
  assert.deepEqual([got.configJson, got.revision], [text, res.revision]);
  const status = await client.call(RobotService.method.getMachineStatus, {});
  assert.equal(status.config?.revision, res.revision);

  // And back: the same pins and buses are free to be claimed again.
  const again = await client.call(ConfigService.method.setConfig, { configJson: JSON.stringify(standardConfig()) });
  assert.notEqual(again.revision, res.revision);
  assert.deepEqual(await names(), before);
  await client.call(MotorService.method.setPower, { name: "m1", powerPct: 0.2 });
  assert.ok((sim.world.pwm(PINS.motor.pwm)?.duty ?? 0) > 0);
  await client.call(MotorService.method.stop, { name: "m1" });
});

test("an invalid config answers INVALID_ARGUMENT naming the problem; the running config stays", async () => {
  const running = await names();
  const stored = storedConfig(sim.world);
  const cases: [string, RegExp][] = [
    ["{not json", /config is not valid JSON/],
    [JSON.stringify({ components: {} }), /components must be an array/],
    [JSON.stringify({ components: [{ name: "x", type: "sensor" }] }), /components\[0\] \(x\): model is required/],
    [JSON.stringify({ components: [{ name: "x", model: "bme280" }] }), /components\[0\] \(x\): api is required/],
    [JSON.stringify({ components: [{ name: "x", type: "sensor", model: "nope" }] }), /components\[0\] \(x\): unknown model "rdk:builtin:nope" for rdk:component:sensor \(this part has rdk:builtin:bme280, rdk:builtin:free-heap\)/],
    [JSON.stringify({ components: [{ name: "x", type: "arm", model: "fake" }] }), /unknown model "rdk:builtin:fake" for rdk:component:arm \(this part has no models for that API\)/],
    [
      JSON.stringify({ components: [boardOnly(), { name: "m", type: "motor", model: "gpio", attributes: { pins: { a: 1, b: 2 } } }] }),
      /components\[1\] \(m\): attribute pins.pwm is required/,
    ],
    [
      JSON.stringify({ components: [boardOnly(), { name: "m", type: "motor", model: "gpio", attributes: { pins: { dir: 1, pwm: 2 }, max_rpm: "fast" } }] }),
      /components\[1\] \(m\): attribute max_rpm must be a number, not "fast"/,
    ],
    [JSON.stringify({ components: [{ name: "s", type: "sensor", model: "bme280", attributes: { i2c_bus: "i2c0" } }] }), /components\[0\] \(s\): needs a board/],
    [JSON.stringify({ components: [boardOnly(), boardOnly()] }), /components\[1\]: duplicate component name "board"/],
    [JSON.stringify({ components: [{ name: "a/b", type: "sensor", model: "free-heap" }] }), /may not contain ':' or '\/'/],
    [JSON.stringify({ network: { bind_address: "0.0.0.0:99999" } }), /network.bind_address "0.0.0.0:99999" has no valid port/],
  ];
  for (const [text, message] of cases) {
    const e = await failure(client.call(ConfigService.method.setConfig, { configJson: text }));
    assert.equal(e.code, Code.INVALID_ARGUMENT, e.message);
    assert.match(e.message, message);
  }
  assert.deepEqual(await names(), running);
  assert.equal(storedConfig(sim.world), stored);
  assert.equal((await client.call(RobotService.method.getVersion, {})).platform, "sprocket-micro");
});

test("a config too large for flash answers RESOURCE_EXHAUSTED and changes nothing", async () => {
  const running = await names();
  const stored = storedConfig(sim.world);
  const big = JSON.stringify({ ...standardConfig(), padding: "x".repeat(24_000) });
  const e = await failure(client.call(ConfigService.method.setConfig, { configJson: big }));
  assert.equal(e.code, Code.RESOURCE_EXHAUSTED, e.message);
  assert.match(e.message, /cannot store a config of \d+ bytes/);
  assert.deepEqual(await names(), running);
  assert.equal(storedConfig(sim.world), stored);
});

test("a BME280 that does not answer is UNHEALTHY with its error; the rest is built", async () => {
  const config = {
    components: [
      boardOnly(),
      { name: "ghost", type: "sensor", model: "bme280", attributes: { i2c_bus: "i2c0", use_alt_i2c_address: true } },
      { name: "env", type: "sensor", model: "bme280", attributes: { i2c_bus: "i2c0" } },
      { name: "m2", type: "motor", model: "gpio", attributes: { pins: { dir: 16, pwm: 17 }, encoder: "missing" } },
      { name: "heap", type: "sensor", model: "free-heap", depends_on: ["ghost"] },
    ],
  };
  await client.call(ConfigService.method.setConfig, { configJson: JSON.stringify(config) });
  const status = await client.call(RobotService.method.getMachineStatus, {});
  const byName = new Map(status.resources.map((r) => [r.name?.name, r]));
  assert.equal(byName.get("env")?.state, ResourceStatus_State.READY);
  assert.equal(byName.get("board")?.state, ResourceStatus_State.READY);
  const ghost = byName.get("ghost");
  assert.equal(ghost?.state, ResourceStatus_State.UNHEALTHY);
  assert.match(ghost?.error ?? "", /^BME280 at 0x77: /);
  assert.match(byName.get("m2")?.error ?? "", /unresolved dependencies not found in machine config or connected remotes: \[rdk:component:encoder\/missing\]/);
  assert.match(byName.get("heap")?.error ?? "", /dependency "rdk:component:sensor\/ghost" is unhealthy: BME280 at 0x77/);
  assert.deepEqual(await names(), ["board/board", "sensor/env"]);
  const e = await failure(client.call(SensorService.method.getReadings, { name: "ghost" }));
  assert.equal(e.code, Code.UNAVAILABLE);
  assert.match(e.message, /resource "rdk:component:sensor\/ghost" is unhealthy: BME280 at 0x77/);
});

test("after a reboot the stored config is built again", async () => {
  const text = JSON.stringify(standardConfig());
  await client.call(ConfigService.method.setConfig, { configJson: text });
  client.close();
  await sim.stop();
  sim = await startMicro({ reboot: sim.world });
  client = await connectAuthenticated(sim);
  assert.equal((await client.call(ConfigService.method.getConfig, {})).configJson, text);
  assert.ok((await names()).includes("motor/m1"));
  const status = await client.call(RobotService.method.getMachineStatus, {});
  assert.ok(status.resources.every((r) => r.state === ResourceStatus_State.READY), JSON.stringify(status.resources.map((r) => r.error)));
});

test("config subset parsing: api or legacy type, builtin model names, bind_address port, rpc_uart", () => {
  const c = parseConfig(
    JSON.stringify({
      components: [
        { name: "a", api: "rdk:component:motor", model: "acme:motors:m" },
        { name: "b", type: "servo", namespace: "rdk", model: "gpio", depends_on: ["a"] },
      ],
      network: { bind_address: "0.0.0.0:9000" },
      rpc_uart: { port: 2, receive: 16, transmit: 17 },
      services: [{ name: "ignored" }],
    }),
  );
  assert.equal(c.components[0].model, "acme:motors:m");
  assert.deepEqual(c.components[1].api, { namespace: "rdk", type: "component", subtype: "servo" });
  assert.equal(c.components[1].model, "rdk:builtin:gpio");
  assert.deepEqual(c.components[1].dependsOn, ["a"]);
  assert.equal(c.port, 9000);
  assert.deepEqual(c.uart, { port: 2, receive: 16, transmit: 17, baud: 115200 });
  assert.equal(parseConfig("{}").port, 8081);
  assert.equal(parseConfig(JSON.stringify({ network: { bind_address: ":8123" } })).port, 8123);
});
