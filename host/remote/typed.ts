// Typed calls over a byte-level RemoteConnection: protobuf-es messages in, one out. Used for the
// few RobotService/AuthService calls a connection makes itself, and by the connect Transport that the
// client-side resources use (transport.ts).
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethod,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { ChannelError, Code, type Metadata } from "../../proto/channel/index.js";
import { ResourceNamesResponseSchema, ResourceRPCSubtypesResponseSchema } from "../../proto/gen/robot/v1/robot_pb.js";
import type { ResourceName } from "../resource/name.js";
import type { RemoteCall, RemoteCallOptions, RemoteRpcSubtype } from "./connection.js";

/** `/pkg.Service/Method` of a generated method. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

type Caller = (method: string, request: Uint8Array, options?: RemoteCallOptions) => RemoteCall;

/** Collects a unary answer: exactly one message and an OK status, else a ChannelError. */
export async function unaryBytes(call: RemoteCall): Promise<{ message: Uint8Array; headers: Metadata; trailers: Metadata }> {
  const messages: Uint8Array[] = [];
  try {
    for await (const m of call.responses) messages.push(m);
  } catch {
    // The status is in the trailers.
  }
  const { status, metadata } = await call.trailers;
  if (status.code !== Code.OK) throw ChannelError.fromStatus(status, metadata);
  if (messages.length !== 1) {
    throw new ChannelError(Code.INTERNAL, messages.length === 0 ? "missing response message" : "more than one response message");
  }
  let headers: Metadata = {};
  try {
    headers = await call.headers;
  } catch {
    // Trailers-only answers have no headers.
  }
  return { message: messages[0], headers, trailers: metadata };
}

/** One unary call with protobuf-es messages. */
export async function unaryTyped<I extends DescMessage, O extends DescMessage>(
  caller: Caller,
  method: DescMethod & { input: I; output: O },
  request: MessageInitShape<I>,
  options?: RemoteCallOptions,
): Promise<MessageShape<O>> {
  const bytes = toBinary(method.input, create(method.input, request));
  const { message } = await unaryBytes(caller(methodPath(method), bytes, options));
  try {
    return fromBinary(method.output, message);
  } catch (err) {
    throw new ChannelError(Code.INTERNAL, `undecodable ${method.output.typeName}: ${(err as Error).message}`);
  }
}

export function resourceNamesFrom(res: MessageShape<typeof ResourceNamesResponseSchema>): ResourceName[] {
  return res.resources.map((r) => ({ namespace: r.namespace, type: r.type, subtype: r.subtype, name: r.name }));
}

export function rpcSubtypesFrom(res: MessageShape<typeof ResourceRPCSubtypesResponseSchema>): RemoteRpcSubtype[] {
  return res.resourceRpcSubtypes.flatMap((s) =>
    s.subtype ? [{ api: { namespace: s.subtype.namespace, type: s.subtype.type, subtype: s.subtype.subtype }, protoService: s.protoService }] : [],
  );
}

/** A call that failed before it started: every part of it reports `status`. */
export function failedCall(code: number, message: string): RemoteCall {
  const err = new ChannelError(code, message);
  const headers = Promise.reject(err);
  headers.catch(() => undefined);
  return {
    headers,
    responses: {
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(err) }),
    },
    trailers: Promise.resolve({ status: { code, message }, metadata: {} }),
  };
}

/** Hooks an AbortSignal to a call's cancel function; returns what unhooks it. */
export function linkSignal(signal: AbortSignal | undefined, cancel: () => void): () => void {
  if (!signal) return () => undefined;
  if (signal.aborted) {
    cancel();
    return () => undefined;
  }
  signal.addEventListener("abort", cancel, { once: true });
  return () => signal.removeEventListener("abort", cancel);
}
