// The encoder API on a micro part, as the host's (host/components/encoder/encoder.ts).
import type { Resource } from "../../resource.js";

export type PositionType = "unspecified" | "ticks" | "degrees";

export interface EncoderProperties {
  ticksCountSupported: boolean;
  angleDegreesSupported: boolean;
}

export interface Encoder extends Resource {
  position(type: PositionType): { value: number; type: PositionType };
  resetPosition(): void;
  properties(): EncoderProperties;
}
