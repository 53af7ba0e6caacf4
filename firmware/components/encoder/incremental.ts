// The `incremental` encoder (micro-rdk's model): a quadrature encoder on two pins, `pins: {a, b}`,
// watched through the board's digital interrupts (both edges). Every change of either channel is
// one tick, forward when A leads B (00 → 10 → 11 → 01), so one cycle of A is 4 ticks (×4 decoding;
// micro-rdk's PCNT setup counts ×2). A change of both channels between two deliveries (edges
// coalesced under load) counts two ticks in the last direction seen. Positions are in ticks.
// Attributes: `pins.a`, `pins.b` (GPIO numbers, or names of the board's digital interrupts), `board`.
import { unimplemented } from "../../rpc/errors.js";
import { encoderApi, type BuildContext, type Model } from "../../resource.js";
import { boardDependency, boardOf, type Interrupt } from "../board/board.js";
import type { Encoder, EncoderProperties, PositionType } from "./encoder.js";

// Ticks for a move from state (a << 1 | b) `prev` to `next`, indexed prev * 4 + next; 2 = both
// channels changed.
const STEP = [0, -1, 1, 2, 1, 0, 2, -1, -1, 2, 0, 1, 2, 1, -1, 0];

export class IncrementalEncoder implements Encoder {
  #ticks = 0;
  #state: number;
  #direction = 1;
  readonly #a: Interrupt;
  readonly #b: Interrupt;
  readonly #unlisten: (() => void)[];

  constructor(a: Interrupt, b: Interrupt) {
    this.#a = a;
    this.#b = b;
    this.#state = (a.level() << 1) | b.level();
    const update = () => this.#update();
    this.#unlisten = [a.listen(update), b.listen(update)];
  }

  #update(): void {
    const next = (this.#a.level() << 1) | this.#b.level();
    const step = STEP[this.#state * 4 + next];
    this.#state = next;
    if (step === 0) return;
    if (step === 2) {
      this.#ticks += 2 * this.#direction;
      return;
    }
    this.#direction = step;
    this.#ticks += step;
  }

  /** Ticks since the last reset. */
  ticks(): number {
    return this.#ticks;
  }

  position(type: PositionType): { value: number; type: PositionType } {
    if (type === "degrees") throw unimplemented("encoder does not support angle_degrees, only ticks_count");
    return { value: this.#ticks, type: "ticks" };
  }

  resetPosition(): void {
    this.#ticks = 0;
  }

  properties(): EncoderProperties {
    return { ticksCountSupported: true, angleDegreesSupported: false };
  }

  close(): void {
    for (const u of this.#unlisten) u();
  }
}

export const incrementalEncoderModel: Model<IncrementalEncoder> = {
  api: encoderApi,
  model: "rdk:builtin:incremental",
  validate(attributes, all) {
    const pins = attributes.object("pins");
    for (const k of ["a", "b"]) {
      const v = pins.raw[k];
      if (typeof v === "string" && v !== "") continue;
      pins.pin(k);
    }
    return [boardDependency(attributes, all)];
  },
  build(ctx: BuildContext) {
    const pins = ctx.attributes.object("pins");
    const board = boardOf(ctx);
    return new IncrementalEncoder(board.interrupt(String(pins.raw.a)), board.interrupt(String(pins.raw.b)));
  },
};
