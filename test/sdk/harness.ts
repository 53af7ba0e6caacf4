// Driving a test host with the official Viam TypeScript SDK in Node: dialing it directly (the SDK's
// `RobotClient.dial`) over a chosen transport, recording what reached the server, and the cleanup the
// SDK needs so `node --test` exits promptly.
import assert from "node:assert/strict";
import dns from "node:dns/promises";
import type { JsonValue } from "@bufbuild/protobuf";
import type { Code as CodeEnum } from "@connectrpc/connect";
import * as sdk from "@viamrobotics/sdk";
import { RobotClient, type AccessToken, type Credential } from "@viamrobotics/sdk";
import type { Host } from "../../host/host.js";
import type { ObservedRequest } from "../support/host.js";

/** The part of connect-es 1.x's ConnectError the tests read. */
export interface SdkConnectError extends Error {
  readonly code: CodeEnum;
  readonly rawMessage: string;
}

/**
 * The SDK's .d.ts files import each other without file extensions, which `moduleResolution: NodeNext`
 * cannot follow: its named re-exports (RobotClient, the component clients) type as `any`, and what it
 * re-exports with `export *` (Code, ConnectError, Struct, Duration) is missing from its types although
 * the bundle exports it. Those are typed here by hand; the values are the SDK's own (connect-es 1.x,
 * protobuf-es 1.x), not the project's 2.x copies. gRPC status codes are the same numbers in both.
 */
interface SdkStarExports {
  Code: typeof CodeEnum;
  ConnectError: { [Symbol.hasInstance](v: unknown): v is SdkConnectError };
  Struct: { fromJson(json: JsonValue): unknown };
  Duration: new (init: { seconds?: bigint; nanos?: number }) => unknown;
}
export const { Code, ConnectError, Struct, Duration } = sdk as unknown as SdkStarExports;
/** The enum's type, as connect-es declares it. */
export type Code = CodeEnum;

/** How the SDK reaches the server: the transport installed around each dial. */
export interface SdkTransport {
  /** For test titles, e.g. "gRPC-web over HTTP/1.1". */
  readonly title: string;
  /** Makes the next dial use this transport; returns what undoes that. */
  install(): () => void;
  /** What every request must look like at the server. */
  readonly expect: { readonly httpVersion: string; readonly contentType: string };
}

/** The SDK's hook for replacing its transport (`globalThis.VIAM.GRPC_TRANSPORT_FACTORY`, see its Node.md). */
export interface ViamGlobal {
  GRPC_TRANSPORT_FACTORY?: (opts: Record<string, unknown>) => unknown;
}

/** Sets `globalThis.VIAM` (undefined deletes it) and returns what puts the previous value back. */
export function setViamGlobal(value: ViamGlobal | undefined): () => void {
  const had = Object.hasOwn(globalThis, "VIAM");
  const previous: unknown = Reflect.get(globalThis, "VIAM");
  if (value === undefined) Reflect.deleteProperty(globalThis, "VIAM");
  else Reflect.set(globalThis, "VIAM", value);
  return () => {
    if (had) Reflect.set(globalThis, "VIAM", previous);
    else Reflect.deleteProperty(globalThis, "VIAM");
  };
}

/**
 * The URL to dial a test host at. The SDK dials directly only when the host string contains
 * "local", so a host bound to 127.0.0.1 is dialed as `localhost`, after checking that Node resolves
 * `localhost` to that address (Node tries every address it resolves to, IPv6 first on some systems).
 */
export async function localhostUrl(host: Host): Promise<string> {
  const url = new URL(host.url);
  assert.equal(url.hostname, "127.0.0.1", `the test host should listen on 127.0.0.1, not ${url.hostname}`);
  const addresses = await dns.lookup("localhost", { all: true });
  assert.ok(
    addresses.some((a) => a.address === "127.0.0.1"),
    `Node resolves localhost to ${addresses.map((a) => a.address).join(", ")}, not 127.0.0.1`,
  );
  return `http://localhost:${url.port}`;
}

/** What `RobotClient.dial` is given; `noReconnect` so a refused dial fails at once. */
export function dialConf(url: string, credentials?: Credential | AccessToken) {
  return { host: url, credentials, noReconnect: true } as const;
}

/** Dials like a user following the SDK's docs, with the transport installed only for the dial. */
export async function dialSdk(transport: SdkTransport, url: string, credentials?: Credential | AccessToken): Promise<RobotClient> {
  const restore = transport.install();
  try {
    return await new RobotClient().dial(dialConf(url, credentials));
  } finally {
    restore();
  }
}

/**
 * Disconnects a client and ends its heartbeat. SDK 0.61.1's `disconnect()` keeps the direct
 * transport and never cancels the heartbeat timer, so without more it goes on calling GetOperations
 * every 10 s for as long as the server answers. With the transport gone, the next heartbeat fails
 * before any I/O, which ends the loop (the SDK then emits "disconnected" and, being closed, stays so).
 */
export async function disconnectSdk(client: RobotClient): Promise<void> {
  await client.disconnect();
  Reflect.set(client, "transport", undefined);
}

/**
 * While installed, timers set from the SDK's bundle are unref'd, so the heartbeat timer that a
 * disconnected client still has pending (up to 10 s) never keeps the test process alive. Also
 * silences the SDK's console.debug chatter ("Failed to connect, attempt 1 with backoff" and the
 * like), which would otherwise land in the test output. Returns what undoes both.
 */
export function tameSdk(): () => void {
  const originalSetTimeout = globalThis.setTimeout;
  const originalDebug = console.debug;
  const wrapped = (...args: Parameters<typeof originalSetTimeout>) => {
    const timer = originalSetTimeout(...args);
    if (new Error().stack?.includes("/@viamrobotics/sdk/")) timer.unref();
    return timer;
  };
  globalThis.setTimeout = Object.assign(wrapped, { __promisify__: originalSetTimeout.__promisify__ }) as typeof setTimeout;
  console.debug = () => {};
  return () => {
    globalThis.setTimeout = originalSetTimeout;
    console.debug = originalDebug;
  };
}

/** Every HTTP request a test host received, in order. */
export class RequestLog {
  readonly all: ObservedRequest[] = [];
  readonly record = (req: ObservedRequest): void => {
    this.all.push(req);
  };

  /** RPCs: POSTs to `/<package>.<Service>/<Method>`. */
  rpcs(): ObservedRequest[] {
    return this.all.filter((r) => r.method === "POST" && /^\/[\w.]+\/\w+$/.test(r.path));
  }

  count(path: string): number {
    return this.all.filter((r) => r.path === path).length;
  }
}

/** Polls until `cond` holds; fails after `timeoutMs` naming `what`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Asserts that `p` rejects with a ConnectError of `code` whose message contains every `texts`. */
export async function rejectsWithCode(p: Promise<unknown>, code: Code, ...texts: string[]): Promise<SdkConnectError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `expected a ${Code[code]} error, but the call succeeded`);
  // The SDK's ConnectError recognises errors of other connect-es copies (connect-node's) too.
  assert.ok(err instanceof ConnectError, `expected a ConnectError, got ${String(err)}`);
  assert.equal(err.code, code, `expected code ${Code[code]}, got ${Code[err.code]}: ${err.rawMessage}`);
  for (const t of texts) assert.ok(err.rawMessage.includes(t), `expected "${t}" in "${err.rawMessage}"`);
  return err;
}

/**
 * Asserts that a dial was refused because the server answered `code`: the SDK gives up on the
 * first non-retryable error with "Failed to connect via all methods", the server's errors as `cause`.
 */
export async function dialRefused(p: Promise<RobotClient>, code: Code, ...texts: string[]): Promise<void> {
  let err: unknown;
  try {
    const client = await p;
    await disconnectSdk(client);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error, "expected the dial to be refused, but it connected");
  assert.match(err.message, /Failed to connect via all methods/);
  assert.ok(Array.isArray(err.cause) && err.cause.length === 1, `expected one cause, got ${String(err.cause)}`);
  await rejectsWithCode(Promise.reject(err.cause[0] as unknown), code, ...texts);
}
