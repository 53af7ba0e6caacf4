// gRPC over a peer's `data` channel (spec §3), dispatched through the same connect router as HTTP:
// each channel call becomes a gRPC (application/grpc+proto) UniversalServerRequest for the router's
// handler, and its UniversalServerResponse goes back as headers, messages and trailers.
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
import { authenticatedAtSignalingKey } from "../auth/interceptor.js";
import { envelope, EnvelopeReader, metadataFromHeaders, statusFromHeaders } from "../server/grpc-wire.js";
import { maxMessageBytes } from "../server/server.js";
import type { AnsweringPeer } from "./peer.js";

export interface DataChannelTransportOptions {
  router: ConnectRouter;
  logger: Logger;
  /** Fresh context values for each call on `peer`'s channel (e.g. how the caller is connected). */
  contextValues?: (peer: AnsweringPeer) => ContextValues;
}

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
    call.sendHeaders(metadataFromHeaders(header));
    if (res.body) {
      const parser = new EnvelopeReader();
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
    const status = statusFromHeaders(trailer.has("grpc-status") ? trailer : header, "handler sent no grpc-status");
    call.finish(status, metadataFromHeaders(trailer));
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

function statusFromThrown(err: unknown): Status {
  const ce = ConnectError.from(err);
  return { code: ce.code, message: ce.rawMessage };
}
