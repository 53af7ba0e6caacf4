// CORS for gRPC-web from browsers: any origin, any request header, and the gRPC status headers exposed.
import type http from "node:http";
import type http2 from "node:http2";
import { cors } from "@connectrpc/connect";

const exposed = [...new Set([...cors.exposedHeaders, "grpc-status", "grpc-message", "grpc-status-details-bin"])].join(", ");
const methods = [...new Set([...cors.allowedMethods, "POST", "OPTIONS"])].join(", ");

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

/** Sets CORS headers on every response; answers preflights itself. Returns true when the request was a preflight. */
export function applyCors(req: Req, res: Res): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("vary", "Origin");
  res.setHeader("access-control-expose-headers", exposed);
  if (req.method !== "OPTIONS") return false;
  const asked = req.headers["access-control-request-headers"];
  res.setHeader("access-control-allow-headers", asked ?? cors.allowedHeaders.join(", "));
  res.setHeader("access-control-allow-methods", methods);
  res.setHeader("access-control-max-age", "7200");
  res.statusCode = 204;
  res.end();
  return true;
}
