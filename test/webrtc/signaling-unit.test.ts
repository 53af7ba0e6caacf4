// WebRtcSignaling on its own, with a libwebrtc caller that never connects: the order of the Call
// stream, the offer deadline, an empty allowed-host list, the hosts list itself, and close().
import assert from "node:assert/strict";
import { test } from "node:test";
import { createContextValues, createHandlerContext, type HandlerContext } from "@connectrpc/connect";
import wrtc from "@roamhq/wrtc";
import { authEntityKey } from "../../host/auth/interceptor.js";
import { createLogger } from "../../host/log/logger.js";
import type { AnsweringPeer } from "../../host/webrtc/peer.js";
import { internalSignalingHosts, WebRtcSignaling, type PeerInfo } from "../../host/webrtc/signaling-service.js";
import { SignalingService, type CallResponse } from "../../proto/gen/proto/rpc/webrtc/v1/signaling_pb.js";
import { decodeSdp, encodeSdp } from "./raw-peer.js";
import { waitFor } from "./wrtc-env.js";

const logger = createLogger({ level: "error" });

function callContext(headers: Record<string, string>, entity?: string): HandlerContext {
  const values = createContextValues();
  if (entity !== undefined) values.set(authEntityKey, entity);
  return createHandlerContext({
    service: SignalingService,
    method: SignalingService.method.call,
    protocolName: "grpc",
    requestMethod: "POST",
    url: "http://test/proto.rpc.webrtc.v1.SignalingService/Call",
    requestHeader: headers,
    contextValues: values,
  });
}

async function callerOffer(): Promise<{ pc: InstanceType<typeof wrtc.RTCPeerConnection>; sdp: string }> {
  const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  pc.createDataChannel("data", { id: 0, negotiated: true, ordered: true });
  pc.createDataChannel("negotiation", { id: 1, negotiated: true, ordered: true });
  await pc.setLocalDescription(await pc.createOffer());
  return { pc, sdp: encodeSdp(pc.localDescription!) };
}

test("Call: init first, werift's candidates after it, end OK; an unconnected peer closes at the offer deadline", async () => {
  const peers: [AnsweringPeer, PeerInfo][] = [];
  const signaling = new WebRtcSignaling({ allowedHosts: () => [], onPeer: (p, i) => peers.push([p, i]), logger, offerDeadlineMs: 300 });
  const { pc, sdp } = await callerOffer();
  try {
    const out: CallResponse[] = [];
    const call = signaling.impl.call!;
    for await (const r of call({ sdp } as never, callContext({ "rpc-host": "anything-goes:1" }, "key-id")) as AsyncIterable<CallResponse>) {
      out.push(r);
    }
    assert.equal(out[0]?.stage.case, "init");
    const answer = decodeSdp(out[0]!.stage.value!.sdp as string);
    assert.equal(answer.type, "answer");
    assert.match(answer.sdp, /a=candidate:/, "werift's candidates are in the answer too");
    assert.ok(out.length >= 2, "werift's gathered candidates are trickled after init");
    assert.ok(out.slice(1).every((r) => r.stage.case === "update" && r.uuid === out[0]!.uuid));

    assert.equal(peers.length, 1);
    assert.deepEqual(peers[0]![1], { uuid: out[0]!.uuid, host: "anything-goes:1", entity: "key-id" });
    assert.equal(signaling.peerCount, 1);
    await waitFor("the offer deadline to close the peer", () => signaling.peerCount === 0, 3000);
    assert.equal(peers[0]![0].isClosed, true);
  } finally {
    pc.close();
    await signaling.close();
  }
});

test("close() closes every peer and refuses new calls", async () => {
  const signaling = new WebRtcSignaling({ allowedHosts: () => ["me:1"], onPeer: () => {}, logger });
  const { pc, sdp } = await callerOffer();
  try {
    const call = signaling.impl.call!;
    for await (const _ of call({ sdp } as never, callContext({ "rpc-host": "me:1" })) as AsyncIterable<CallResponse>) {
      // drain
    }
    assert.equal(signaling.peerCount, 1);
    await signaling.close();
    assert.equal(signaling.peerCount, 0);
    await assert.rejects(async () => {
      for await (const _ of call({ sdp } as never, callContext({ "rpc-host": "me:1" })) as AsyncIterable<CallResponse>) {
        // drain
      }
    }, /shutting down/);
  } finally {
    pc.close();
  }
});

test("internalSignalingHosts", () => {
  assert.deepEqual(internalSignalingHosts({ fqdn: "", host: "127.0.0.1", port: 8080 }), ["127.0.0.1:8080", "localhost:8080"]);
  assert.deepEqual(internalSignalingHosts({ fqdn: "robot.example", host: "localhost", port: 8080 }), [
    "robot.example",
    "localhost:8080",
    "127.0.0.1:8080",
  ]);
  assert.deepEqual(internalSignalingHosts({ fqdn: "", host: "192.0.2.7", port: 443 }), ["192.0.2.7:443", "192.0.2.7"]);
  const wildcard = internalSignalingHosts({ fqdn: "", host: "0.0.0.0", port: 8080 });
  assert.ok(wildcard.includes("localhost:8080") && wildcard.includes("127.0.0.1:8080"));
  assert.ok(!wildcard.includes("0.0.0.0:8080"));
});
