// After a flash, the simulated board joins a running host as a dial-in remote: a test host with a
// remote "esp" (address "dial-in") for the flashed part id and key, the provisioning that points the
// firmware at it (always a loopback URL), a micro config with a BME280 the simulator models, and the
// official SDK, connected to the host only, waiting until the host lists the part's sensor and
// reading it through the host.
import assert from "node:assert/strict";
import { SensorClient } from "@viamrobotics/sdk";
import type { Host } from "../../host/host.js";
import { DIAL_IN_PATH } from "../../firmware/rpc/dial-in-protocol.js";
import { parseConfig } from "../../firmware/config/schema.js";
import { attachDevices } from "../../tools/cli/micro-sim.js";
import type { AppBootInfo } from "../../tools/sim/esp32/boot.js";
import type { World } from "../../tools/sim/world.js";
import { disconnectSdk, tameSdk } from "../sdk/harness.js";
import { startTestHost } from "../support/host.js";
import { dialHost } from "../remote/support.js";

/** A micro config with a BME280 on I2C (as examples/micro.json has it), which the simulator models. */
export const BME280_CONFIG = {
  components: [
    { name: "board", api: "rdk:component:board", model: "esp32", attributes: { i2cs: [{ name: "i2c0", bus: "i2c0", data_pin: 4, clock_pin: 5 }] } },
    { name: "env", api: "rdk:component:sensor", model: "bme280", attributes: { i2c_bus: "i2c0" } },
  ],
};

/** The keys of a BME280's readings. */
export const BME280_KEYS = ["humidity", "pressure", "temperature"];

/** Starts a test host whose remote "esp" is the part `partId`/`partKey` dialling in; `url` is what to provision as `host`. */
export async function startJoinHost(partId: string, partKey: string): Promise<{ host: Host; url: string }> {
  const host = await startTestHost({
    components: [],
    remotes: [dialInRemote(partId, partKey)],
  });
  return { host, url: dialInUrl(host) };
}

/** The remote entry for a part that dials in. */
export function dialInRemote(partId: string, partKey: string): Record<string, unknown> {
  return {
    name: "esp",
    address: "dial-in",
    auth: { entity: partId, credentials: { type: "api-key", payload: partKey } },
    connection_check_interval: "500ms",
    reconnect_interval: "100ms",
  };
}

/** The `host` provisioning value for a test host: its loopback port and the dial-in path. */
export function dialInUrl(host: Host): string {
  const { hostname, port } = new URL(host.url);
  assert.equal(hostname, "127.0.0.1", `the test host should listen on 127.0.0.1, not ${hostname}`);
  return `ws://127.0.0.1:${port}${DIAL_IN_PATH}`;
}

/** A runAppOnBoot `wire`: device models for the drivers the flashed config names. */
export function wireProvisioned(world: World, info: AppBootInfo): void {
  const blob = info.provisioning.config;
  if (blob === undefined) return;
  attachDevices(world, parseConfig(new TextDecoder().decode(blob)));
}

/**
 * Dials the host with the official SDK, waits (bounded) until its ResourceNames lists
 * `sensor/esp:<sensor>`, reads that sensor through the host and checks it has the BME280's keys.
 */
export async function readThroughHost(host: Host, sensor = "env", timeoutMs = 20_000): Promise<Record<string, unknown>> {
  const untame = tameSdk();
  const client = await dialHost(host);
  try {
    const want = `sensor/esp:${sensor}`;
    const deadline = performance.now() + timeoutMs;
    let names: string[] = [];
    for (;;) {
      names = ((await client.resourceNames()) as { subtype: string; name: string }[]).map((n) => `${n.subtype}/${n.name}`);
      if (names.includes(want)) break;
      if (performance.now() > deadline) assert.fail(`the host never listed ${want}; it lists: ${names.join(", ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const readings = (await new SensorClient(client, `esp:${sensor}`).getReadings()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(readings).sort(), BME280_KEYS, JSON.stringify(readings));
    for (const key of BME280_KEYS) assert.equal(typeof readings[key], "number", `${key}: ${JSON.stringify(readings)}`);
    return readings;
  } finally {
    await disconnectSdk(client);
    untame();
  }
}
