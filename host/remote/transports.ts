// The host's default remote transports, by address scheme:
//
//   tcp://host:port           micro part, TCP, length-prefixed frames
//   ws://host:port/path, wss  micro part, WebSocket binary messages, length-prefixed frames
//   host:port                 gRPC over HTTP/2: TLS, or h2c with `insecure: true`
//   http://host:port          gRPC over h2c
//   https://host:port         gRPC over TLS
//
// Adding one (serial://, dial-in, sim:) is `registry.register({ schemes: [...], create })`: a micro
// part over another frame link is `new MicroConnection({ open: <a LinkOpener>, ... })`.
import { MicroConnection } from "./micro.js";
import { GrpcConnection, grpcBaseUrl } from "./grpc.js";
import { RemoteTransportRegistry, type RemoteTransport } from "./connection.js";
import { splitHostPort, tcpLink, webSocketLink } from "./links.js";

export const microTcpTransport: RemoteTransport = {
  schemes: ["tcp"],
  create: ({ config, address, logger, callTimeoutMs }) => {
    const { host, port } = splitHostPort(address.raw.slice("tcp://".length).replace(/\/+$/, ""));
    return new MicroConnection({ open: tcpLink(host, port), auth: config.auth, callTimeoutMs, logger });
  },
};

export const microWebSocketTransport: RemoteTransport = {
  schemes: ["ws", "wss"],
  create: ({ config, address, logger, callTimeoutMs }) =>
    new MicroConnection({ open: webSocketLink(address.raw), auth: config.auth, callTimeoutMs, logger }),
};

export const grpcTransport: RemoteTransport = {
  schemes: ["", "http", "https"],
  create: ({ config, address, logger, callTimeoutMs }) => {
    if (address.scheme === "") splitHostPort(address.raw); // refuse anything but host:port early
    return new GrpcConnection({ baseUrl: grpcBaseUrl(address.raw, config.insecure), auth: config.auth, callTimeoutMs, logger });
  },
};

export function defaultRemoteTransports(): RemoteTransportRegistry {
  return new RemoteTransportRegistry().register(microTcpTransport).register(microWebSocketTransport).register(grpcTransport);
}
