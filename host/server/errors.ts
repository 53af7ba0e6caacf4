// How errors from models and the machine become gRPC statuses, the same on every transport.
import { Code, ConnectError } from "@connectrpc/connect";
import { ResourceNotFoundError, ResourceUnavailableError } from "../machine/machine.js";
import { NotSupportedError } from "../resource/resource.js";

export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof ResourceNotFoundError) return new ConnectError(err.message, Code.NotFound);
  if (err instanceof ResourceUnavailableError) return new ConnectError(err.message, Code.Unavailable);
  if (err instanceof NotSupportedError) return new ConnectError(err.message, Code.Unimplemented);
  if (err instanceof Error && err.name === "AbortError") return new ConnectError(err.message, Code.Canceled);
  // As grpc-go does for a plain error: UNKNOWN carrying the text.
  return new ConnectError(err instanceof Error ? err.message : String(err), Code.Unknown);
}

/** Runs a handler body and converts whatever it throws. */
export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toConnectError(err);
  }
}
