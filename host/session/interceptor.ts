// The session interceptor on the router (every transport): a call carrying a live `viam-sid` is a
// heartbeat of that session and runs with the session in its context; a call of a method marked
// `safety_heartbeat_monitored` puts the resource it names under the caller's session (or under none),
// and fails with SESSION_EXPIRED when its `viam-sid` names no live session.
import { getOption, hasOption, type DescMethod } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { safety_heartbeat_monitored } from "../../proto/gen/common/v1/common_pb.js";
import { authEntityKey } from "../auth/interceptor.js";
import { peerConnectionKey, SESSION_ID_METADATA_KEY, sessionExpiredError, sessionKey } from "./context.js";
import type { Session, SessionManager } from "./manager.js";
import { peekFirst } from "../util/peek-first.js";

/**
 * Calls that never take part in sessions: authentication and signaling come before a session can
 * exist, reflection is how a client learns which methods are monitored, and the session calls
 * handle `viam-sid` themselves (rdk's `exemptFromSession`).
 */
const exemptMethods = new Set([
  "/proto.rpc.v1.AuthService/Authenticate",
  "/proto.rpc.v1.ExternalAuthService/AuthenticateTo",
  "/viam.robot.v1.RobotService/StartSession",
  "/viam.robot.v1.RobotService/SendSessionHeartbeat",
]);
const exemptServices = new Set([
  "proto.rpc.webrtc.v1.SignalingService",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

const monitoredCache = new WeakMap<DescMethod, boolean>();

/** Whether the method carries `option (viam.common.v1.safety_heartbeat_monitored) = true`. */
export function isSafetyHeartbeatMonitored(method: DescMethod): boolean {
  let monitored = monitoredCache.get(method);
  if (monitored === undefined) {
    monitored = hasOption(method, safety_heartbeat_monitored) && getOption(method, safety_heartbeat_monitored);
    monitoredCache.set(method, monitored);
  }
  return monitored;
}

/** The `name` field of a request, which every resource API's request has. */
function requestedName(message: unknown): string | undefined {
  const name = (message as { name?: unknown } | undefined)?.name;
  return typeof name === "string" && name !== "" ? name : undefined;
}


export function sessionInterceptor(sessions: SessionManager): Interceptor {
  return (next) => async (req) => {
    if (exemptServices.has(req.service.typeName) || exemptMethods.has(`/${req.service.typeName}/${req.method.name}`)) {
      return next(req);
    }
    const sid = req.header.get(SESSION_ID_METADATA_KEY);
    const monitored = isSafetyHeartbeatMonitored(req.method);
    let session: Session | undefined;
    if (sid !== null && sid !== "") {
      const owner = req.contextValues.get(authEntityKey) ?? "";
      session = sessions.find(sid, owner, req.contextValues.get(peerConnectionKey));
      if (session) req.contextValues.set(sessionKey, session);
      else if (monitored) throw sessionExpiredError();
    }
    if (!monitored) return next(req);

    let message: unknown;
    if (req.stream) {
      const { first, all } = await peekFirst(req.message);
      message = first;
      req = { ...req, message: all };
    } else {
      message = req.message;
    }
    const name = requestedName(message);
    const target = name === undefined ? undefined : sessions.resources.resolve(req.service.typeName, name);
    if (target) sessions.associate(session?.id, target);
    return next(req);
  };
}
