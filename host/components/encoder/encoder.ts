// The encoder API: a position in ticks or degrees.
import type { CallOptions, Resource } from "../../resource/resource.js";
import { componentApi } from "../../resource/name.js";

export const encoderApi = componentApi("encoder");

export type PositionType = "unspecified" | "ticks" | "degrees";

export interface EncoderProperties {
  ticksCountSupported: boolean;
  angleDegreesSupported: boolean;
}

export interface Encoder extends Resource {
  position(type: PositionType, call: CallOptions): Promise<{ value: number; type: PositionType }>;
  resetPosition(call: CallOptions): Promise<void>;
  properties(call: CallOptions): Promise<EncoderProperties>;
}
