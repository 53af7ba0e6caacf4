// Transport-neutral auth failure: a gRPC status code name plus goutils' exact message text.
// The server maps it onto its RPC error type (e.g. Connect's `ConnectError`).

export type AuthErrorCode = "INVALID_ARGUMENT" | "UNAUTHENTICATED";

export class AuthError extends Error {
  readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AuthError";
    this.code = code;
  }
}
