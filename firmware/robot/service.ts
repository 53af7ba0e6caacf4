// RobotService on a micro part: the machine-wide calls micro-rdk serves and a local client needs.
// ResourceNames lists ready resources; ResourceRPCSubtypes the services of the APIs present;
// GetMachineStatus the real state of every resource (unlike micro-rdk, which reports every
// resource READY), with the build error of an unhealthy one; GetVersion says "sprocket-micro";
// GetOperations lists the calls in flight; StopAll stops every actuator, which ends their moves;
// StartSession and SendSessionHeartbeat keep a session for the calling connection, whose lapse stops
// what that connection commanded (firmware/runtime/sessions.ts). Other RobotService methods answer
// UNIMPLEMENTED.
import {
  GetMachineStatusResponse_State,
  ResourceStatus_State,
  decodeGetMachineStatusRequest,
  decodeGetOperationsRequest,
  decodeGetVersionRequest,
  decodeResourceNamesRequest,
  decodeResourceRPCSubtypesRequest,
  decodeSendSessionHeartbeatRequest,
  decodeStartSessionRequest,
  decodeStopAllRequest,
  encodeGetMachineStatusResponse,
  encodeGetOperationsResponse,
  encodeGetVersionResponse,
  encodeResourceNamesResponse,
  encodeResourceRPCSubtypesResponse,
  encodeSendSessionHeartbeatResponse,
  encodeStartSessionResponse,
  encodeStopAllResponse,
  type ResourceRPCSubtype,
} from "../../proto/micro/gen/robot/v1/robot_micro.js";
import type { Duration } from "../../proto/micro/gen/google/protobuf/duration_micro.js";
import type { Timestamp } from "../../proto/micro/gen/google/protobuf/timestamp_micro.js";
import { apiString } from "../config/schema.js";
import type { Dispatcher, ServiceDefinition } from "../rpc/dispatcher.js";
import { unary } from "../rpc/method.js";
import type { Machine, ResourceState } from "../runtime/machine.js";
import { API_VERSION, PLATFORM, VERSION } from "../version.js";

/** The protobuf service of each API served here. */
export const PROTO_SERVICES: { readonly [api: string]: string } = {
  "rdk:component:board": "viam.component.board.v1.BoardService",
  "rdk:component:encoder": "viam.component.encoder.v1.EncoderService",
  "rdk:component:generic": "viam.component.generic.v1.GenericService",
  "rdk:component:motor": "viam.component.motor.v1.MotorService",
  "rdk:component:movement_sensor": "viam.component.movementsensor.v1.MovementSensorService",
  "rdk:component:power_sensor": "viam.component.powersensor.v1.PowerSensorService",
  "rdk:component:sensor": "viam.component.sensor.v1.SensorService",
  "rdk:component:servo": "viam.component.servo.v1.ServoService",
};

const STATES: { readonly [state in ResourceState]: number } = {
  configuring: ResourceStatus_State.CONFIGURING,
  ready: ResourceStatus_State.READY,
  unhealthy: ResourceStatus_State.UNHEALTHY,
};

export function timestamp(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: Math.round(ms - seconds * 1000) * 1_000_000 };
}

function duration(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: Math.round((ms - seconds * 1000) * 1_000_000) };
}

export function robotService(machine: Machine, dispatcher: Dispatcher): ServiceDefinition {
  const sessions = machine.safety.sessions;
  return {
    name: "viam.robot.v1.RobotService",
    unary: {
      ResourceNames: unary(decodeResourceNamesRequest, encodeResourceNamesResponse, () => ({
        resources: machine
          .entries()
          .filter((e) => e.state === "ready")
          .map((e) => ({ namespace: e.name.namespace, type: e.name.type, subtype: e.name.subtype, name: e.name.name })),
      })),
      ResourceRPCSubtypes: unary(decodeResourceRPCSubtypesRequest, encodeResourceRPCSubtypesResponse, () => {
        const seen: { [api: string]: ResourceRPCSubtype } = {};
        for (const e of machine.entries()) {
          const api = apiString(e.name);
          const protoService = PROTO_SERVICES[api];
          if (protoService === undefined || seen[api] !== undefined) continue;
          seen[api] = { subtype: { namespace: e.name.namespace, type: e.name.type, subtype: e.name.subtype, name: "" }, protoService };
        }
        return { resourceRpcSubtypes: Object.keys(seen).map((k) => seen[k]) };
      }),
      GetMachineStatus: unary(decodeGetMachineStatusRequest, encodeGetMachineStatusResponse, () => ({
        state: machine.state === "running" ? GetMachineStatusResponse_State.RUNNING : GetMachineStatusResponse_State.INITIALIZING,
        config: { revision: machine.revision, lastUpdated: timestamp(machine.configuredAt) },
        resources: machine.entries().map((e) => ({
          name: { namespace: e.name.namespace, type: e.name.type, subtype: e.name.subtype, name: e.name.name },
          state: STATES[e.state],
          lastUpdated: timestamp(e.lastUpdated),
          revision: e.revision,
          error: e.error ?? "",
        })),
        jobStatuses: [],
      })),
      GetVersion: unary(decodeGetVersionRequest, encodeGetVersionResponse, () => ({ platform: PLATFORM, version: VERSION, apiVersion: API_VERSION })),
      GetOperations: unary(decodeGetOperationsRequest, encodeGetOperationsResponse, () => ({
        operations: [...dispatcher.operations.values()].map((op) => ({
          id: op.id,
          method: op.method,
          started: timestamp(op.started),
          // A connection without a session stands in for one.
          sessionId: sessions.of(op.connection)?.id ?? "connection-" + op.connection,
        })),
      })),
      StartSession: unary(decodeStartSessionRequest, encodeStartSessionResponse, (req, ctx) => {
        const session = sessions.start(ctx.connection.id, req.resume);
        return { id: session.id, heartbeatWindow: duration(session.heartbeatWindowMs) };
      }),
      SendSessionHeartbeat: unary(decodeSendSessionHeartbeatRequest, encodeSendSessionHeartbeatResponse, (req, ctx) => {
        sessions.heartbeat(ctx.connection.id, req.id);
        return {};
      }),
      StopAll: unary(decodeStopAllRequest, encodeStopAllResponse, () => {
        const errors = machine.stopAll();
        if (errors.length > 0) throw new Error("failed to stop " + errors.join("; "));
        return {};
      }),
    },
  };
}
