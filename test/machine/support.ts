// Test-only models for the machine's lifecycle tests: a probe that records when each build starts and
// ends and when each instance closes (in one sequence, so tests assert order, never timings), can be
// made slow, failing or hanging, and names its required and optional dependencies in its attributes;
// and a gate sensor whose readings a test sets.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { parseMachineConfig } from "../../host/config/load.js";
import type { MachineConfig } from "../../host/config/schema.js";
import { createLogger } from "../../host/log/logger.js";
import { Machine, machineResources, type MachineOptions } from "../../host/machine/machine.js";
import { builtinModels } from "../../host/models.js";
import { componentApi } from "../../host/resource/name.js";
import type { Model, ModelRegistry } from "../../host/resource/registry.js";
import type { CallOptions, Resource } from "../../host/resource/resource.js";

export const genericApi = componentApi("generic");
export const sensorApi = componentApi("sensor");
export const PROBE_MODEL = "acme:test:probe";
export const GATE_MODEL = "acme:test:gate";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export type ProbeEvent =
  | { kind: "build-start"; name: string; attempt: number }
  | { kind: "build-end"; name: string; attempt: number; id: number }
  | { kind: "build-fail"; name: string; attempt: number }
  | { kind: "close"; name: string; id: number };

export class ProbeInstance implements Resource {
  constructor(
    readonly name: string,
    readonly id: number,
    /** What the build found of its optional dependencies: name -> instance id, or null when absent. */
    readonly optionalSeen: Readonly<Record<string, number | null>>,
    private readonly recorder: Recorder,
    private readonly closeMs: number,
  ) {}

  async doCommand(command: JsonObject): Promise<JsonObject> {
    return command;
  }

  async close(): Promise<void> {
    if (this.closeMs > 0) await sleep(this.closeMs);
    this.recorder.events.push({ kind: "close", name: this.name, id: this.id });
  }
}

/** Everything the probes did, in order; and the gate sensor's readings. */
export class Recorder {
  readonly events: ProbeEvent[] = [];
  #nextId = 1;
  #attempts = new Map<string, number>();
  inFlight = 0;
  maxInFlight = 0;
  gateReadings: Record<string, JsonValue> = {};
  gateError: string | undefined;
  /** The gate sensor's readings take this long. */
  gateHangMs = 0;
  /** Probes with `wait_gate: true` wait for openGate(). */
  buildGate: Promise<void>;
  openGate: () => void = () => {};

  constructor() {
    this.buildGate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  nextId(): number {
    return this.#nextId++;
  }

  nextAttempt(name: string): number {
    const n = (this.#attempts.get(name) ?? 0) + 1;
    this.#attempts.set(name, n);
    return n;
  }

  /** Index of the first event matching. */
  index(kind: ProbeEvent["kind"], name: string, from = 0): number {
    const i = this.events.findIndex((e, j) => j >= from && e.kind === kind && e.name === name);
    if (i < 0) throw new Error(`no ${kind} event for ${name} in ${JSON.stringify(this.events)}`);
    return i;
  }

  count(kind: ProbeEvent["kind"], name: string): number {
    return this.events.filter((e) => e.kind === kind && e.name === name).length;
  }

  /** Names in the order their instances closed. */
  closeOrder(): string[] {
    return this.events.filter((e) => e.kind === "close").map((e) => e.name);
  }

  clear(): void {
    this.events.length = 0;
  }
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
const num = (v: unknown): number => (typeof v === "number" ? v : 0);

/**
 * Attributes: `deps` and `optional` (names), `delay_ms` (build time), `fail_times` (the first N
 * builds throw), `fail` (always throws this text), `hang_first_ms` (the first build takes this long),
 * `close_ms` (close time), `invalid` (validate throws this text), `wait_gate` (waits for the recorder's
 * openGate()), `tag` (anything, to change the config).
 */
export function probeModel(recorder: Recorder, api = genericApi): Model<ProbeInstance> {
  return {
    api,
    model: PROBE_MODEL,
    validate(attributes) {
      if (typeof attributes.invalid === "string") throw new Error(attributes.invalid);
      return { required: strings(attributes.deps), optional: strings(attributes.optional) };
    },
    async build(ctx) {
      const a = ctx.attributes;
      const attempt = recorder.nextAttempt(ctx.name);
      ctx.logger.debug("probe building");
      recorder.events.push({ kind: "build-start", name: ctx.name, attempt });
      recorder.inFlight += 1;
      recorder.maxInFlight = Math.max(recorder.maxInFlight, recorder.inFlight);
      try {
        if (a.wait_gate === true) await recorder.buildGate;
        if (attempt === 1 && num(a.hang_first_ms) > 0) await sleep(num(a.hang_first_ms));
        if (num(a.delay_ms) > 0) await sleep(num(a.delay_ms));
        else await Promise.resolve();
        if (typeof a.fail === "string" || attempt <= num(a.fail_times)) {
          recorder.events.push({ kind: "build-fail", name: ctx.name, attempt });
          throw new Error(typeof a.fail === "string" ? a.fail : `planned failure ${attempt}`);
        }
        const optionalSeen: Record<string, number | null> = {};
        for (const dep of strings(a.optional)) {
          const found = ctx.dependencies.find<ProbeInstance>(api, dep);
          optionalSeen[dep] = found ? found.id : null;
        }
        for (const dep of strings(a.deps)) ctx.dependencies.get(api, dep);
        const instance = new ProbeInstance(ctx.name, recorder.nextId(), optionalSeen, recorder, num(a.close_ms));
        recorder.events.push({ kind: "build-end", name: ctx.name, attempt, id: instance.id });
        return instance;
      } finally {
        recorder.inFlight -= 1;
      }
    },
  };
}

export class GateSensor implements Resource {
  constructor(
    readonly name: string,
    private readonly recorder: Recorder,
  ) {}

  async readings(_call: CallOptions): Promise<Record<string, JsonValue>> {
    if (this.recorder.gateHangMs > 0) await sleep(this.recorder.gateHangMs);
    if (this.recorder.gateError) throw new Error(this.recorder.gateError);
    return { ...this.recorder.gateReadings };
  }

  async doCommand(command: JsonObject): Promise<JsonObject> {
    return command;
  }

  async close(): Promise<void> {}
}

export function gateModel(recorder: Recorder): Model<GateSensor> {
  return {
    api: sensorApi,
    model: GATE_MODEL,
    validate: () => ({ required: [], optional: [] }),
    build: async (ctx) => new GateSensor(ctx.name, recorder),
  };
}

/** The built-in fakes plus the probe and gate models, fresh. */
export function testRegistry(recorder: Recorder): ModelRegistry {
  return builtinModels().register(probeModel(recorder)).register(gateModel(recorder));
}

/** A probe component entry. */
export function probe(name: string, attributes: JsonObject = {}, extra: JsonObject = {}): JsonObject {
  return { name, api: "rdk:component:generic", model: PROBE_MODEL, attributes, ...extra };
}

export function config(components: JsonObject[], extra: JsonObject = {}): MachineConfig {
  return parseMachineConfig(JSON.stringify({ components, ...extra }), "test.json");
}

/** A machine with the test registry and quick retries, logging to `lines` when given. */
export function testMachine(
  recorder: Recorder,
  options: MachineOptions = {},
  lines?: string[],
): Machine {
  const logger = createLogger({
    level: lines ? "info" : "error",
    out: lines ? ({ write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream) : undefined,
  });
  return new Machine(testRegistry(recorder), logger, { retryIntervalMs: 20, ...options });
}

export async function startMachine(machine: Machine, cfg: MachineConfig): Promise<Machine> {
  await machine.start(machineResources(cfg), cfg.revision);
  return machine;
}

/** Polls until `check` holds (each poll after a short sleep); fails with `what` after `tries`. */
export async function eventually(check: () => boolean, what: string, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return;
    await sleep(10);
  }
  throw new Error(`never happened: ${what}`);
}

/** The entry's state and error, for compact assertions. */
export function statusOf(machine: Machine, name: string, api = genericApi): { state: string; error?: string } {
  const e = machine.entries().find((x) => x.name.name === name && x.name.subtype === api.subtype);
  if (!e) return { state: "absent" };
  return e.error === undefined ? { state: e.state } : { state: e.state, error: e.error };
}

export function instance(machine: Machine, name: string): ProbeInstance {
  return machine.get<ProbeInstance>(genericApi, name);
}
