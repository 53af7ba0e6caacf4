// Micro parts that dial in: the firmware (Node engine, simulated ESP32) provisioned with the host's
// URL in its `host` key connects out to the host over a WebSocket, both prove the part key, and the
// host reaches the part's resources as the remote "esp" (address "dial-in"): the official SDK,
// connected to the host only, reads the part's sensors and drives its motor. A key that differs, an
// impostor that knows the part id only, and an unknown part id are refused with a log line and
// touch nothing else; when the host goes away the part stops its actuators (World PWM duty → 0),
// and it dials in again once the host is back on its port. The same firmware dials in from the real
// XS engine too.
import "../../tools/sim/register.js";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { MotorClient, RobotClient, SensorClient } from "@viamrobotics/sdk";
import WebSocket from "ws";
import { parseMachineConfig } from "../../host/config/load.js";
import { startHost, type Host } from "../../host/host.js";
import { sensorApi, type Sensor } from "../../host/components/sensor/sensor.js";
import { createLogger } from "../../host/log/logger.js";
import { internalCall } from "../../host/resource/resource.js";
import { DIAL_IN_PATH, DIAL_IN_PROTOCOL, NONCE_HEADER, PART_ID_HEADER, PROOF_HEADER } from "../../firmware/rpc/dial-in-protocol.js";
import { provisioningKeys } from "../../firmware/provisioning/keys.js";
import type { MicroRuntime } from "../../firmware/runtime/boot.js";
import { network } from "../../tools/sim/network.js";
import { World, setWorld } from "../../tools/sim/world.js";
import { PART_ID, PART_KEY, PINS, provision, standardConfig, startMicro, wireStandard } from "../micro/harness.js";
import { disconnectSdk, tameSdk } from "../sdk/harness.js";
import { dialHost, eventually, stateOf } from "./support.js";

/** A host whose log lines are kept. */
interface LoggedHost {
  host: Host;
  lines: string[];
}

async function startLoggedHost(config: Record<string, unknown>, bind = "127.0.0.1:0"): Promise<LoggedHost> {
  const lines: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter((l) => l !== ""));
      done();
    },
  });
  const parsed = parseMachineConfig(JSON.stringify({ ...config, network: { bind_address: bind } }), "dial-in-test.json");
  const host = await startHost({ config: parsed, logger: createLogger({ level: "info", out }) });
  return { host, lines };
}

function dialInRemote(name: string, partId: string, key: string): Record<string, unknown> {
  return {
    name,
    address: "dial-in",
    auth: { entity: partId, credentials: { type: "api-key", payload: key } },
    connection_check_interval: "500ms",
    reconnect_interval: "100ms",
  };
}

const HOST_CONFIG = {
  components: [{ name: "local", api: "rdk:component:sensor", model: "fake" }],
  remotes: [dialInRemote("esp", PART_ID, PART_KEY)],
};

interface Part {
  world: World;
  runtime: MicroRuntime;
  log: string[];
  stop(): Promise<void>;
}

/** Boots the firmware on a fresh simulated ESP32 provisioned to dial in to `url`. */
async function bootPart(url: string, partId = PART_ID, partKey = PART_KEY): Promise<Part> {
  const world = new World();
  setWorld(world);
  network(world).portOverride = 0;
  wireStandard(world);
  provision(world, { partId, partKey, config: JSON.stringify(standardConfig()) });
  world.nvs.open(provisioningKeys.host.domain, true);
  world.nvs.set(provisioningKeys.host.domain, provisioningKeys.host.key, { type: "str", value: url });
  const { setLogSink } = await import("../../firmware/log.js");
  const log: string[] = [];
  setLogSink((level, message) => log.push(`${level}: ${message}`));
  const { start } = await import("../../firmware/runtime/boot.js");
  const runtime = start({ dialIn: { initialBackoffMs: 50, maxBackoffMs: 400 } });
  return {
    world,
    runtime,
    log,
    async stop() {
      runtime.stop();
      await new Promise((r) => setImmediate(r));
      world.dispose();
      setLogSink(undefined);
    },
  };
}

function portOf(host: Host): number {
  return Number(new URL(host.url).port);
}

describe("a micro part dialling in to the host", () => {
  let h: LoggedHost;
  let part: Part;
  let client: RobotClient;
  let untame: () => void;
  let port: number;

  before(async () => {
    untame = tameSdk();
    h = await startLoggedHost(HOST_CONFIG);
    port = portOf(h.host);
    // The part knows the host only by its URL (no path: the default /micro/dial-in).
    part = await bootPart(`ws://127.0.0.1:${port}`);
    await eventually("the part's sensor ready on the host", () => stateOf(h.host, "rdk:component:sensor/esp:env") === "ready");
    client = await dialHost(h.host);
  });

  after(async () => {
    if (client) await disconnectSdk(client);
    await h?.host.close();
    await part?.stop();
    untame?.();
  });

  it("the SDK, connected to the host only, lists and reads the part's resources", async () => {
    const names = ((await client.resourceNames()) as { subtype: string; name: string }[]).map((n) => `${n.subtype}/${n.name}`);
    for (const want of ["sensor/local", "board/esp:board", "sensor/esp:env", "motor/esp:m1", "servo/esp:servo"]) {
      assert.ok(names.includes(want), `${want} in ${names.join(", ")}`);
    }
    const readings = await new SensorClient(client, "esp:env").getReadings();
    assert.ok(Math.abs((readings.temperature as number) - 21.5) < 0.5, JSON.stringify(readings));
    assert.equal(part.runtime.dialIn?.state, "connected");
    assert.equal(part.runtime.tcp?.connections.size, 0, "the host reached the part over the dial-in link, not TCP");
    assert.ok(h.lines.some((l) => l.includes(`part "${PART_ID}" dialled in`)), h.lines.join("\n"));
  });

  it("an impostor that knows the part id but not the key is refused after the upgrade; the part stays connected", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${DIAL_IN_PATH}`, DIAL_IN_PROTOCOL, {
      headers: { [PART_ID_HEADER]: PART_ID, [NONCE_HEADER]: "0".repeat(32) },
    });
    const upgrade = new Promise<Record<string, string | string[] | undefined>>((r) => ws.once("upgrade", (res) => r(res.headers)));
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.once("close", (code: number, reason: Buffer) => r({ code, reason: reason.toString() })));
    await new Promise<void>((r) => ws.once("open", () => r()));
    const headers = await upgrade;
    // The host proves itself with an HMAC, never the key.
    assert.match(String(headers[PROOF_HEADER.toLowerCase()]), /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(headers).includes(PART_KEY));
    ws.send("f".repeat(64));
    assert.deepEqual(await closed, { code: 1008, reason: "wrong part key" });
    await eventually("the refusal logged", () => h.lines.some((l) => l.includes(`wrong part key from part "${PART_ID}"`)));
    assert.equal(part.runtime.dialIn?.state, "connected");
    assert.equal(stateOf(h.host, "rdk:component:sensor/esp:env"), "ready");
    const readings = await new SensorClient(client, "esp:env").getReadings();
    assert.ok(typeof readings.temperature === "number");
  });

  it("an unknown part id is answered 403 and logged; nothing else changes", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${DIAL_IN_PATH}`, DIAL_IN_PROTOCOL, {
      headers: { [PART_ID_HEADER]: "nobody", [NONCE_HEADER]: "1".repeat(32) },
    });
    const status = await new Promise<number>((resolve) => {
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("error", () => undefined);
    });
    ws.terminate();
    assert.equal(status, 403);
    await eventually("the refusal logged", () => h.lines.some((l) => l.includes(`unknown part id "nobody"`)));
    assert.equal(stateOf(h.host, "rdk:component:sensor/esp:env"), "ready");
    assert.equal(stateOf(h.host, "rdk:component:sensor/local"), "ready");
  });

  it("the motor runs through the host; the host going away stops it on the part; the part dials in again when the host is back", async () => {
    await new MotorClient(client, "esp:m1").setPower(0.5);
    assert.ok(Math.abs((part.world.pwm(PINS.motor.pwm)?.dutyCycle ?? 0) - 0.5) < 0.01);
    const connectsBefore = part.runtime.dialIn?.connects ?? 0;

    await disconnectSdk(client);
    await h.host.close();
    await eventually("the part's PWM duty back to 0", () => (part.world.pwm(PINS.motor.pwm)?.dutyCycle ?? 0) === 0);
    assert.notEqual(part.runtime.dialIn?.state, "connected");
    assert.ok(part.log.some((l) => l.includes("stopped 1 actuator")), part.log.join("\n"));

    // The host restarts on the same port; the part finds it again by itself.
    h = await startLoggedHost(HOST_CONFIG, `127.0.0.1:${port}`);
    await eventually("the part dialled in again", () => stateOf(h.host, "rdk:component:sensor/esp:env") === "ready", 20_000);
    assert.ok((part.runtime.dialIn?.connects ?? 0) > connectsBefore);
    client = await dialHost(h.host);
    const readings = await new SensorClient(client, "esp:env").getReadings();
    assert.ok(Math.abs((readings.temperature as number) - 21.5) < 0.5);
  });
});

describe("a micro part whose key differs from the host's", () => {
  let h: LoggedHost;
  let part: Part;

  before(async () => {
    h = await startLoggedHost(HOST_CONFIG);
    part = await bootPart(`ws://127.0.0.1:${portOf(h.host)}/micro/dial-in`, PART_ID, "another-key");
  });

  after(async () => {
    await h?.host.close();
    await part?.stop();
  });

  it("is refused on both sides, with a log line on each; the host's other resources carry on", async () => {
    await eventually("the host's log line", () => h.lines.some((l) => l.includes(`dial-in refused by part "${PART_ID}": its part key differs`)));
    await eventually("the part's log line", () => part.log.some((l) => l.includes("the host did not prove it knows this part's key")));
    assert.notEqual(part.runtime.dialIn?.state, "connected");
    assert.equal(part.runtime.dialIn?.connects, 0);
    assert.notEqual(stateOf(h.host, "rdk-internal:remote:/esp"), "ready");
    assert.equal(stateOf(h.host, "rdk:component:sensor/esp:env"), "absent");
    assert.equal(stateOf(h.host, "rdk:component:sensor/local"), "ready");
  });
});

describe("the firmware on the XS engine dialling in", () => {
  it("connects, and the host reads its sensor", async () => {
    const h = await startLoggedHost(HOST_CONFIG);
    const url = `ws://127.0.0.1:${portOf(h.host)}`;
    const sim = await startMicro({
      engine: "xs",
      wire: (w) => {
        wireStandard(w);
        w.nvs.open(provisioningKeys.host.domain, true);
        w.nvs.set(provisioningKeys.host.domain, provisioningKeys.host.key, { type: "str", value: url });
      },
    });
    try {
      await eventually("esp:env ready", () => stateOf(h.host, "rdk:component:sensor/esp:env") === "ready", 20_000);
      assert.equal(await sim.run<string>("return runtime.dialIn.state"), "connected");
      const sensor = h.host.machine.get<Sensor>(sensorApi, "esp:env");
      const readings = await sensor.readings(internalCall());
      assert.ok(Math.abs((readings.temperature as number) - 21.5) < 0.5, JSON.stringify(readings));
    } finally {
      await h.host.close();
      await sim.stop();
    }
  });
});
