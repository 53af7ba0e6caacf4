// gRPC over a message channel (proto.rpc.webrtc.v1 framing). The portable
// pieces; the host's protobuf-es codec lives in ./protobuf-codec.js so the
// firmware can import this without protobuf-es.

export * from "./frames.js";
export * from "./packets.js";
export { ChannelServer, type ChannelServerOptions, type ServerCall, type SetTimer } from "./server.js";
export {
  ChannelClient,
  type CallOptions,
  type CallResult,
  type ChannelClientOptions,
  type ClientCall,
  type UnaryResult,
} from "./client.js";
export type { SendFn } from "./queue.js";
export * from "./length-prefix.js";
export * from "./cobs.js";
