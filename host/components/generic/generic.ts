// The generic component API: nothing but DoCommand and geometries.
import type { Resource } from "../../resource/resource.js";
import { componentApi } from "../../resource/name.js";

export const genericApi = componentApi("generic");

export type Generic = Resource;
