// The official Viam SDK in Node, set up as its Node.md tells users: connect-node's gRPC transport over
// HTTP/2 (h2c with prior knowledge for an http:// URL) installed as `globalThis.VIAM.GRPC_TRANSPORT_FACTORY`.
import { createGrpcTransport } from "sprocket-peer-connect-node-v1";
import { sdkSuite } from "./api-checks.js";
import { setViamGlobal } from "./harness.js";

sdkSuite({
  title: "native gRPC over HTTP/2 (connect-node createGrpcTransport, as the SDK's Node.md)",
  install: () => setViamGlobal({ GRPC_TRANSPORT_FACTORY: (opts) => createGrpcTransport({ httpVersion: "2", ...opts }) }),
  expect: { httpVersion: "2.0", contentType: "application/grpc+proto" },
});
