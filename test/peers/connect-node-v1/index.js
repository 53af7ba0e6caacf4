// Re-exports connect-node 1.x for interop tests with the Viam SDK, which bundles connect-es 1.x.
export { createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
