// Registers every call as an operation (GetOperations lists it, CancelOperation aborts it).
// The handler sees the operation's signal, so a cancel reaches the model's call.
import { isMessage, toJson, type JsonObject } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import type { OperationManager } from "../robot/operations.js";

/** Calls that are about operations or connections themselves, not work on the machine. */
const untracked = new Set([
  "/viam.robot.v1.RobotService/GetOperations",
  "/viam.robot.v1.RobotService/SendSessionHeartbeat",
  "/proto.rpc.v1.AuthService/Authenticate",
]);
const untrackedServices = new Set(["proto.rpc.webrtc.v1.SignalingService", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]);

export function operationsInterceptor(operations: OperationManager): Interceptor {
  return (next) => async (req) => {
    const path = `/${req.service.typeName}/${req.method.name}`;
    if (untracked.has(path) || untrackedServices.has(req.service.typeName)) return next(req);
    let args: JsonObject = {};
    if (!req.stream && isMessage(req.message)) {
      try {
        args = toJson(req.method.input, req.message) as JsonObject;
      } catch {
        // Arguments are informational; a message JSON cannot express is listed without them.
      }
    }
    const sessionId = req.header.get("viam-sid") ?? undefined;
    const { signal, end } = operations.start(path, args, req.signal, sessionId);
    let res;
    try {
      res = await next({ ...req, signal });
    } catch (err) {
      end();
      throw err;
    }
    if (!res.stream) {
      end();
      return res;
    }
    // A server stream is in flight until its last message has been sent.
    return { ...res, message: endAfter(res.message, end) };
  };
}

async function* endAfter<T>(messages: AsyncIterable<T>, end: () => void): AsyncIterable<T> {
  try {
    yield* messages;
  } finally {
    end();
  }
}
