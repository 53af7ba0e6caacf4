// Starts a host in this process on a free loopback port, from a config object, for tests and benchmarks.
import { parseMachineConfig } from "../../host/config/load.js";
import { startHost, type Host } from "../../host/host.js";
import { createLogger } from "../../host/log/logger.js";
import type { ModelRegistry } from "../../host/resource/registry.js";

export const testKeyId = "test-key-id";
export const testKeySecret = "test-key-secret";

/** One of each fake, as examples/machine.json has. */
export function allFakesConfig(): Record<string, unknown> {
  return {
    components: [
      { name: "board1", api: "rdk:component:board", model: "fake", attributes: { analogs: [{ name: "a1", pin: "32" }], digital_interrupts: [{ name: "di1", pin: "33" }] } },
      { name: "sensor1", api: "rdk:component:sensor", model: "fake" },
      { name: "encoder1", api: "rdk:component:encoder", model: "fake", attributes: { ticks_per_rotation: 100 } },
      { name: "motor1", api: "rdk:component:motor", model: "fake", attributes: { max_rpm: 600, encoder: "encoder1", ticks_per_rotation: 100 } },
      { name: "imu1", api: "rdk:component:movement_sensor", model: "fake" },
      { name: "power1", api: "rdk:component:power_sensor", model: "fake" },
      { name: "servo1", api: "rdk:component:servo", model: "fake" },
      { name: "generic1", api: "rdk:component:generic", model: "fake" },
    ],
  };
}

export function withApiKey(config: Record<string, unknown>): Record<string, unknown> {
  return { ...config, auth: { handlers: [{ type: "api-key", config: { keys: [testKeyId], [testKeyId]: testKeySecret } }] } };
}

export interface TestHostOptions {
  registry?: ModelRegistry;
  /** Set to see the host's logs while debugging a test. */
  verbose?: boolean;
  onShutdownRequested?: () => void;
}

export async function startTestHost(config: Record<string, unknown>, opts: TestHostOptions = {}): Promise<Host> {
  const network = { bind_address: "127.0.0.1:0", ...(config.network as object | undefined) };
  const parsed = parseMachineConfig(JSON.stringify({ ...config, network }), "test-config.json");
  return startHost({
    config: parsed,
    registry: opts.registry,
    logger: createLogger({ level: opts.verbose ? "debug" : "error" }),
    onShutdownRequested: opts.onShutdownRequested,
  });
}
