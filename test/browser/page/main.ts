// Runs in the browser (bundled by test/browser/chromium-webrtc.test.ts with esbuild): the official
// Viam SDK dials a host over real browser WebRTC with the host as its own signaler (spec §1.2),
// reads one sensor, and leaves the outcome as JSON in `window.__result` and in `<pre id="result">`.
//
// Settings come from the query string: `host` (the rpc-host), `signaling` (the signaling address),
// `keyId`, `keySecret` and `sensor`.
//
// It tries `createRobotClient` first. That returns only when `iceConnectionState === "connected"`
// right after the dial (spec §1.1, §6.7), and libwebrtc may still read "completed" then, so a
// "Failed to connect to robot" over a connection that works is the SDK's race: the page then
// disconnects the client createRobotClient dialed and falls back to `new RobotClient().dial(conf)`,
// and records which of the two it used.
//
// The project compiles this file with Node's libs only (no DOM lib), so the few browser globals it
// touches are typed here by hand.
import { createRobotClient, RobotClient, SensorClient } from "@viamrobotics/sdk";

/** What the page reports; the test reads it with `JSON.parse`. */
export interface PageResult {
  ok: boolean;
  /** How the client that read the sensor was made. */
  via?: "createRobotClient" | "dial";
  /** The error createRobotClient threw when the page fell back to dial. */
  createRobotClientError?: string;
  /** The connection state of the client createRobotClient dialed when it threw. */
  racedConnectionState?: string;
  /** The readings client's peer connection and data channel after the call. */
  connectionState?: string;
  iceConnectionState?: string;
  dataChannelState?: string;
  readings?: Record<string, unknown>;
  error?: string;
  /** Milliseconds from the start of the page script to the result. */
  elapsedMs: number;
}

interface BrowserGlobals {
  location: { search: string };
  document: { getElementById(id: string): { textContent: string | null; setAttribute(name: string, value: string): void } | null };
  __result?: PageResult;
}

const page = globalThis as unknown as BrowserGlobals;
const started = performance.now();

function report(result: Omit<PageResult, "elapsedMs">): void {
  const full: PageResult = { ...result, elapsedMs: Math.round(performance.now() - started) };
  page.__result = full;
  const pre = page.document.getElementById("result");
  if (pre) {
    pre.textContent = JSON.stringify(full, null, 2);
    pre.setAttribute("data-done", full.ok ? "ok" : "error");
  }
}

function message(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function required(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (!value) throw new Error(`missing query parameter "${name}"`);
  return value;
}

async function run(): Promise<void> {
  const params = new URLSearchParams(page.location.search);
  const conf = {
    host: required(params, "host"),
    signalingAddress: required(params, "signaling"),
    credentials: { type: "api-key", authEntity: required(params, "keyId"), payload: required(params, "keySecret") },
    noReconnect: true,
    dialTimeout: 10_000,
  } as const;
  const sensorName = required(params, "sensor");

  // Remember every client createRobotClient dials, so one that lost the race can be inspected and closed.
  const proto = RobotClient.prototype as unknown as { dial(this: RobotClient, c: unknown): Promise<RobotClient> };
  const originalDial = proto.dial;
  const dialed: RobotClient[] = [];
  proto.dial = function (this: RobotClient, c: unknown) {
    dialed.push(this);
    return originalDial.call(this, c);
  };

  let client: RobotClient;
  const extra: Partial<PageResult> = {};
  try {
    client = await createRobotClient(conf);
    extra.via = "createRobotClient";
  } catch (err) {
    if (!/Failed to connect to robot/.test(String(err))) throw err;
    extra.createRobotClientError = message(err);
    const loser = dialed.at(-1);
    extra.racedConnectionState = loser?.peerConnection?.connectionState;
    await loser?.disconnect();
    proto.dial = originalDial;
    client = await new RobotClient().dial(conf);
    extra.via = "dial";
  } finally {
    proto.dial = originalDial;
  }

  const readings = await new SensorClient(client, sensorName).getReadings();
  const pc = client.peerConnection;
  const channel = Reflect.get(client, "dataChannel") as { readyState?: string } | undefined;
  report({
    ok: true,
    ...extra,
    connectionState: pc?.connectionState,
    iceConnectionState: pc?.iceConnectionState,
    dataChannelState: channel?.readyState,
    readings: readings as Record<string, unknown>,
  });
}

run().catch((err: unknown) => report({ ok: false, error: message(err) }));
