// The `rdk:builtin:incremental` encoder, after rdk's components/encoder/incremental: a quadrature
// encoder on two digital interrupts of a board (`board`, `pins: {a, b}`, interrupt names, or pin
// numbers on boards that name interrupts after their pins). It decodes the ticks the board streams
// with rdk's state table: each valid transition of the two levels moves a half-tick counter one step
// up or down, and the position is that counter halved (two steps per tick, four per full cycle).
// Transitions that skip a state (both levels changed at once) are ignored, so is a repeated level,
// and contact bounce on one line cancels out (up, down, up is one step).
//
//   direction: from (a, b) = 00, B rising first (00 -> 10 -> 11 -> 01 -> 00, written b a) counts up;
//   A rising first counts down.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import type { Model } from "../../resource/registry.js";
import { NotSupportedError, type CallOptions } from "../../resource/resource.js";
import { optionalObject, requiredPin, requiredString } from "../attributes.js";
import { boardApi, type Board, type Tick } from "../board/board.js";
import { encoderApi, type Encoder, type EncoderProperties, type PositionType } from "./encoder.js";

export interface IncrementalEncoderConfig {
  board: string;
  a: string;
  b: string;
}

/** Reads and checks the attributes; throws an Error naming the bad one. */
export function parseIncrementalEncoderConfig(attributes: JsonObject): IncrementalEncoderConfig {
  const board = requiredString(attributes, "board");
  const pins = optionalObject(attributes, "pins");
  const a = requiredPin(pins, "a", "pins.a");
  const b = requiredPin(pins, "b", "pins.b");
  if (a === b) throw new Error(`attribute pins.a and pins.b must name two different interrupts, both are ${a}`);
  return { board, a, b };
}

/**
 * rdk's transition table, indexed by (previous state << 2) | next state, where a state is
 * a | (b << 1): +1 or -1 half-ticks, 0 for no change or an impossible jump.
 */
const STEP: readonly number[] = [
  //  to: 00  01  10  11
  /* 00 */ 0, -1, +1, 0,
  /* 01 */ +1, 0, 0, -1,
  /* 10 */ -1, 0, 0, +1,
  /* 11 */ 0, +1, -1, 0,
];

/** Decodes quadrature levels into a position, as rdk: pure state, fed one tick at a time. */
export class QuadratureDecoder {
  #state = 0;
  /** Half-ticks: moves on every valid transition. */
  #raw = 0;

  /** Feeds the new level of line `a` or `b`; returns the step taken (-1, 0 or +1 half-tick). */
  update(line: "a" | "b", high: boolean): number {
    const bit = line === "a" ? 1 : 2;
    const next = high ? this.#state | bit : this.#state & ~bit;
    const step = STEP[(this.#state << 2) | next];
    this.#raw += step;
    this.#state = next;
    return step;
  }

  /** Whole ticks: the half-tick count halved, rounded down (rdk's arithmetic shift). */
  position(): number {
    return Math.floor(this.#raw / 2);
  }

  /** Half-ticks counted, for diagnostics. */
  raw(): number {
    return this.#raw;
  }

  /** Makes the position 0, keeping the half-tick phase (rdk keeps the low bit). */
  reset(): void {
    this.#raw -= 2 * Math.floor(this.#raw / 2);
  }
}

export class IncrementalEncoder implements Encoder {
  readonly name: string;
  readonly #config: IncrementalEncoderConfig;
  readonly #decoder = new QuadratureDecoder();
  readonly #abort = new AbortController();
  readonly #logger: Logger;
  #failure: Error | undefined;
  #loop: Promise<void> = Promise.resolve();

  constructor(name: string, config: IncrementalEncoderConfig, logger: Logger) {
    this.name = name;
    this.#config = config;
    this.#logger = logger;
  }

  /** Starts decoding the board's ticks; the subscription is made before this returns. */
  start(board: Board): void {
    const { a, b } = this.#config;
    const ticks = board.streamTicks([a, b], { extra: {}, signal: this.#abort.signal });
    this.#loop = this.#consume(ticks);
  }

  /** Feeds one tick, as the board's stream delivers them (exposed for tests of the decoding). */
  onTick(tick: Tick): void {
    if (tick.pinName === this.#config.a) this.#decoder.update("a", tick.high);
    else if (tick.pinName === this.#config.b) this.#decoder.update("b", tick.high);
  }

  /** Half-ticks counted since the last reset's phase, for diagnostics. */
  rawPosition(): number {
    return this.#decoder.raw();
  }

  async position(type: PositionType, _call: CallOptions): Promise<{ value: number; type: PositionType }> {
    if (type === "degrees") throw new NotSupportedError(`position in degrees for incremental encoder ${this.name}`);
    if (this.#failure) throw this.#failure;
    return { value: this.#decoder.position(), type: "ticks" };
  }

  async resetPosition(_call: CallOptions): Promise<void> {
    this.#decoder.reset();
  }

  async properties(_call: CallOptions): Promise<EncoderProperties> {
    return { ticksCountSupported: true, angleDegreesSupported: false };
  }

  async doCommand(): Promise<never> {
    throw new NotSupportedError(`DoCommand on incremental encoder ${this.name}`);
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  async #consume(ticks: AsyncIterable<Tick>): Promise<void> {
    try {
      for await (const tick of ticks) {
        if (this.#abort.signal.aborted) return;
        this.onTick(tick);
      }
    } catch (err) {
      if (this.#abort.signal.aborted) return;
      const message = err instanceof Error ? err.message : String(err);
      this.#failure = new Error(`encoder ${this.name} lost its ticks from board ${this.#config.board}: ${message}`);
      this.#logger.error({ err: message }, "digital interrupt tick stream failed");
    }
  }
}

/** Checks the board has the named interrupts, with rdk's text when it does not. */
export async function checkInterrupts(board: Board, names: string[], what: string, signal?: AbortSignal): Promise<void> {
  for (const name of names) {
    try {
      await board.digitalInterruptValue(name, { extra: {}, signal: signal ?? new AbortController().signal });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`cannot find pin (${name}) for ${what}: ${message}`);
    }
  }
}

export const incrementalEncoderModel: Model<IncrementalEncoder> = {
  api: encoderApi,
  model: "rdk:builtin:incremental",
  validate(attributes) {
    const config = parseIncrementalEncoderConfig(attributes);
    return { required: [config.board], optional: [] };
  },
  async build(ctx) {
    const config = parseIncrementalEncoderConfig(ctx.attributes);
    const board = ctx.dependencies.get<Board>(boardApi, config.board);
    await checkInterrupts(board, [config.a, config.b], "incremental encoder", ctx.signal);
    const encoder = new IncrementalEncoder(ctx.name, config, ctx.logger);
    encoder.start(board);
    return encoder;
  },
};
