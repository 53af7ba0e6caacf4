// The Viam SDK in Node over WebRTC: @roamhq/wrtc (prebuilt libwebrtc) as the browser WebRTC globals,
// installed only while a test needs them, plus dialing helpers for a test host's internal signaler.
import wrtc from "@roamhq/wrtc";
import * as sdk from "@viamrobotics/sdk";
import { RobotClient, type Credential } from "@viamrobotics/sdk";
import type { Host } from "../../host/host.js";
import { testKeyId, testKeySecret } from "../support/host.js";

/** The globals the SDK's WebRTC dialer uses (it constructs RTCPeerConnection and RTCSessionDescription). */
const webrtcGlobals = {
  RTCPeerConnection: wrtc.RTCPeerConnection,
  RTCSessionDescription: wrtc.RTCSessionDescription,
  RTCIceCandidate: wrtc.RTCIceCandidate,
  RTCDataChannel: wrtc.RTCDataChannel,
} as const;

/** Installs the WebRTC globals; returns what restores the previous ones. */
export function installWebRtcGlobals(): () => void {
  const saved = Object.keys(webrtcGlobals).map((k) => ({ k, had: Object.hasOwn(globalThis, k), v: Reflect.get(globalThis, k) as unknown }));
  for (const [k, v] of Object.entries(webrtcGlobals)) Reflect.set(globalThis, k, v);
  return () => {
    for (const { k, had, v } of saved) {
      if (had) Reflect.set(globalThis, k, v);
      else Reflect.deleteProperty(globalThis, k);
    }
  };
}

export const apiKeyCredential: Credential = { type: "api-key", authEntity: testKeyId, payload: testKeySecret };

/** The WebRTC part of a dial config for `host`: its signaler is its own port. */
export function webrtcConf(host: Host, credentials: Credential | undefined = apiKeyCredential, rpcHost?: string) {
  const port = new URL(host.url).port;
  return {
    host: rpcHost ?? `localhost:${port}`,
    signalingAddress: `http://localhost:${port}`,
    credentials,
    noReconnect: true,
    dialTimeout: 10_000,
  } as const;
}

/**
 * Dials over WebRTC with `new RobotClient().dial()` rather than `createRobotClient`, which races on
 * `iceConnectionState` (spec §6.7: it may still read "completed" and throw although the connection
 * works). The caller checks `peerConnection.connectionState`.
 */
export async function dialWebRtc(conf: ReturnType<typeof webrtcConf>): Promise<RobotClient> {
  return new RobotClient().dial(conf);
}

/**
 * Installs the WebRTC globals and silences the SDK's console.debug/info chatter (every candidate it
 * sends or drops); returns what undoes both.
 */
export function quietSdk(): () => void {
  const restoreGlobals = installWebRtcGlobals();
  const { debug, info } = console;
  console.debug = () => {};
  console.info = () => {};
  return () => {
    console.debug = debug;
    console.info = info;
    restoreGlobals();
  };
}

/** Polls until `cond` holds; fails after `timeoutMs` naming `what`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A DoCommand argument: the SDK wants its own (protobuf-es v1) `Struct`, which it exports at run time
 * but whose type its declarations take from the v2 package installed here, where it does not exist.
 */
export function struct(json: Record<string, unknown>): never {
  const Struct = Reflect.get(sdk, "Struct") as { fromJson(json: unknown): unknown };
  return Struct.fromJson(json) as never;
}
