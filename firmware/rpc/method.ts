// Turns a typed handler into a dispatcher handler: decodes the request with a generated compact
// codec (a malformed request answers INVALID_ARGUMENT) and encodes what the handler returns.
import { errorText } from "../log.js";
import type { CallContext, StreamingHandler, UnaryHandler } from "./dispatcher.js";
import { invalidArgument } from "./errors.js";

function decodeWith<Req>(decode: (bytes: Uint8Array) => Req, bytes: Uint8Array): Req {
  try {
    return decode(bytes);
  } catch (error) {
    throw invalidArgument("malformed request: " + errorText(error));
  }
}

export function unary<Req, Res>(
  decode: (bytes: Uint8Array) => Req,
  encode: (message: Res) => Uint8Array,
  handle: (request: Req, ctx: CallContext) => Res | Promise<Res>,
): UnaryHandler {
  return (bytes, ctx) => {
    const result = handle(decodeWith(decode, bytes), ctx);
    if (typeof (result as { then?: unknown } | undefined)?.then === "function") return (result as Promise<Res>).then(encode);
    return encode(result as Res);
  };
}

export function streaming<Req>(decode: (bytes: Uint8Array) => Req, handle: (request: Req, ctx: CallContext) => Promise<void>): StreamingHandler {
  return (bytes, ctx) => handle(decodeWith(decode, bytes), ctx);
}
