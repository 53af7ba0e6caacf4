// The firmware's FrameCodec: proto/channel's frame shapes to and from proto.rpc.webrtc.v1 Request
// and Response bytes through the compact generated codecs (proto/micro/gen), with the same bytes
// and the same decoding decisions as the host's protobuf-es codec (proto/channel/protobuf-codec.ts):
// empty metadata is left out, trailers always carry a Status, a Response without a stream is an
// error, fractional-millisecond timeouts keep their nanoseconds.
import type { FrameCodec, Metadata, RequestFrame, ResponseFrame, Status } from "../../proto/channel/frames.js";
import { decodeAny, encodeAny, type Any } from "../../proto/micro/gen/google/protobuf/any_micro.js";
import type { Duration } from "../../proto/micro/gen/google/protobuf/duration_micro.js";
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type Metadata as WireMetadata,
  type Request,
  type Response,
  type Strings,
} from "../../proto/micro/gen/proto/rpc/webrtc/v1/grpc_micro.js";

const EMPTY = new Uint8Array(0);

function metadataToWire(md: Metadata | undefined): WireMetadata | undefined {
  if (md === undefined) return undefined;
  const keys = Object.keys(md);
  if (keys.length === 0) return undefined;
  const out: { [key: string]: Strings } = {};
  for (const key of keys) out[key] = { values: md[key].slice() };
  return { md: out };
}

function metadataFromWire(md: WireMetadata | undefined): Metadata {
  const out: Metadata = {};
  if (md === undefined) return out;
  for (const key of Object.keys(md.md)) out[key] = md.md[key].values;
  return out;
}

function durationFromMs(ms: number): Duration {
  const sign = ms < 0 ? -1 : 1;
  const abs = Math.abs(ms);
  let seconds = Math.floor(abs / 1000);
  let nanos = Math.round((abs - seconds * 1000) * 1_000_000);
  if (nanos >= 1_000_000_000) {
    seconds += 1;
    nanos -= 1_000_000_000;
  }
  return { seconds: BigInt(seconds * sign), nanos: nanos === 0 ? 0 : nanos * sign };
}

function durationToMs(d: Duration): number {
  return Number(d.seconds) * 1000 + d.nanos / 1_000_000;
}

function requestToWire(f: RequestFrame): Request {
  const req: Request = { stream: f.streamId === undefined ? undefined : { id: f.streamId }, type: { case: undefined } };
  if (f.headers) {
    const h = f.headers;
    req.type = {
      case: "headers",
      value: {
        method: h.method,
        metadata: metadataToWire(h.metadata),
        timeout: h.timeoutMs === undefined ? undefined : durationFromMs(h.timeoutMs),
      },
    };
  } else if (f.message) {
    const m = f.message;
    req.type = { case: "message", value: { hasMessage: m.hasMessage, packetMessage: { data: m.data, eom: m.eom }, eos: m.eos } };
  } else if (f.rstStream !== undefined) {
    req.type = { case: "rstStream", value: f.rstStream };
  }
  return req;
}

function requestFromWire(req: Request): RequestFrame {
  const frame: RequestFrame = { streamId: req.stream?.id };
  const type = req.type;
  switch (type.case) {
    case "headers": {
      const h = type.value;
      frame.headers = { method: h.method, metadata: metadataFromWire(h.metadata) };
      if (h.timeout !== undefined) frame.headers.timeoutMs = durationToMs(h.timeout);
      break;
    }
    case "message": {
      const m = type.value;
      frame.message = { hasMessage: m.hasMessage, data: m.packetMessage?.data ?? EMPTY, eom: m.packetMessage?.eom ?? false, eos: m.eos };
      break;
    }
    case "rstStream":
      frame.rstStream = type.value;
      break;
  }
  return frame;
}

function responseToWire(f: ResponseFrame): Response {
  const res: Response = { stream: { id: f.streamId }, type: { case: undefined } };
  if (f.headers) {
    res.type = { case: "headers", value: { metadata: metadataToWire(f.headers.metadata) } };
  } else if (f.message) {
    res.type = { case: "message", value: { packetMessage: { data: f.message.data, eom: f.message.eom } } };
  } else if (f.trailers) {
    const s = f.trailers.status;
    const details: Any[] = [];
    if (s.details !== undefined) for (const d of s.details) details.push(decodeAny(d));
    res.type = {
      case: "trailers",
      value: { status: { code: s.code, message: s.message, details }, metadata: metadataToWire(f.trailers.metadata) },
    };
  }
  return res;
}

function responseFromWire(res: Response): ResponseFrame {
  if (res.stream === undefined) throw new Error("response without stream");
  const frame: ResponseFrame = { streamId: res.stream.id };
  const type = res.type;
  switch (type.case) {
    case "headers":
      frame.headers = { metadata: metadataFromWire(type.value.metadata) };
      break;
    case "message": {
      const p = type.value.packetMessage;
      frame.message = { data: p?.data ?? EMPTY, eom: p?.eom ?? false };
      break;
    }
    case "trailers": {
      const t = type.value;
      const status: Status = { code: t.status?.code ?? 0, message: t.status?.message ?? "" };
      const details = t.status?.details ?? [];
      if (details.length > 0) status.details = details.map(encodeAny);
      frame.trailers = { status, metadata: metadataFromWire(t.metadata) };
      break;
    }
  }
  return frame;
}

export const microFrameCodec: FrameCodec = {
  encodeRequest: (frame) => encodeRequest(requestToWire(frame)),
  decodeRequest: (bytes) => requestFromWire(decodeRequest(bytes)),
  encodeResponse: (frame) => encodeResponse(responseToWire(frame)),
  decodeResponse: (bytes) => responseFromWire(decodeResponse(bytes)),
};
