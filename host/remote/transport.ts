// A connect Transport over anything that makes byte-level remote calls (a RemoteConnection, or a
// remote part that routes to its live connection), so generated clients (`createClient(MotorService,
// remoteTransport(part))`) work against a remote part. Errors come back as ConnectErrors with the
// part's code, message and details.
import { create, fromBinary, toBinary, type DescMessage, type DescMethodStreaming, type DescMethodUnary, type MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError, type StreamResponse, type Transport, type UnaryResponse } from "@connectrpc/connect";
import { ChannelError, type Metadata } from "../../proto/channel/index.js";
import type { RemoteCall, RemoteCallOptions } from "./connection.js";

/** What a connect Transport is given as request headers. */
type HeaderInit = ConstructorParameters<typeof Headers>[0];
import { methodPath, unaryBytes } from "./typed.js";

/** What makes calls: a connection or a remote part. */
export interface RemoteCaller {
  call(method: string, request: Uint8Array | AsyncIterable<Uint8Array>, options?: RemoteCallOptions): RemoteCall;
}

export function metadataToHeaders(md: Metadata): Headers {
  const h = new Headers();
  for (const [k, values] of Object.entries(md)) {
    for (const v of values) {
      try {
        h.append(k, v);
      } catch {
        // Not representable as an HTTP header.
      }
    }
  }
  return h;
}

export function headersToMetadata(init: HeaderInit | undefined): Metadata {
  const md: Metadata = {};
  if (init === undefined) return md;
  new Headers(init).forEach((value, key) => {
    md[key] = [value];
  });
  return md;
}

/** A ChannelError (or anything) as a ConnectError with the same code, message and details. */
export function connectErrorOf(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof ChannelError) {
    const ce = new ConnectError(err.message, err.code, metadataToHeaders(err.metadata));
    for (const d of err.details) ce.details.push(anyDetail(d));
    return ce;
  }
  return ConnectError.from(err);
}

/** A google.protobuf.Any (serialized) as connect's incoming detail {type, value}. */
function anyDetail(bytes: Uint8Array): { type: string; value: Uint8Array } {
  // Any: 1 type_url (string), 2 value (bytes). Decoded by hand to keep this free of registries.
  let type = "";
  let value: Uint8Array = new Uint8Array(0);
  let i = 0;
  const varint = () => {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[i++] ?? 0;
      n += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0 || i >= bytes.length) return n;
      shift += 7;
    }
  };
  while (i < bytes.length) {
    const tag = varint();
    if ((tag & 7) !== 2) break;
    const len = varint();
    const chunk = bytes.subarray(i, i + len);
    i += len;
    if (tag >>> 3 === 1) type = new TextDecoder().decode(chunk).replace(/^.*\//, "");
    else if (tag >>> 3 === 2) value = chunk;
  }
  return { type, value };
}

export function remoteTransport(caller: RemoteCaller): Transport {
  return {
    async unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeaderInit | undefined,
      input: MessageInitShape<I>,
    ): Promise<UnaryResponse<I, O>> {
      const bytes = toBinary(method.input, create(method.input, input));
      try {
        const r = await unaryBytes(caller.call(methodPath(method), bytes, { signal, timeoutMs, metadata: headersToMetadata(header) }));
        return {
          stream: false,
          service: method.parent,
          method,
          header: metadataToHeaders(r.headers),
          message: fromBinary(method.output, r.message),
          trailer: metadataToHeaders(r.trailers),
        };
      } catch (err) {
        throw connectErrorOf(err);
      }
    },

    async stream<I extends DescMessage, O extends DescMessage>(
      method: DescMethodStreaming<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeaderInit | undefined,
      input: AsyncIterable<MessageInitShape<I>>,
    ): Promise<StreamResponse<I, O>> {
      let request: Uint8Array | AsyncIterable<Uint8Array>;
      if (method.methodKind === "server_streaming") {
        let first: MessageInitShape<I> | undefined;
        for await (const m of input) {
          first = m;
          break;
        }
        request = toBinary(method.input, create(method.input, first ?? ({} as MessageInitShape<I>)));
      } else {
        request = (async function* () {
          for await (const m of input) yield toBinary(method.input, create(method.input, m));
        })();
      }
      const call = caller.call(methodPath(method), request, { signal, timeoutMs, metadata: headersToMetadata(header) });
      let headers: Metadata;
      try {
        headers = await call.headers;
      } catch (err) {
        throw connectErrorOf(err);
      }
      const trailer = new Headers();
      const output = method.output;
      return {
        stream: true,
        service: method.parent,
        method,
        header: metadataToHeaders(headers),
        trailer,
        message: (async function* () {
          try {
            for await (const m of call.responses) yield fromBinary(output, m);
          } catch (err) {
            throw connectErrorOf(err);
          }
          const { metadata } = await call.trailers;
          metadataToHeaders(metadata).forEach((v, k) => trailer.set(k, v));
        })(),
      };
    },
  };
}
