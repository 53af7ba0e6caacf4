// Forwarding to remote parts, once, in the dispatcher: every method of every resource service the
// router serves is wrapped (from its descriptor, not per API), so it works for every transport that
// reaches the router (HTTP/2 gRPC, gRPC-web, WebRTC data channels), after the router's interceptors
// (auth, sessions, operations). It wraps the implementation rather than intercepting because only the
// implementation's context can set the response's headers and trailers without replacing the
// protocol's own (a connect interceptor's response headers replace them).
// For a call whose resource name (found from the request descriptor, see names.ts) belongs to a
// remote part, the request is re-serialized with the part's own name for the resource, sent by
// method path over the part's connection, and the part's responses are decoded and returned: no
// code per API, so an API the host serves is forwarded as soon as its service is registered.
// Server streams (board StreamTicks) and client streams forward the same way; errors keep the
// part's code, message and details; cancelling the call (client abort, CancelOperation, deadline)
// cancels the forwarded one.
//
// Sessions: a safety-monitored call forwarded for a session puts the remote resource under that
// session (the host stops it through the part's Stop when the session lapses, session/manager.ts),
// and a `viam-smrn` header from the part (resources it put under its own safety monitoring) is mapped
// to the host's names and does the same. The caller's `viam-sid`, auth and transport headers are not
// forwarded: the part authenticates the host, not the host's clients.
import { clone, fromBinary, toBinary, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Code as ConnectCode, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { ChannelError, Code } from "../../proto/channel/index.js";
import { resourceNameString } from "../resource/name.js";
import { SAFETY_MONITORED_RESOURCE_METADATA_KEY, sessionKey } from "../session/context.js";
import { isSafetyHeartbeatMonitored } from "../session/interceptor.js";
import type { SessionManager } from "../session/manager.js";
import type { Metadata } from "./connection.js";
import type { RemoteManager, RemoteTarget } from "./manager.js";
import { resourceNameField } from "./names.js";
import { connectErrorOf } from "./transport.js";
import { unaryBytes } from "./typed.js";
import { peekFirst } from "../util/peek-first.js";

export interface RemoteForwarderOptions {
  remotes: RemoteManager;
  /** Where safety-monitored forwarded calls are recorded; no session bookkeeping without it. */
  sessions?: SessionManager;
}


type Impl = Record<string, ((...args: never[]) => unknown) | undefined>;

/**
 * `impl` with every method of `service` that names a resource first checking whether the resource
 * belongs to a remote part, and forwarding the call there when it does. Methods `impl` lacks are
 * forwarded too, and answer UNIMPLEMENTED for local names.
 */
export function withRemoteForwarding<T extends object>(service: DescService, impl: T, opts: RemoteForwarderOptions): T {
  const local = impl as unknown as Impl;
  const out: Impl = { ...local };
  for (const method of service.methods) {
    const field = resourceNameField(method.input);
    if (!field) continue;
    const own = local[method.localName]?.bind(impl) as ((req: unknown, ctx: HandlerContext) => unknown) | undefined;
    const unimplemented = () => {
      throw new ConnectError(`${service.typeName}.${method.name} is not implemented`, ConnectCode.Unimplemented);
    };
    const fallback = own ?? unimplemented;
    const route = (first: unknown): RemoteTarget | undefined => {
      const name = (first as Record<string, unknown> | undefined)?.[field.localName];
      return typeof name === "string" && name !== "" && opts.remotes.parts().length > 0 ? opts.remotes.resolve(service.typeName, name) : undefined;
    };
    switch (method.methodKind) {
      case "unary":
        out[method.localName] = (req: unknown, ctx: HandlerContext) => {
          const target = route(req);
          if (!target) return fallback(req, ctx);
          return forwardUnary(method, target, rewriter(method, field.localName, req, target)(req), ctx, opts);
        };
        break;
      case "server_streaming":
        out[method.localName] = (req: unknown, ctx: HandlerContext) => {
          const target = route(req);
          if (!target) return fallback(req, ctx);
          return forwardStream(method, target, rewriter(method, field.localName, req, target)(req), ctx, opts);
        };
        break;
      case "client_streaming":
        out[method.localName] = async (reqs: AsyncIterable<unknown>, ctx: HandlerContext) => {
          const { first, all } = await peekFirst(reqs);
          const target = route(first);
          if (!target) return fallback(all, ctx);
          return forwardUnary(method, target, mapStream(all, rewriter(method, field.localName, first, target)), ctx, opts);
        };
        break;
      case "bidi_streaming":
        out[method.localName] = async function* (reqs: AsyncIterable<unknown>, ctx: HandlerContext) {
          const { first, all } = await peekFirst(reqs);
          const target = route(first);
          if (!target) {
            yield* (fallback(all, ctx) as AsyncIterable<unknown>);
            return;
          }
          yield* forwardStream(method, target, mapStream(all, rewriter(method, field.localName, first, target)), ctx, opts);
        };
        break;
    }
  }
  return out as T;
}

async function* mapStream(messages: AsyncIterable<unknown>, fn: (m: unknown) => Uint8Array): AsyncGenerator<Uint8Array> {
  for await (const m of messages) yield fn(m);
}

/** Serializes a request with the part's name for the resource in place of the host's. */
function rewriter(method: DescMethod, fieldName: string, first: unknown, target: RemoteTarget): (m: unknown) => Uint8Array {
  const input = method.input;
  const hostName = (first as Record<string, unknown>)[fieldName];
  return (m) => {
    const msg = m as Record<string, unknown>;
    if (msg[fieldName] !== hostName) return toBinary(input, msg as never);
    const copy = clone(input, msg as never) as unknown as Record<string, unknown>;
    copy[fieldName] = target.remoteName;
    return toBinary(input, copy as never);
  };
}

function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/** Session bookkeeping for a forwarded call (see the file comment). */
function monitor(method: DescMethod, target: RemoteTarget, ctx: HandlerContext, opts: RemoteForwarderOptions): void {
  if (opts.sessions && isSafetyHeartbeatMonitored(method)) opts.sessions.associate(ctx.values.get(sessionKey)?.id, target.name);
}

/** The part's response metadata onto the caller's response; `viam-smrn` names become the host's. */
function copyMetadata(md: Metadata, into: Headers, target: RemoteTarget, ctx: HandlerContext): void {
  for (const [key, values] of Object.entries(md)) {
    if (key === SAFETY_MONITORED_RESOURCE_METADATA_KEY) {
      for (const full of values.flatMap((v) => v.split(",")).map((v) => v.trim())) {
        const local = target.part.entries().find((e) => resourceNameString({ ...e.api, name: e.remoteName }) === full);
        if (!local) continue;
        into.append(SAFETY_MONITORED_RESOURCE_METADATA_KEY, resourceNameString(local.shown));
        ctx.values.get(sessionKey)?.associateWith(local.shown);
      }
      continue;
    }
    for (const v of values) {
      try {
        into.append(key, v);
      } catch {
        // Not representable as an HTTP header.
      }
    }
  }
}

async function forwardUnary(
  method: DescMethod,
  target: RemoteTarget,
  request: Uint8Array | AsyncIterable<Uint8Array>,
  ctx: HandlerContext,
  opts: RemoteForwarderOptions,
): Promise<unknown> {
  monitor(method, target, ctx, opts);
  try {
    const r = await unaryBytes(target.part.call(methodPath(method), request, { signal: ctx.signal }));
    copyMetadata(r.headers, ctx.responseHeader, target, ctx);
    copyMetadata(r.trailers, ctx.responseTrailer, target, ctx);
    return decode(method.output, r.message);
  } catch (err) {
    throw connectErrorOf(err);
  }
}

async function* forwardStream(
  method: DescMethod,
  target: RemoteTarget,
  request: Uint8Array | AsyncIterable<Uint8Array>,
  ctx: HandlerContext,
  opts: RemoteForwarderOptions,
): AsyncGenerator<unknown> {
  monitor(method, target, ctx, opts);
  const call = target.part.call(methodPath(method), request, { signal: ctx.signal });
  try {
    copyMetadata(await call.headers, ctx.responseHeader, target, ctx);
    for await (const m of call.responses) yield decode(method.output, m);
    copyMetadata((await call.trailers).metadata, ctx.responseTrailer, target, ctx);
  } catch (err) {
    // The caller went away: the part's call was cancelled with it, which is no error.
    if (ctx.signal.aborted) return;
    throw connectErrorOf(err);
  }
}

function decode(desc: DescMessage, bytes: Uint8Array): unknown {
  try {
    return fromBinary(desc, bytes);
  } catch (err) {
    throw new ChannelError(Code.INTERNAL, `the remote answered an undecodable ${desc.typeName}: ${(err as Error).message}`);
  }
}
