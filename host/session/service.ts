// RobotService's session calls (rdk robot/server StartSession, SendSessionHeartbeat, GetSessions).
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { PeerConnectionType, type RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { authEntityKey } from "../auth/interceptor.js";
import { peerConnectionKey, SESSION_ID_METADATA_KEY, sessionExpiredError, type PeerConnection } from "./context.js";
import type { SessionManager } from "./manager.js";

type SessionMethods = Pick<ServiceImpl<typeof RobotService>, "startSession" | "sendSessionHeartbeat" | "getSessions">;

const peerTypes = { grpc: PeerConnectionType.GRPC, webrtc: PeerConnectionType.WEBRTC } as const;

function peerConnectionInfo(peer: PeerConnection | undefined) {
  if (!peer) return { type: PeerConnectionType.UNSPECIFIED };
  return { type: peerTypes[peer.type], remoteAddress: peer.remoteAddress, localAddress: peer.localAddress };
}

function caller(ctx: HandlerContext): { owner: string; peer: PeerConnection | undefined } {
  return { owner: ctx.values.get(authEntityKey) ?? "", peer: ctx.values.get(peerConnectionKey) };
}

export function sessionMethods(sessions: SessionManager): SessionMethods {
  return {
    startSession: (req, ctx) => {
      const { owner, peer } = caller(ctx);
      const current = ctx.requestHeader.get(SESSION_ID_METADATA_KEY);
      // rdk answers a plain error here, which gRPC sends as UNKNOWN.
      if (current && sessions.find(current, owner, peer)) throw new ConnectError("session already exists", Code.Unknown);
      let session;
      try {
        session = sessions.resumeOrStart(req.resume, owner, peer);
      } catch (err) {
        throw new ConnectError((err as Error).message, Code.Unknown);
      }
      return { id: session.id, heartbeatWindow: durationFromMs(session.heartbeatWindowMs) };
    },

    sendSessionHeartbeat: (req, ctx) => {
      const { owner, peer } = caller(ctx);
      if (!sessions.find(req.id, owner, peer)) throw sessionExpiredError();
      return {};
    },

    getSessions: () => ({
      sessions: sessions.all().map((s) => ({ id: s.id, peerConnectionInfo: peerConnectionInfo(s.peer) })),
    }),
  };
}
