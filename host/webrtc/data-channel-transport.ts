// gRPC over a peer's `data` channel (spec §3), dispatched through the same connect router as HTTP:
// each channel call becomes a gRPC (application/grpc+proto) UniversalServerRequest for the router's
// handler, and its UniversalServerResponse goes back as headers, messages and trailers.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import {
  Code as ConnectCode,
  ConnectError,
  createContextValues,
  type ConnectRouter,
  type ContextValues,
} from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import type { Logger } from "pino";
import { ChannelServer, Code, type Metadata, type ServerCall, type Status } from "../../proto/channel/index.js";
import { protobufFrameCodec } from "../../proto/channel/protobuf-codec.js";
import { StatusSchema } from "../../proto/gen/google/rpc/status_pb.js";
import { authenticatedAtSignalingKey } from "../auth/interceptor.js";
import { maxMessageBytes } from "../server/server.js";
import type { AnsweringPeer } from "./peer.js";

export interface DataChannelTransportOptions {
  router: ConnectRouter;
  logger: Logger;
  /** Fresh context values for each call on `peer`'s channel (e.g. how the caller is connected). */
  contextValues?: (peer: AnsweringPeer) => ContextValues;
}

/** Response header/trailer keys that are gRPC framing, not metadata for the client. */
const framingKeys = new Set([
  "content-type",
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
  "grpc-encoding",
  "grpc-accept-encoding",
]);

/** Serves the router over data channels; one `attach` per peer connection. */
export class DataChannelTransport {
  private readonly router: ConnectRouter;
  private readonly logger: Logger;
  private readonly contextValues: ((peer: AnsweringPeer) => ContextValues) | undefined;
  private handlers: Map<string, UniversalHandler> | undefined;

  constructor(opts: DataChannelTransportOptions) {
    this.router = opts.router;
    this.logger = opts.logger;
    this.contextValues = opts.contextValues;
  }

  /**
   * Serves gRPC on `peer`'s data channel. `entity` is who the signaling call was authenticated as
   * (undefined when auth is off); the auth interceptor lets this channel's calls through as them.
   */
  attach(peer: AnsweringPeer, entity: string | undefined): ChannelServer {
    const logger = this.logger;
    const server = new ChannelServer({
      codec: protobufFrameCodec,
      send: (bytes) => peer.send(bytes),
      dispatch: (call) => void this.run(call, peer, entity).catch((err: unknown) => {
        logger.warn({ err, method: call.method }, "data channel call failed");
        call.finish({ code: Code.INTERNAL, message: "internal error" });
      }),
      setTimer: (ms, fn) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      },
      maxMessageBytes,
      onProtocolError: (err) => logger.debug({ err }, "data channel protocol error"),
    });
    peer.onMessage((bytes) => server.receive(bytes));
    // The channel is gone: every open call ends (handlers see their signal abort), nothing is written.
    peer.onClose((reason) => server.close({ code: Code.UNAVAILABLE, message: `peer connection closed: ${reason}` }, false));
    return server;
  }

  private handler(method: string): UniversalHandler | undefined {
    this.handlers ??= new Map(this.router.handlers.map((h) => [h.requestPath, h]));
    return this.handlers.get(method);
  }

  private async run(call: ServerCall, peer: AnsweringPeer, entity: string | undefined): Promise<void> {
    const handler = this.handler(call.method);
    if (!handler) {
      call.finish({ code: Code.UNIMPLEMENTED, message: `unknown method ${call.method}` });
      return;
    }
    const abort = new AbortController();
    const unregister = call.onCancel((reason) => abort.abort(new ConnectError(reason.message, reason.code as ConnectCode)));
    try {
      const contextValues = this.contextValues?.(peer) ?? createContextValues();
      if (entity !== undefined) contextValues.set(authenticatedAtSignalingKey, entity);
      const singleRequest = handler.method.methodKind === "unary" || handler.method.methodKind === "server_streaming";
      const req: UniversalServerRequest = {
        httpVersion: "2.0",
        method: "POST",
        url: `webrtc://data-channel${call.method}`,
        header: requestHeaders(call.metadata),
        body: envelopedRequests(call.requests, singleRequest),
        signal: abort.signal,
        contextValues,
      };
      let res: UniversalServerResponse;
      try {
        res = await handler(req);
      } catch (err) {
        call.finish(statusFromThrown(err));
        return;
      }
      await this.respond(call, res);
    } finally {
      unregister();
    }
  }

  private async respond(call: ServerCall, res: UniversalServerResponse): Promise<void> {
    if (res.status !== 200) {
      // The gRPC handler answers 200 for every gRPC-level result; anything else is a framing problem.
      call.finish({ code: Code.INTERNAL, message: `handler answered HTTP ${res.status}` });
      return;
    }
    const header = res.header ?? new Headers();
    call.sendHeaders(headersToMetadata(header));
    if (res.body) {
      const parser = new EnvelopeParser();
      try {
        for await (const chunk of res.body) {
          for (const env of parser.push(chunk)) {
            if (env.flags !== 0) {
              call.finish({ code: Code.INTERNAL, message: `unexpected response frame flags 0x${env.flags.toString(16)}` });
              return;
            }
            // Waits for channel backpressure; rejects once the call is cancelled or finished.
            await call.sendMessage(env.data);
          }
        }
      } catch (err) {
        if (!call.finished) call.finish(statusFromThrown(err));
        return;
      }
      if (parser.pending) {
        call.finish({ code: Code.INTERNAL, message: "truncated response frame" });
        return;
      }
    }
    const trailer = res.trailer ?? new Headers();
    // Trailers-only responses carry the status in the headers.
    const status = statusFromHeaders(trailer.has("grpc-status") ? trailer : header);
    call.finish(status, headersToMetadata(trailer));
  }
}

function requestHeaders(metadata: Metadata): Headers {
  const header = new Headers();
  for (const [key, values] of Object.entries(metadata)) {
    for (const value of values) {
      try {
        header.append(key, value);
      } catch {
        // Not representable as an HTTP header; a gRPC peer could not have sent it either.
      }
    }
  }
  header.set("content-type", "application/grpc+proto");
  return header;
}

/** The request messages as gRPC envelopes (flag 0, big-endian length). */
async function* envelopedRequests(requests: AsyncIterable<Uint8Array>, single: boolean): AsyncGenerator<Uint8Array> {
  for await (const msg of requests) {
    yield envelope(msg);
    // Unary and server-streaming calls take one message; the TS SDK never half-closes them.
    if (single) return;
  }
}

function envelope(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.byteLength);
  new DataView(out.buffer).setUint32(1, data.byteLength, false);
  out.set(data, 5);
  return out;
}

class EnvelopeParser {
  private buf: Uint8Array = new Uint8Array(0);

  get pending(): boolean {
    return this.buf.byteLength > 0;
  }

  *push(chunk: Uint8Array): Generator<{ flags: number; data: Uint8Array }> {
    let buf = chunk;
    if (this.buf.byteLength > 0) {
      buf = new Uint8Array(this.buf.byteLength + chunk.byteLength);
      buf.set(this.buf);
      buf.set(chunk, this.buf.byteLength);
    }
    let off = 0;
    while (buf.byteLength - off >= 5) {
      const len = new DataView(buf.buffer, buf.byteOffset + off + 1, 4).getUint32(0, false);
      if (buf.byteLength - off - 5 < len) break;
      yield { flags: buf[off]!, data: buf.subarray(off + 5, off + 5 + len) };
      off += 5 + len;
    }
    this.buf = buf.subarray(off);
  }
}

function headersToMetadata(header: Headers): Metadata {
  const md: Metadata = {};
  header.forEach((value, key) => {
    if (framingKeys.has(key)) return;
    // `Headers` joins repeated values with ", "; values may contain commas, so they stay joined.
    md[key] = [value];
  });
  return md;
}

function statusFromHeaders(header: Headers): Status {
  const raw = header.get("grpc-status");
  if (raw === null) return { code: Code.UNKNOWN, message: "handler sent no grpc-status" };
  const code = Number.parseInt(raw, 10);
  if (!Number.isInteger(code) || code < 0) return { code: Code.UNKNOWN, message: `invalid grpc-status ${raw}` };
  let message = header.get("grpc-message") ?? "";
  try {
    message = decodeURIComponent(message);
  } catch {
    // Not percent-encoded after all; keep it as sent.
  }
  const status: Status = { code, message };
  const details = header.get("grpc-status-details-bin");
  if (details) {
    try {
      const decoded = fromBinary(StatusSchema, Buffer.from(details, "base64"));
      if (decoded.details.length > 0) status.details = decoded.details.map((d) => toBinary(AnySchema, d));
    } catch {
      // Undecodable details are dropped; code and message still reach the client.
    }
  }
  return status;
}

function statusFromThrown(err: unknown): Status {
  const ce = ConnectError.from(err);
  return { code: ce.code, message: ce.rawMessage };
}
