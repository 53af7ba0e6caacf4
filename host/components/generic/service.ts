// GenericService on top of any resource: DoCommand and GetGeometries only.
import type { ServiceImpl } from "@connectrpc/connect";
import { GenericService } from "../../../proto/gen/component/generic/v1/generic_pb.js";
import { doCommand, getGeometries, type ResourceLookup } from "../common.js";
import { genericApi } from "./generic.js";

export function genericService(lookup: ResourceLookup): ServiceImpl<typeof GenericService> {
  return {
    doCommand: doCommand(lookup, genericApi),
    getGeometries: getGeometries(lookup, genericApi),
  };
}

export { GenericService };
