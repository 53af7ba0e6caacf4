// The `authorization: Bearer <token>` check every non-exempt call goes through
// (goutils `TokenFromContext` + `ensureAuthed`).
import { AuthError } from "./errors.js";
import type { TokenAuthority, VerifiedToken } from "./tokens.js";

export const AUTHORIZATION_HEADER = "authorization";
export const BEARER_PREFIX = "Bearer ";

/**
 * Extracts the token from the `authorization` header values. Exactly one value is allowed and
 * it must start with `Bearer ` (case-sensitive). Throws `AuthError` UNAUTHENTICATED otherwise.
 */
export function bearerToken(headerValues: readonly string[]): string {
  if (headerValues.length !== 1) throw new AuthError("UNAUTHENTICATED", "authentication required");
  const value = headerValues[0]!;
  if (!value.startsWith(BEARER_PREFIX)) {
    throw new AuthError("UNAUTHENTICATED", `expected authorization header with prefix: ${BEARER_PREFIX}`);
  }
  return value.slice(BEARER_PREFIX.length);
}

/** Like `checkAuthorization` but returns the verified claims (entity, credential type, metadata). */
export async function verifyAuthorization(headerValues: readonly string[], authority: TokenAuthority): Promise<VerifiedToken> {
  return authority.verify(bearerToken(headerValues));
}

/** Returns the authenticated entity, or throws `AuthError` UNAUTHENTICATED with goutils' text. */
export async function checkAuthorization(headerValues: readonly string[], authority: TokenAuthority): Promise<string> {
  return (await verifyAuthorization(headerValues, authority)).entity;
}
