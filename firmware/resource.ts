// What every resource on a micro part is, and the pieces the models and the machine share.
import type { JsonObject } from "../proto/micro/runtime.js";
import type { Attributes } from "./config/attributes.js";
import type { Api } from "./config/schema.js";
import type { IO } from "./platform/io.js";

export type { Api };

export interface ResourceName extends Api {
  readonly name: string;
}

export function componentApi(subtype: string): Api {
  return { namespace: "rdk", type: "component", subtype };
}

export const boardApi = componentApi("board");
export const motorApi = componentApi("motor");
export const encoderApi = componentApi("encoder");
export const servoApi = componentApi("servo");
export const sensorApi = componentApi("sensor");
export const powerSensorApi = componentApi("power_sensor");
export const movementSensorApi = componentApi("movement_sensor");
export const genericApi = componentApi("generic");

export function sameApi(a: Api, b: Api): boolean {
  return a.namespace === b.namespace && a.type === b.type && a.subtype === b.subtype;
}

/** `rdk:component:motor/m1`, as the host and rdk print resource names. */
export function resourceNameString(n: ResourceName): string {
  return n.namespace + ":" + n.type + ":" + n.subtype + "/" + n.name;
}

/** Anything a config builds. Methods are synchronous where the hardware is; long moves return Promises. */
export interface Resource {
  /** Releases pins and buses; an actuator stops first. Called once. */
  close?(): void;
  doCommand?(command: JsonObject): JsonObject | Promise<JsonObject>;
}

/** A resource that moves: it can be told to stop, and says whether it is moving. */
export interface Actuator extends Resource {
  stop(): void;
  isMoving(): boolean;
}

export function isActuator(r: Resource): r is Actuator {
  return typeof (r as Actuator).stop === "function" && typeof (r as Actuator).isMoving === "function";
}

/** How a long call learns that its caller went away (a ServerCall fits). */
export interface Cancellable {
  onCancel(cb: () => void): () => void;
}

/** What a model's build function gets. */
export interface BuildContext {
  readonly name: ResourceName;
  readonly attributes: Attributes;
  readonly io: IO;
  /** What `validate` returned: the resources this one depends on. */
  readonly dependencies: readonly { api: Api; name: string }[];
  /** A resource this one depends on (declared by the model's `dependencies`). */
  dependency<R extends Resource>(api: Api, name: string): R;
}

/** One model: how to check its attributes and build it. */
export interface Model<R extends Resource = Resource> {
  readonly api: Api;
  /** Full model triplet: "rdk:builtin:gpio". */
  readonly model: string;
  /**
   * Checks the attributes (throwing ConfigError naming the problem) and returns the names of the
   * resources it needs, with their APIs: they are built first and handed over by `dependency`.
   */
  validate(attributes: Attributes, all: readonly { name: string; api: Api }[]): { api: Api; name: string }[];
  build(ctx: BuildContext): R;
}
