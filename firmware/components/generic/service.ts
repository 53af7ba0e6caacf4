// GenericService on a micro part: DoCommand and GetGeometries (host/components/generic/service.ts).
import type { ServiceDefinition } from "../../rpc/dispatcher.js";
import type { Machine } from "../../runtime/machine.js";
import { genericApi } from "../../resource.js";
import { doCommand, getGeometries } from "../common.js";

export function genericService(machine: Machine): ServiceDefinition {
  return {
    name: "viam.component.generic.v1.GenericService",
    unary: {
      DoCommand: doCommand(machine, genericApi),
      GetGeometries: getGeometries(machine, genericApi),
    },
  };
}
