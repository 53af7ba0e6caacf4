// SignalingService on the host's port (spec §4): auth, rpc-host checks with goutils' texts, the Call
// stream's order, CallUpdate for unknown offers, OptionalWebRTCConfig and Answer; and the SDK's view
// of a refused dial.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { RobotClient } from "@viamrobotics/sdk";
import type { Host } from "../../host/host.js";
import { allFakesConfig, startTestHost, testKeyId, withApiKey } from "../support/host.js";
import { accessToken, dialRaw, grpcTransport, grpcWebTransport, signalingClient } from "./raw-peer.js";
import { quietSdk, webrtcConf } from "./wrtc-env.js";

async function drain<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function isConnectError(code: Code, message: string) {
  return (err: unknown) => {
    assert.ok(err instanceof ConnectError, `expected a ConnectError, got ${String(err)}`);
    assert.equal(err.rawMessage, message);
    assert.equal(err.code, code, `code ${Code[err.code]} for "${err.rawMessage}"`);
    return true;
  };
}

const anyOffer = Buffer.from(JSON.stringify({ type: "offer", sdp: "v=0\r\n" })).toString("base64");

describe("SignalingService", () => {
  let host: Host;
  let token: string;
  let restore: () => void;
  let rpcHost: string;

  before(async () => {
    restore = quietSdk();
    host = await startTestHost(withApiKey(allFakesConfig()));
    token = await accessToken(host);
    rpcHost = host.signalingHosts[0]!;
  });

  after(async () => {
    await host?.close();
    restore?.();
  });

  const authed = (extra: Record<string, string> | [string, string][] = {}) => {
    const headers = new Headers(extra);
    headers.set("authorization", `Bearer ${token}`);
    return headers;
  };

  test("the allowed rpc-hosts are the listen address and localhost:<port>", () => {
    const port = new URL(host.url).port;
    assert.deepEqual([...host.signalingHosts].sort(), [`127.0.0.1:${port}`, `localhost:${port}`]);
  });

  test("Call without credentials is refused: authentication required", async () => {
    const signaling = signalingClient(grpcWebTransport(host));
    await assert.rejects(
      drain(signaling.call({ sdp: anyOffer }, { headers: { "rpc-host": rpcHost } })),
      isConnectError(Code.Unauthenticated, "authentication required"),
    );
    await assert.rejects(
      signaling.optionalWebRTCConfig({}, { headers: { "rpc-host": rpcHost } }),
      isConnectError(Code.Unauthenticated, "authentication required"),
    );
  });

  test("an rpc-host not in the list is refused: host not preconfigured", async () => {
    const signaling = signalingClient(grpcWebTransport(host));
    const headers = authed({ "rpc-host": "some-other-robot.local:8080" });
    await assert.rejects(drain(signaling.call({ sdp: anyOffer }, { headers })), isConnectError(Code.InvalidArgument, "host not preconfigured"));
    await assert.rejects(
      signaling.callUpdate({ uuid: "x", update: { case: "done", value: true } }, { headers }),
      isConnectError(Code.InvalidArgument, "host not preconfigured"),
    );
    await assert.rejects(signaling.optionalWebRTCConfig({}, { headers }), isConnectError(Code.InvalidArgument, "host not preconfigured"));
  });

  test("rpc-host metadata errors carry goutils' texts", async () => {
    const signaling = signalingClient(grpcWebTransport(host));
    const call = (headers: Headers) => drain(signaling.call({ sdp: anyOffer }, { headers }));
    await assert.rejects(call(authed()), isConnectError(Code.Unknown, "expected rpc-host to be set in metadata"));
    await assert.rejects(call(authed({ "rpc-host": "" })), isConnectError(Code.Unknown, "expected non-empty rpc-host"));
    await assert.rejects(
      call(authed([["rpc-host", rpcHost], ["rpc-host", rpcHost]])),
      isConnectError(Code.Unknown, "expected 1 rpc-host"),
    );
    const six: [string, string][] = Array.from({ length: 6 }, () => ["rpc-host", rpcHost]);
    await assert.rejects(call(authed(six)), isConnectError(Code.Unknown, "too many rpc-host"));
  });

  test("a Call whose sdp is not an encoded offer is refused", async () => {
    const signaling = signalingClient(grpcWebTransport(host));
    await assert.rejects(
      drain(signaling.call({ sdp: "not base64 json" }, { headers: authed({ "rpc-host": rpcHost }) })),
      (err) => err instanceof ConnectError && err.code === Code.InvalidArgument && err.rawMessage.startsWith("invalid offer"),
    );
  });

  test("CallUpdate for an unknown uuid: no active offer", async () => {
    const signaling = signalingClient(grpcWebTransport(host));
    const uuid = "6f1c4bd4-3f4e-4f0e-9d69-5f8cbbd0d4a1";
    await assert.rejects(
      signaling.callUpdate(
        { uuid, update: { case: "candidate", value: { candidate: "candidate:1 1 udp 1 192.0.2.9 9 typ host" } } },
        { headers: authed({ "rpc-host": rpcHost }) },
      ),
      isConnectError(Code.Unknown, `no active offer for "${uuid}"`),
    );
  });

  test("OptionalWebRTCConfig answers an empty config", async () => {
    const signaling = signalingClient(grpcWebTransport(host));
    const res = await signaling.optionalWebRTCConfig({}, { headers: authed({ "rpc-host": rpcHost }) });
    assert.deepEqual(res.config?.additionalIceServers, []);
    assert.equal(res.config?.disableTrickle, false);
  });

  test("Answer is UNIMPLEMENTED on the host", async () => {
    const signaling = signalingClient(grpcTransport(host));
    async function* none() {}
    await assert.rejects(drain(signaling.answer(none(), { headers: authed({ "rpc-host": rpcHost }) })), (err) => {
      return err instanceof ConnectError && err.code === Code.Unimplemented;
    });
  });

  test("Call streams init first (uuid v4), then candidates, then ends OK; both rpc-hosts work", async () => {
    for (const h of host.signalingHosts) {
      const peer = await dialRaw(host, { token, rpcHost: h });
      try {
        const [first, ...rest] = peer.callResponses;
        assert.equal(first?.stage.case, "init");
        assert.match(first.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        for (const r of rest) {
          assert.equal(r.stage.case, "update");
          assert.equal(r.uuid, first.uuid);
        }
      } finally {
        peer.close();
      }
    }
  });
});

describe("the SDK's dial refused at signaling", () => {
  let host: Host;
  let restore: () => void;

  before(async () => {
    restore = quietSdk();
    host = await startTestHost(withApiKey(allFakesConfig()));
  });

  after(async () => {
    await host?.close();
    restore?.();
  });

  /** The WebRTC attempt's error (the SDK then tries a direct dial, whose error comes second). */
  async function webrtcDialError(conf: ReturnType<typeof webrtcConf>): Promise<string> {
    const consoleError = console.error;
    console.error = () => {};
    try {
      const client = await new RobotClient().dial(conf);
      await client.disconnect();
      assert.fail("the dial should have been refused");
    } catch (err) {
      assert.ok(err instanceof Error);
      assert.match(err.message, /Failed to connect via all methods/);
      const causes = err.cause as unknown[];
      return String((causes[0] as Error).message);
    } finally {
      console.error = consoleError;
    }
  }

  test("a wrong api key fails at Authenticate", async () => {
    const message = await webrtcDialError(webrtcConf(host, { type: "api-key", authEntity: testKeyId, payload: "wrong" }));
    assert.match(message, /invalid credentials/);
    assert.equal(host.signaling.peerCount, 0);
  });

  test("no credentials: refused with authentication required", async () => {
    const message = await webrtcDialError({ ...webrtcConf(host), credentials: undefined } as unknown as ReturnType<typeof webrtcConf>);
    assert.match(message, /authentication required/);
  });

  test("an rpc-host the host does not serve: host not preconfigured", async () => {
    const message = await webrtcDialError(webrtcConf(host, undefined, "other-robot.example.com"));
    assert.match(message, /host not preconfigured/);
  });
});
