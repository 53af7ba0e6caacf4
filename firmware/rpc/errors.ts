// gRPC errors with their codes, for handlers and models to throw; anything else thrown ends a call
// with UNKNOWN and the error's text, as on the host (host/server/errors.ts).
import { ChannelError, Code } from "../../proto/channel/frames.js";

export { ChannelError, Code };

export function invalidArgument(message: string): ChannelError {
  return new ChannelError(Code.INVALID_ARGUMENT, message);
}

export function notFound(message: string): ChannelError {
  return new ChannelError(Code.NOT_FOUND, message);
}

export function unavailable(message: string): ChannelError {
  return new ChannelError(Code.UNAVAILABLE, message);
}

export function unimplemented(message: string): ChannelError {
  return new ChannelError(Code.UNIMPLEMENTED, message);
}

export function failedPrecondition(message: string): ChannelError {
  return new ChannelError(Code.FAILED_PRECONDITION, message);
}

export function cancelled(message: string): ChannelError {
  return new ChannelError(Code.CANCELLED, message);
}

export function unauthenticated(message: string): ChannelError {
  return new ChannelError(Code.UNAUTHENTICATED, message);
}

export function resourceExhausted(message: string): ChannelError {
  return new ChannelError(Code.RESOURCE_EXHAUSTED, message);
}
