// RobotService: machine-wide calls. Methods not listed here answer UNIMPLEMENTED through the router.
import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  GetMachineStatusResponse_State,
  ResourceStatus_State,
  RobotService,
} from "../../proto/gen/robot/v1/robot_pb.js";
import type { Machine, ResourceState } from "../machine/machine.js";
import { resourceNameString } from "../resource/name.js";
import { guard } from "../server/errors.js";
import type { SessionManager } from "../session/manager.js";
import { sessionMethods } from "../session/service.js";
import { protoServiceFor } from "./api-services.js";
import type { OperationManager } from "./operations.js";

export const apiVersion = "v0.1.512";

export interface RobotServiceDeps {
  machine: Machine;
  operations: OperationManager;
  version: string;
  /** Called after Shutdown has answered; the host stops serving and closes resources. */
  shutdown: () => void;
  /** StartSession, SendSessionHeartbeat and GetSessions answer UNIMPLEMENTED without it (clients then run without sessions). */
  sessions?: SessionManager;
}

const resourceStates: Record<ResourceState, ResourceStatus_State> = {
  unconfigured: ResourceStatus_State.UNCONFIGURED,
  configuring: ResourceStatus_State.CONFIGURING,
  ready: ResourceStatus_State.READY,
  removing: ResourceStatus_State.REMOVING,
  unhealthy: ResourceStatus_State.UNHEALTHY,
};

export function robotService(deps: RobotServiceDeps): Partial<ServiceImpl<typeof RobotService>> {
  const { machine, operations } = deps;
  return {
    ...(deps.sessions ? sessionMethods(deps.sessions) : {}),

    resourceNames: () => ({
      // Remote parts' own nodes (`rdk-internal:remote:`) are for GetMachineStatus only, as in rdk.
      resources: machine
        .entries()
        .filter((e) => e.state === "ready" && e.name.namespace !== "rdk-internal")
        .map((e) => ({ ...e.name })),
    }),

    resourceRPCSubtypes: () => {
      const seen = new Map<string, { namespace: string; type: string; subtype: string }>();
      for (const e of machine.entries()) seen.set(`${e.name.namespace}:${e.name.type}:${e.name.subtype}`, e.name);
      return {
        resourceRpcSubtypes: [...seen.values()].flatMap((api) => {
          const protoService = protoServiceFor(api);
          return protoService ? [{ subtype: { ...api, name: "" }, protoService }] : [];
        }),
      };
    },

    getOperations: () => ({
      operations: operations.list().map((op) => ({
        id: op.id,
        method: op.method,
        arguments: op.arguments,
        started: timestampFromDate(op.started),
        sessionId: op.sessionId,
      })),
    }),

    cancelOperation: (req) => {
      operations.cancel(req.id);
      return {};
    },

    blockForOperation: async (req, ctx) => {
      await operations.block(req.id, ctx.signal);
      return {};
    },

    getMachineStatus: () => ({
      state: machine.state === "running" ? GetMachineStatusResponse_State.RUNNING : GetMachineStatusResponse_State.INITIALIZING,
      config: { revision: machine.revision, lastUpdated: timestampFromDate(machine.configuredAt) },
      resources: machine.entries().map((e) => ({
        name: { ...e.name },
        state: resourceStates[e.state],
        lastUpdated: timestampFromDate(e.lastUpdated),
        revision: e.revision,
        error: e.error ?? "",
      })),
    }),

    getVersion: () => ({ platform: "sprocket", version: deps.version, apiVersion }),

    // A local machine has no cloud identity; rdk answers with empty ids in that case.
    getCloudMetadata: () => ({ primaryOrgId: "", locationId: "", machineId: "", machinePartId: "", robotPartId: "" }),

    stopAll: (req) =>
      guard(async () => {
        const extras = new Map<string, JsonObject>();
        for (const p of req.extra) if (p.name) extras.set(resourceNameString(p.name), p.params ?? {});
        await machine.stopAll(extras);
        return {};
      }),

    shutdown: () => {
      // Answer first; the host tears down once the reply is on its way.
      setImmediate(deps.shutdown);
      return {};
    },
  };
}

export { RobotService };
