// A bare WebRTC caller for tests that need what the SDK hides: signaling by hand over connect-node
// (Authenticate, Call, CallUpdate), a libwebrtc peer connection (@roamhq/wrtc), and the project's
// ChannelClient on the `data` channel, so statuses keep their codes.
import { create, toBinary, fromBinary, type DescMessage, type MessageShape, type MessageInitShape } from "@bufbuild/protobuf";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import wrtc from "@roamhq/wrtc";
import type { Host } from "../../host/host.js";
import { ChannelClient, type UnaryResult } from "../../proto/channel/index.js";
import { protobufFrameCodec } from "../../proto/channel/protobuf-codec.js";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import { SignalingService, type CallResponse } from "../../proto/gen/proto/rpc/webrtc/v1/signaling_pb.js";
import { testKeyId, testKeySecret } from "../support/host.js";

/** gRPC-web over HTTP/1.1 (the SDK's default transport) to the host's port. */
export function grpcWebTransport(host: Host): Transport {
  return createGrpcWebTransport({ baseUrl: host.url, httpVersion: "1.1" });
}

/** Native gRPC over h2c, which can also do bidi streams. */
export function grpcTransport(host: Host): Transport {
  return createGrpcTransport({ baseUrl: host.url });
}

export function signalingClient(transport: Transport): Client<typeof SignalingService> {
  return createClient(SignalingService, transport);
}

/** A Bearer token for the test api key (or `secret`), from the host's AuthService. */
export async function accessToken(host: Host, secret = testKeySecret): Promise<string> {
  const auth = createClient(AuthService, grpcWebTransport(host));
  const res = await auth.authenticate({ entity: testKeyId, credentials: { type: "api-key", payload: secret } });
  return res.accessToken;
}

export function encodeSdp(desc: { type: string; sdp: string }): string {
  return Buffer.from(JSON.stringify({ type: desc.type, sdp: desc.sdp })).toString("base64");
}

export function decodeSdp(s: string): { type: string; sdp: string } {
  return JSON.parse(Buffer.from(s, "base64").toString("utf8")) as { type: string; sdp: string };
}

export interface RawPeer {
  readonly pc: InstanceType<typeof wrtc.RTCPeerConnection>;
  readonly channel: ChannelClient;
  /** The Call stream's messages, in order. */
  readonly callResponses: CallResponse[];
  unary<I extends DescMessage, O extends DescMessage>(
    method: string,
    input: I,
    init: MessageInitShape<I>,
    output: O,
  ): Promise<{ message: MessageShape<O>; result: UnaryResult }>;
  close(): void;
}

/** Dials `host` over WebRTC by hand, as the TS SDK does (trickled candidates after init, then done). */
export async function dialRaw(host: Host, opts: { token?: string; rpcHost?: string } = {}): Promise<RawPeer> {
  const headers: Record<string, string> = { "rpc-host": opts.rpcHost ?? host.signalingHosts[0]! };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const signaling = signalingClient(grpcWebTransport(host));

  const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  const dc = pc.createDataChannel("data", { id: 0, negotiated: true, ordered: true });
  pc.createDataChannel("negotiation", { id: 1, negotiated: true, ordered: true });
  dc.binaryType = "arraybuffer";
  const opened = new Promise<void>((resolve, reject) => {
    dc.onopen = () => resolve();
    setTimeout(() => reject(new Error("data channel did not open in 10 s")), 10_000).unref();
  });

  let uuid: string | undefined;
  const early: unknown[] = [];
  const sendCandidate = (candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null; usernameFragment?: string | null }) =>
    signaling.callUpdate(
      {
        uuid: uuid!,
        update: {
          case: "candidate",
          value: {
            candidate: candidate.candidate,
            sdpMid: candidate.sdpMid ?? undefined,
            sdpmLineIndex: candidate.sdpMLineIndex ?? undefined,
            usernameFragment: candidate.usernameFragment ?? undefined,
          },
        },
      },
      { headers },
    );
  pc.onicecandidate = (e: { candidate: { candidate: string } | null }) => {
    if (!e.candidate) return;
    if (uuid === undefined) early.push(e.candidate);
    else void sendCandidate(e.candidate).catch(() => {});
  };
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);

  const callResponses: CallResponse[] = [];
  for await (const res of signaling.call({ sdp: encodeSdp(pc.localDescription!) }, { headers })) {
    callResponses.push(res);
    if (res.stage.case === "init") {
      uuid = res.uuid;
      await pc.setRemoteDescription(decodeSdp(res.stage.value.sdp));
      for (const c of early.splice(0)) await sendCandidate(c as { candidate: string });
    } else if (res.stage.case === "update" && res.stage.value.candidate) {
      const c = res.stage.value.candidate;
      await pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpmLineIndex ?? null });
    }
  }
  await opened;
  await signaling.callUpdate({ uuid: uuid!, update: { case: "done", value: true } }, { headers });

  const channel = new ChannelClient({
    codec: protobufFrameCodec,
    // libwebrtc closes a channel whose send buffer (16 MiB) overflows: wait while 1 MiB is queued.
    // (Polled: wrtc's bufferedamountlow did not fire reliably here.)
    send: async (bytes) => {
      while (dc.bufferedAmount > 1024 * 1024) {
        if (dc.readyState !== "open") throw new Error("data channel closed");
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      dc.send(bytes);
    },
    setTimer: (ms, fn) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    },
    firstStreamId: 0n,
  });
  dc.onmessage = (e: { data: ArrayBuffer }) => channel.receive(new Uint8Array(e.data));
  dc.onclose = () => channel.close("data channel closed");

  return {
    pc,
    channel,
    callResponses,
    async unary(method, input, init, output) {
      const result = await channel.unary(method, {}, toBinary(input, create(input, init)));
      return { message: fromBinary(output, result.message), result };
    },
    close() {
      channel.close("closed by test");
      pc.close();
    },
  };
}
