// What sessions share with the transports and the handlers: metadata keys, context values, the
// SESSION_EXPIRED status, and safetyMonitor for handlers that drive a resource on a caller's behalf.
import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";
import { resourceNameString, type ResourceName } from "../resource/name.js";
import type { Session } from "./manager.js";

/** The request metadata carrying the caller's session id (rdk `session.IDMetadataKey`). */
export const SESSION_ID_METADATA_KEY = "viam-sid";

/** The response header naming a resource a handler put under the caller's session (rdk `SafetyMonitoredResourceMetadataKey`). */
export const SAFETY_MONITORED_RESOURCE_METADATA_KEY = "viam-smrn";

/** rdk `session.StatusNoSession`: INVALID_ARGUMENT with this exact message. */
export const SESSION_EXPIRED_MESSAGE = "SESSION_EXPIRED";

export function sessionExpiredError(): ConnectError {
  return new ConnectError(SESSION_EXPIRED_MESSAGE, Code.InvalidArgument);
}

/** How the caller reached us, as GetSessions reports it. */
export interface PeerConnection {
  readonly type: "grpc" | "webrtc";
  /** `host:port`, IPv6 hosts in brackets, as Go prints a net.Addr. */
  readonly remoteAddress?: string;
  readonly localAddress?: string;
}

/**
 * Set by each transport on every call: the HTTP server (gRPC, gRPC-web, Connect) sets type "grpc"
 * with the socket's addresses, the WebRTC transport sets "webrtc" with the selected candidate pair.
 */
export const peerConnectionKey = createContextKey<PeerConnection | undefined>(undefined, { description: "peer connection" });

/** The live session of a call that carried a valid `viam-sid`, set by the session interceptor. */
export const sessionKey = createContextKey<Session | undefined>(undefined, { description: "session" });

/** `host:port` as Go's net.Addr String() prints it. */
export function formatAddress(address: string | undefined, port: number | undefined): string | undefined {
  if (!address) return undefined;
  const host = address.includes(":") ? `[${address}]` : address;
  return port === undefined ? host : `${host}:${port}`;
}

/** The peer of a call that arrived on this socket (any HTTP transport). */
export function socketPeerConnection(socket: {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
}): PeerConnection {
  return {
    type: "grpc",
    remoteAddress: formatAddress(socket.remoteAddress, socket.remotePort),
    localAddress: formatAddress(socket.localAddress, socket.localPort),
  };
}

/**
 * For a handler that moves `target` for its caller (a controller service driving a base, a forwarder
 * to a remote): puts `target` under the call's session, so the target is stopped if that session
 * lapses, and names it in the `viam-smrn` response header so a parent machine's session covers it too.
 * As rdk's `session.SafetyMonitorResourceName`; the session interceptor already does this for the
 * resource a safety-monitored method names, without the header.
 */
export function safetyMonitor(ctx: HandlerContext, target: ResourceName): void {
  ctx.responseHeader.set(SAFETY_MONITORED_RESOURCE_METADATA_KEY, resourceNameString(target));
  ctx.values.get(sessionKey)?.associateWith(target);
}
