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
import { optionalObject, requiredPin, requiredString } from "../attributes.js";
import { boardApi, type Board, type Tick } from "../board/board.js";
import { encoderApi } from "./encoder.js";
import { TickEncoder } from "./tick-encoder.js";

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

export class IncrementalEncoder extends TickEncoder {
  readonly #config: IncrementalEncoderConfig;
  readonly #decoder = new QuadratureDecoder();

  constructor(name: string, config: IncrementalEncoderConfig, logger: Logger) {
    super(name, "incremental encoder", config.board, [config.a, config.b], logger);
    this.#config = config;
  }

  onTick(tick: Tick): void {
    if (tick.pinName === this.#config.a) this.#decoder.update("a", tick.high);
    else if (tick.pinName === this.#config.b) this.#decoder.update("b", tick.high);
  }

  /** Half-ticks counted since the last reset's phase, for diagnostics. */
  rawPosition(): number {
    return this.#decoder.raw();
  }

  protected ticks(): number {
    return this.#decoder.position();
  }

  protected resetTicks(): void {
    this.#decoder.reset();
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
    const encoder = new IncrementalEncoder(ctx.name, config, ctx.logger);
    await encoder.start(board, ctx.signal);
    return encoder;
  },
};
