// The Bearer check every call passes through, whatever the transport; only Authenticate is exempt (as in rdk).
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { checkAuthorization, AUTHORIZATION_HEADER } from "./bearer.js";
import { AuthError } from "./errors.js";
import type { TokenAuthority } from "./tokens.js";

const exempt = new Set(["/proto.rpc.v1.AuthService/Authenticate"]);

/** The authenticated entity of a call (the api key id), for sessions. */
export const authEntityKey = createContextKey<string | undefined>(undefined, { description: "auth entity" });

/**
 * Set by a transport whose peer authenticated before any call could be made: a WebRTC data channel
 * belongs to a peer connection whose signaling call passed this interceptor (spec §3.13). The value
 * is that call's entity. Only transports set it (as a context value, never from a header).
 */
export const authenticatedAtSignalingKey = createContextKey<string | undefined>(undefined, {
  description: "authenticated at signaling as",
});

export function authErrorToConnect(err: AuthError): ConnectError {
  return new ConnectError(err.message, err.code === "INVALID_ARGUMENT" ? Code.InvalidArgument : Code.Unauthenticated);
}

export function authInterceptor(authority: TokenAuthority): Interceptor {
  return (next) => async (req) => {
    if (exempt.has(`/${req.service.typeName}/${req.method.name}`)) return next(req);
    const signalingEntity = req.contextValues.get(authenticatedAtSignalingKey);
    if (signalingEntity !== undefined) {
      req.contextValues.set(authEntityKey, signalingEntity);
      return next(req);
    }
    const header = req.header.get(AUTHORIZATION_HEADER);
    try {
      const entity = await checkAuthorization(header === null ? [] : [header], authority);
      req.contextValues.set(authEntityKey, entity);
    } catch (err) {
      throw err instanceof AuthError ? authErrorToConnect(err) : err;
    }
    return next(req);
  };
}
