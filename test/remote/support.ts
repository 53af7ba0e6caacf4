// Test support for remote parts: configs for a simulated micro part as a remote, its UART on a
// pseudo-terminal, SDK dialing, a TCP
// relay that keeps a micro part's address when it restarts on another port, a WebSocket bridge to
// it, and reading machine status.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocketServer } from "ws";
import { RobotClient } from "@viamrobotics/sdk";
import type { Host } from "../../host/host.js";
import type { ResourceEntry } from "../../host/machine/machine.js";
import { serveUartOnPty } from "../../tools/cli/micro-sim.js";
import type { World } from "../../tools/sim/world.js";
import { PART_ID, PART_KEY } from "../micro/harness.js";
import { localhostUrl, setViamGlobal, dialSdk, type SdkTransport } from "../sdk/harness.js";

/** The UART a micro part serves RPC on in the serial tests (its config's `rpc_uart`). */
export const PART_UART = { port: 2, receive: 16, transmit: 17, baud: 115200 } as const;

/**
 * The part's PART_UART on one end of a socat pseudo-terminal pair in a fresh temporary folder;
 * `path` is the end a host opens, `address` its `serial://` remote address. close() removes both.
 */
export async function partPty(w: World): Promise<{ readonly path: string; readonly address: string; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "sprocket-serial-"));
  try {
    const pty = await serveUartOnPty(w, join(dir, "ttyESP"), PART_UART);
    return {
      path: pty.path,
      address: `serial://${pty.path}?baud=${PART_UART.baud}`,
      async close() {
        await pty.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The SDK's default transport (gRPC-web over HTTP/1.1 through fetch). */
export const grpcWeb: SdkTransport = {
  title: "gRPC-web over HTTP/1.1",
  install: () => setViamGlobal(undefined),
  expect: { httpVersion: "1.1", contentType: "application/grpc-web+proto" },
};

/** A remote entry for a micro part. */
export function microRemote(name: string, address: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    address,
    auth: { entity: PART_ID, credentials: { type: "api-key", payload: PART_KEY } },
    connection_check_interval: "200ms",
    reconnect_interval: "200ms",
    ...extra,
  };
}

export async function dialHost(host: Host): Promise<RobotClient> {
  return dialSdk(grpcWeb, await localhostUrl(host));
}

/** The machine's entry for a full resource name (`rdk:component:sensor/esp:env`, `rdk-internal:remote:/esp`). */
export function entry(host: Host, full: string): ResourceEntry | undefined {
  return host.machine.entries().find((e) => `${e.name.namespace}:${e.name.type}:${e.name.subtype}/${e.name.name}` === full);
}

export function stateOf(host: Host, full: string): string {
  const e = entry(host, full);
  return e ? e.state : "absent";
}

/** Polls until `check` holds (no timing asserted: the deadline only bounds a hang). */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A TCP relay on a fixed port to a target port that can change (a micro part restarted on a new
 * port). Closing the target's side closes the client's, and the other way round.
 */
export class Relay {
  target: number;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  port = 0;

  private constructor(target: number) {
    this.target = target;
    this.#server = createServer((client) => {
      this.#sockets.add(client);
      const upstream = connect({ host: "127.0.0.1", port: this.target });
      this.#sockets.add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
      client.pipe(upstream);
      upstream.pipe(client);
      client.once("close", () => this.#sockets.delete(client));
      upstream.once("close", () => this.#sockets.delete(upstream));
    });
  }

  static async start(target: number): Promise<Relay> {
    const r = new Relay(target);
    await new Promise<void>((resolve) => r.#server.listen(0, "127.0.0.1", resolve));
    r.port = (r.#server.address() as { port: number }).port;
    return r;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise((r) => this.#server.close(r));
  }
}

/** A WebSocket server whose connections are byte pipes to a TCP port (binary messages both ways). */
export class WsBridge {
  readonly #wss: WebSocketServer;
  port = 0;

  private constructor(target: number, path: string) {
    this.#wss = new WebSocketServer({ host: "127.0.0.1", port: 0, path });
    this.#wss.on("connection", (ws) => {
      const upstream = connect({ host: "127.0.0.1", port: target });
      const end = () => {
        ws.terminate();
        upstream.destroy();
      };
      upstream.on("data", (chunk) => ws.send(chunk, { binary: true }));
      upstream.on("error", end).on("close", end);
      ws.on("message", (data: Buffer) => upstream.write(data));
      ws.on("close", end).on("error", end);
    });
  }

  static async start(target: number, path = "/rpc"): Promise<WsBridge> {
    const b = new WsBridge(target, path);
    await new Promise<void>((resolve) => b.#wss.once("listening", () => resolve()));
    b.port = (b.#wss.address() as { port: number }).port;
    return b;
  }

  async close(): Promise<void> {
    for (const c of this.#wss.clients) c.terminate();
    await new Promise((r) => this.#wss.close(r));
  }
}
