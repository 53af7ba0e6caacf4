// Handlers every component API shares: DoCommand, GetGeometries and GetReadings over the common
// messages, answering for the resource named in the request.
import {
  decodeDoCommandRequest,
  decodeGetGeometriesRequest,
  decodeGetReadingsRequest,
  encodeDoCommandResponse,
  encodeGetGeometriesResponse,
  encodeGetReadingsResponse,
} from "../../proto/micro/gen/common/v1/common_micro.js";
import type { JsonObject, JsonValue } from "../../proto/micro/runtime.js";
import type { UnaryHandler } from "../rpc/dispatcher.js";
import { unimplemented } from "../rpc/errors.js";
import { unary } from "../rpc/method.js";
import type { Machine } from "../runtime/machine.js";
import type { Api, Resource } from "../resource.js";

/** A resource that reports readings (sensor, power_sensor, movement_sensor). */
export interface Readable extends Resource {
  readings(): Record<string, JsonValue>;
}

export function doCommand(machine: Machine, api: Api): UnaryHandler {
  return unary(decodeDoCommandRequest, encodeDoCommandResponse, (req) => {
    const r = machine.resource(api, req.name);
    if (r.doCommand === undefined) throw unimplemented("DoCommand is not implemented by " + req.name);
    const result = r.doCommand(req.command ?? {});
    return typeof (result as { then?: unknown }).then === "function"
      ? (result as Promise<JsonObject>).then((value) => ({ result: value }))
      : { result: result as JsonObject };
  });
}

/** Micro models have no geometries: an empty list, as the host answers for such resources. */
export function getGeometries(machine: Machine, api: Api): UnaryHandler {
  return unary(decodeGetGeometriesRequest, encodeGetGeometriesResponse, (req) => {
    machine.resource(api, req.name);
    return { geometries: [] };
  });
}

export function getReadings(machine: Machine, api: Api): UnaryHandler {
  return unary(decodeGetReadingsRequest, encodeGetReadingsResponse, (req) => ({
    readings: machine.resource<Readable>(api, req.name).readings(),
  }));
}
