// FrameCodec over the generated protobuf-es v2 classes: the host's codec.
// The firmware has its own; this is the only file here that needs protobuf-es.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AnySchema, DurationSchema, type Duration } from "@bufbuild/protobuf/wkt";

import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import {
  MetadataSchema,
  PacketMessageSchema,
  RequestHeadersSchema,
  RequestMessageSchema,
  RequestSchema,
  ResponseHeadersSchema,
  ResponseMessageSchema,
  ResponseSchema,
  ResponseTrailersSchema,
  StreamSchema,
  StringsSchema,
  type Metadata as PbMetadata,
  type Request,
  type Response,
} from "../gen/proto/rpc/webrtc/v1/grpc_pb.js";
import type { FrameCodec, Metadata, RequestFrame, ResponseFrame, Status } from "./frames.js";

const EMPTY = new Uint8Array(0);

// Empty metadata is left out of the frame, as Go's metadataToProto does.
function metadataToPb(md: Metadata | undefined): PbMetadata | undefined {
  if (md === undefined) return undefined;
  const keys = Object.keys(md);
  if (keys.length === 0) return undefined;
  const out = create(MetadataSchema);
  for (const key of keys) out.md[key] = create(StringsSchema, { values: [...md[key]] });
  return out;
}

function metadataFromPb(md: PbMetadata | undefined): Metadata {
  const out: Metadata = {};
  if (md === undefined) return out;
  for (const key of Object.keys(md.md)) out[key] = [...md.md[key].values];
  return out;
}

// Milliseconds may be fractional: a sub-millisecond timeout must not round
// to 0, which would mean "no deadline".
function durationFromMs(ms: number): Duration {
  const sign = ms < 0 ? -1 : 1;
  const abs = Math.abs(ms);
  let seconds = Math.floor(abs / 1000);
  let nanos = Math.round((abs - seconds * 1000) * 1_000_000);
  if (nanos >= 1_000_000_000) {
    seconds += 1;
    nanos -= 1_000_000_000;
  }
  return create(DurationSchema, {
    seconds: BigInt(seconds * sign),
    // Avoid -0: proto3 would still treat it as the default, but keep it tidy.
    nanos: nanos === 0 ? 0 : nanos * sign,
  });
}

function durationToMs(d: Duration): number {
  return Number(d.seconds) * 1000 + d.nanos / 1_000_000;
}

function statusToPb(status: Status) {
  return create(StatusSchema, {
    code: status.code,
    message: status.message,
    details: (status.details ?? []).map((bytes) => fromBinary(AnySchema, bytes)),
  });
}

function requestToPb(f: RequestFrame): Request {
  const req = create(RequestSchema);
  // Presence matters: an empty Stream (id 0) encodes as `0a 00`, absence as nothing.
  if (f.streamId !== undefined) req.stream = create(StreamSchema, { id: f.streamId });
  if (f.headers) {
    req.type = {
      case: "headers",
      value: create(RequestHeadersSchema, {
        method: f.headers.method,
        metadata: metadataToPb(f.headers.metadata),
        timeout: f.headers.timeoutMs === undefined ? undefined : durationFromMs(f.headers.timeoutMs),
      }),
    };
  } else if (f.message) {
    req.type = {
      case: "message",
      value: create(RequestMessageSchema, {
        hasMessage: f.message.hasMessage,
        packetMessage: create(PacketMessageSchema, { data: f.message.data, eom: f.message.eom }),
        eos: f.message.eos,
      }),
    };
  } else if (f.rstStream !== undefined) {
    req.type = { case: "rstStream", value: f.rstStream };
  }
  return req;
}

function requestFromPb(req: Request): RequestFrame {
  const frame: RequestFrame = { streamId: req.stream?.id };
  switch (req.type.case) {
    case "headers": {
      const h = req.type.value;
      frame.headers = { method: h.method, metadata: metadataFromPb(h.metadata) };
      if (h.timeout !== undefined) frame.headers.timeoutMs = durationToMs(h.timeout);
      break;
    }
    case "message": {
      const m = req.type.value;
      frame.message = {
        hasMessage: m.hasMessage,
        data: m.packetMessage?.data ?? EMPTY,
        eom: m.packetMessage?.eom ?? false,
        eos: m.eos,
      };
      break;
    }
    case "rstStream":
      frame.rstStream = req.type.value;
      break;
  }
  return frame;
}

function responseToPb(f: ResponseFrame): Response {
  const res = create(ResponseSchema, { stream: create(StreamSchema, { id: f.streamId }) });
  if (f.headers) {
    res.type = { case: "headers", value: create(ResponseHeadersSchema, { metadata: metadataToPb(f.headers.metadata) }) };
  } else if (f.message) {
    res.type = {
      case: "message",
      value: create(ResponseMessageSchema, { packetMessage: create(PacketMessageSchema, { data: f.message.data, eom: f.message.eom }) }),
    };
  } else if (f.trailers) {
    res.type = {
      case: "trailers",
      value: create(ResponseTrailersSchema, {
        // Always present, like Go: OK encodes as an empty Status message.
        status: statusToPb(f.trailers.status),
        metadata: metadataToPb(f.trailers.metadata),
      }),
    };
  }
  return res;
}

function responseFromPb(res: Response): ResponseFrame {
  // A Response without a stream cannot be routed (Go's client logs and drops
  // it); report it through the decode error path.
  if (res.stream === undefined) throw new Error("response without stream");
  const frame: ResponseFrame = { streamId: res.stream.id };
  switch (res.type.case) {
    case "headers":
      frame.headers = { metadata: metadataFromPb(res.type.value.metadata) };
      break;
    case "message": {
      const p = res.type.value.packetMessage;
      frame.message = { data: p?.data ?? EMPTY, eom: p?.eom ?? false };
      break;
    }
    case "trailers": {
      const t = res.type.value;
      const status: Status = { code: t.status?.code ?? 0, message: t.status?.message ?? "" };
      const details = t.status?.details ?? [];
      if (details.length > 0) status.details = details.map((any) => toBinary(AnySchema, any));
      frame.trailers = { status, metadata: metadataFromPb(t.metadata) };
      break;
    }
  }
  return frame;
}

export const protobufFrameCodec: FrameCodec = {
  encodeRequest: (frame) => toBinary(RequestSchema, requestToPb(frame)),
  decodeRequest: (bytes) => requestFromPb(fromBinary(RequestSchema, bytes)),
  encodeResponse: (frame) => toBinary(ResponseSchema, responseToPb(frame)),
  decodeResponse: (bytes) => responseFromPb(fromBinary(ResponseSchema, bytes)),
};
