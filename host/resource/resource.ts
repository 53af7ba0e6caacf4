// The small interfaces every resource model implements, whatever its API.
import type { JsonObject } from "@bufbuild/protobuf";

/** What a call carries besides its arguments: the `extra` Struct (field 99) and the caller's cancellation. */
export interface CallOptions {
  readonly extra: JsonObject;
  readonly signal: AbortSignal;
}

/** A call with no extra and no cancellation, for internal callers (StopAll, safety stops, tests). */
export function internalCall(signal: AbortSignal = new AbortController().signal): CallOptions {
  return { extra: {}, signal };
}

/** A geometry in the component's frame; only the shapes fakes and simple models use. */
export type Geometry =
  | { kind: "sphere"; radiusMm: number; label?: string }
  | { kind: "box"; dimsMm: { x: number; y: number; z: number }; label?: string }
  | { kind: "capsule"; radiusMm: number; lengthMm: number; label?: string };

export interface Resource {
  /** The short name from the config (`m1`, or `remote:m1` for a remote's resource). */
  readonly name: string;
  doCommand(command: JsonObject, call: CallOptions): Promise<JsonObject>;
  /** Geometries for the frame system; most models have none. */
  geometries?(call: CallOptions): Promise<Geometry[]>;
  /** Releases what the model holds (timers, pins). Called once, when the resource is removed or the machine stops. */
  close(): Promise<void>;
}

/** A resource that moves and can be told to stop: StopAll and the session safety stop act on these. */
export interface Actuator extends Resource {
  stop(call: CallOptions): Promise<void>;
  isMoving(): Promise<boolean>;
}

export function isActuator(r: Resource): r is Actuator {
  const candidate = r as Partial<Actuator>;
  return typeof candidate.stop === "function" && typeof candidate.isMoving === "function";
}

/** The error a model throws for a command it does not know; services answer UNIMPLEMENTED. */
export class NotSupportedError extends Error {
  constructor(what: string) {
    super(`${what} is not supported`);
    this.name = "NotSupportedError";
  }
}
