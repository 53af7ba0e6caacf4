// Pieces every API's service adapter shares: the call options from a request, DoCommand,
// GetGeometries and readings as protobuf Values.
import { create, fromJson, type JsonObject, type JsonValue, type MessageInitShape } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";
import {
  GeometrySchema,
  type DoCommandRequest,
  type DoCommandResponseSchema,
  type GetGeometriesRequest,
  type GetGeometriesResponseSchema,
} from "../../proto/gen/common/v1/common_pb.js";
import type { Api } from "../resource/name.js";
import type { CallOptions, Geometry, Resource } from "../resource/resource.js";
import { guard } from "../server/errors.js";

/** Finds a resource of an API by short name; the machine implements it, and so will the remote forwarder. */
export interface ResourceLookup {
  get<R extends Resource>(api: Api, name: string): R;
}

export function callOptions(ctx: HandlerContext, extra?: JsonObject): CallOptions {
  return { extra: extra ?? {}, signal: ctx.signal };
}

export function toValueMap(readings: Record<string, JsonValue>): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [k, v] of Object.entries(readings)) out[k] = fromJson(ValueSchema, v);
  return out;
}

export function doCommand(lookup: ResourceLookup, api: Api) {
  return (req: DoCommandRequest, ctx: HandlerContext): Promise<MessageInitShape<typeof DoCommandResponseSchema>> =>
    guard(async () => {
      const r = lookup.get(api, req.name);
      return { result: await r.doCommand(req.command ?? {}, callOptions(ctx)) };
    });
}

export function getGeometries(lookup: ResourceLookup, api: Api) {
  return (req: GetGeometriesRequest, ctx: HandlerContext): Promise<MessageInitShape<typeof GetGeometriesResponseSchema>> =>
    guard(async () => {
      const r = lookup.get(api, req.name);
      const geometries = (await r.geometries?.(callOptions(ctx, req.extra))) ?? [];
      return { geometries: geometries.map(geometryToProto) };
    });
}

function geometryToProto(g: Geometry) {
  const label = g.label ?? "";
  switch (g.kind) {
    case "sphere":
      return create(GeometrySchema, { label, geometryType: { case: "sphere", value: { radiusMm: g.radiusMm } } });
    case "box":
      return create(GeometrySchema, { label, geometryType: { case: "box", value: { dimsMm: g.dimsMm } } });
    case "capsule":
      return create(GeometrySchema, {
        label,
        geometryType: { case: "capsule", value: { radiusMm: g.radiusMm, lengthMm: g.lengthMm } },
      });
  }
}
