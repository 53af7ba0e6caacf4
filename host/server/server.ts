// The RPC server: one connect router (the dispatcher every transport goes through) served on one port.
import type { DescService } from "@bufbuild/protobuf";
import { createConnectRouter, type ConnectRouter, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { applyCors } from "./cors.js";
import { listen, type Listener, type UpgradeHandler } from "./listener.js";

/** A generated service and its (possibly partial) implementation. */
export interface ServiceRegistration {
  readonly service: DescService;
  readonly impl: object;
}

/** Plain HTTP routes beside gRPC (health check, flasher page); return false to fall through to 404. */
export type HttpRoute = (req: NodeRequest, res: NodeResponse) => boolean;
type NodeRequest = Parameters<ReturnType<typeof connectNodeAdapter>>[0];
type NodeResponse = Parameters<ReturnType<typeof connectNodeAdapter>>[1];

export interface RpcServerOptions {
  bindAddress: string;
  tls?: { certFile: string; keyFile: string };
  services: readonly ServiceRegistration[];
  interceptors: readonly Interceptor[];
  httpRoutes?: readonly HttpRoute[];
  /** HTTP/1.1 Upgrade requests on the same port (micro parts dialling in over WebSocket). */
  upgrade?: UpgradeHandler;
  /**
   * Context values for each call arriving over HTTP (e.g. the peer's addresses); other transports
   * set their own when they dispatch into the router.
   */
  contextValues?: (req: NodeRequest) => ContextValues;
}

/** The largest message accepted, as viam-server (1 << 25). */
export const maxMessageBytes = 32 * 1024 * 1024;

export interface RpcServer {
  readonly listener: Listener;
  /** The dispatcher, for transports that are not HTTP (WebRTC data channels). */
  readonly router: ConnectRouter;
  close(graceMs?: number): Promise<void>;
}

export function createRouter(services: readonly ServiceRegistration[], interceptors: readonly Interceptor[]): ConnectRouter {
  const router = createConnectRouter({ interceptors: [...interceptors], readMaxBytes: maxMessageBytes });
  for (const { service, impl } of services) router.service(service, impl);
  return router;
}

export async function startRpcServer(opts: RpcServerOptions): Promise<RpcServer> {
  const router = createRouter(opts.services, opts.interceptors);
  const routes = opts.httpRoutes ?? [];
  const grpc = connectNodeAdapter({
    routes: (r) => {
      // The adapter builds its own router; give it the same handlers as ours.
      for (const h of router.handlers) r.handlers.push(h);
    },
    readMaxBytes: maxMessageBytes,
    contextValues: opts.contextValues,
    fallback: (req, res) => {
      for (const route of routes) if (route(req, res)) return;
      if (String(req.headers["content-type"] ?? "").startsWith("application/grpc")) {
        // An unknown method of a gRPC client: UNIMPLEMENTED and no message, as grpc-go answers.
        statusOnly(req, res, 12, `unknown method ${req.url}`);
        return;
      }
      res.statusCode = 404;
      res.end();
    },
  });
  const listener = await listen({
    bindAddress: opts.bindAddress,
    tls: opts.tls,
    upgrade: opts.upgrade,
    handler: (req, res) => {
      if (applyCors(req, res)) return;
      // connect-node answers grpc-web-text (base64) with a bare HTTP 415; give such clients a gRPC status.
      if (/^application\/grpc-web-text/i.test(String(req.headers["content-type"] ?? ""))) {
        statusOnly(req, res, 12, "grpc-web-text is not supported; use application/grpc-web+proto");
        return;
      }
      grpc(req, res);
    },
  });
  return { listener, router, close: (graceMs) => listener.close(graceMs) };
}

/** A gRPC status with no messages. */
function statusOnly(req: NodeRequest, res: NodeResponse, code: number, message: string): void {
  const contentType = String(req.headers["content-type"]);
  const status = { "grpc-status": String(code), "grpc-message": encodeURIComponent(message) };
  if (req.httpVersion === "2.0" && !/^application\/grpc-web/i.test(contentType)) {
    // Native gRPC: Node's compat API cannot end a stream on its HEADERS frame, and grpc-js ignores a
    // status in headers followed by an empty DATA frame ("Call ended without gRPC status"); send it
    // as real HTTP/2 trailers instead.
    res.writeHead(200, { "content-type": contentType });
    res.addTrailers(status);
  } else {
    // gRPC-web reads a status from the response headers when the body is empty.
    res.writeHead(200, { "content-type": contentType, ...status });
  }
  res.end();
}
