// The official Viam SDK in Node, dialing a Sprocket host directly with its default transport:
// connect-web's gRPC-web over fetch, i.e. HTTP/1.1 with binary grpc-web framing.
import { sdkSuite } from "./api-checks.js";
import { setViamGlobal } from "./harness.js";

sdkSuite({
  title: "gRPC-web over HTTP/1.1 (the SDK's default transport)",
  // No transport factory: the SDK falls back to connect-web's createGrpcWebTransport.
  install: () => setViamGlobal(undefined),
  expect: { httpVersion: "1.1", contentType: "application/grpc-web+proto" },
});
