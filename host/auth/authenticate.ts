// `proto.rpc.v1.AuthService/Authenticate` without the transport (goutils `simpleServer.Authenticate`).
import { goQuote } from "../config/schema.js";
import type { ApiKeyStore } from "./api-keys.js";
import { AuthError } from "./errors.js";
import type { TokenAuthority } from "./tokens.js";

export interface AuthenticateRequest {
  entity: string;
  /** Absent (undefined or null) means the request carried no credentials message. */
  credentials?: { type: string; payload: string } | null;
}

/**
 * Checks the credentials and returns a fresh access token for the entity. Throws `AuthError`:
 * INVALID_ARGUMENT `already authenticated; cannot re-authenticate` when the request already had
 * an authorization header, INVALID_ARGUMENT `credentials required`, INVALID_ARGUMENT
 * `do not know how to handle credential type "<t>"`, UNAUTHENTICATED `invalid credentials`.
 */
export async function authenticate(
  store: ApiKeyStore,
  authority: TokenAuthority,
  request: AuthenticateRequest,
  alreadyHasAuthorizationHeader: boolean,
): Promise<string> {
  if (alreadyHasAuthorizationHeader) {
    throw new AuthError("INVALID_ARGUMENT", "already authenticated; cannot re-authenticate");
  }
  const credentials = request.credentials;
  if (credentials === undefined || credentials === null) {
    throw new AuthError("INVALID_ARGUMENT", "credentials required");
  }
  const type = credentials.type;
  if (!store.credentialTypes.includes(type)) {
    throw new AuthError("INVALID_ARGUMENT", `do not know how to handle credential type ${goQuote(type)}`);
  }
  if (!store.check(request.entity, credentials.payload)) {
    throw new AuthError("UNAUTHENTICATED", "invalid credentials");
  }
  return authority.issue(request.entity, type);
}
