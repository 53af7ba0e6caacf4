// The RPC server: one connect router (the dispatcher every transport goes through) served on one port.
import type { DescService } from "@bufbuild/protobuf";
import { createConnectRouter, type ConnectRouter, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { applyCors } from "./cors.js";
import { listen, type Listener } from "./listener.js";

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
        // An unknown method of a gRPC client: a trailers-only UNIMPLEMENTED, as grpc-go answers.
        res.writeHead(200, { "content-type": String(req.headers["content-type"]), "grpc-status": "12", "grpc-message": encodeURIComponent(`unknown method ${req.url}`) });
        res.end();
        return;
      }
      res.statusCode = 404;
      res.end();
    },
  });
  const listener = await listen({
    bindAddress: opts.bindAddress,
    tls: opts.tls,
    handler: (req, res) => {
      if (applyCors(req, res)) return;
      grpc(req, res);
    },
  });
  return { listener, router, close: (graceMs) => listener.close(graceMs) };
}
