// Starts a host in this process on a free loopback port, from a config object, for tests and benchmarks.
import http from "node:http";
import http2 from "node:http2";
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
  /**
   * Called for every HTTP request the host's port receives, before it is handled: lets a test check
   * which transport a client really used (HTTP version, content type) at the server side.
   */
  onRequest?: (req: ObservedRequest) => void;
}

/** One HTTP request as the host's listener received it. */
export interface ObservedRequest {
  /** "1.1" or "2.0". */
  readonly httpVersion: string;
  readonly method: string;
  /** The request path, e.g. `/viam.robot.v1.RobotService/GetOperations`. */
  readonly path: string;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export async function startTestHost(config: Record<string, unknown>, opts: TestHostOptions = {}): Promise<Host> {
  const network = { bind_address: "127.0.0.1:0", ...(config.network as object | undefined) };
  const parsed = parseMachineConfig(JSON.stringify({ ...config, network }), "test-config.json");
  const start = () =>
    startHost({
      config: parsed,
      registry: opts.registry,
      logger: createLogger({ level: opts.verbose ? "debug" : "error" }),
      onShutdownRequested: opts.onShutdownRequested,
    });
  if (!opts.onRequest) return start();
  const { result, hooked } = withRequestHook(opts.onRequest, start);
  const host = await result;
  if (hooked === 0) {
    await host.close();
    throw new Error("onRequest: the host created its HTTP servers later than expected; the hook could not attach");
  }
  return host;
}

type ServerFactory = (...args: unknown[]) => unknown;
type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;

/**
 * Runs `start` with node:http/node:http2's server factories wrapped so the request handler the
 * listener passes them also reports each request. The listener creates its servers synchronously
 * inside `startHost()`, before its first await, so the wrap is undone as soon as `start` returns
 * and nothing else in the process is affected. `hooked` counts the servers that got the hook.
 */
function withRequestHook<T>(onRequest: (req: ObservedRequest) => void, start: () => T): { result: T; hooked: number } {
  const modules = [
    [http as unknown as Record<string, ServerFactory>, "createServer"],
    [http2 as unknown as Record<string, ServerFactory>, "createServer"],
    [http2 as unknown as Record<string, ServerFactory>, "createSecureServer"],
  ] as const;
  const saved = modules.map(([mod, key]) => ({ mod, key, original: mod[key]! }));
  let hooked = 0;
  for (const { mod, key, original } of saved) {
    mod[key] = (...args: unknown[]) => {
      const i = args.findLastIndex((a) => typeof a === "function");
      if (i >= 0) {
        const handler = args[i] as (req: NodeRequest, res: unknown) => void;
        args[i] = (req: NodeRequest, res: unknown) => {
          onRequest({
            httpVersion: req.httpVersion,
            method: req.method ?? "",
            path: req.url ?? "",
            contentType: String(req.headers["content-type"] ?? ""),
            headers: { ...req.headers },
          });
          handler(req, res);
        };
        hooked += 1;
      }
      return original.apply(mod, args);
    };
  }
  try {
    return { result: start(), hooked };
  } finally {
    for (const { mod, key, original } of saved) mod[key] = original;
  }
}
