// The `rdk:builtin:single` encoder, after rdk's components/encoder/single: a single-wire odometer
// (an LM393 slotted disc and the like) on one digital interrupt, `board` and `pins: {i}`. Every
// tick the board streams counts one step, in the direction the attached motor says it is turning
// (a gpio motor naming this encoder attaches itself), or up when no motor is attached; a motor that
// is off counts nothing.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import type { Model } from "../../resource/registry.js";
import { optionalObject, requiredPin, requiredString } from "../attributes.js";
import { boardApi, type Board, type Tick } from "../board/board.js";
import { encoderApi } from "./encoder.js";
import { TickEncoder } from "./tick-encoder.js";

export interface SingleEncoderConfig {
  board: string;
  i: string;
}

/** Reads and checks the attributes; throws an Error naming the bad one. */
export function parseSingleEncoderConfig(attributes: JsonObject): SingleEncoderConfig {
  const board = requiredString(attributes, "board");
  const i = requiredPin(optionalObject(attributes, "pins"), "i", "pins.i");
  return { board, i };
}

/** -1 turning backwards, 1 forwards, 0 off. */
export type DirectionSource = () => number;

export class SingleEncoder extends TickEncoder {
  #direction: DirectionSource | undefined;
  #position = 0;

  constructor(name: string, config: SingleEncoderConfig, logger: Logger) {
    super(name, "single encoder", config.board, [config.i], logger);
  }

  /** What a motor calls to make the count follow its direction (rdk's AttachDirectionalAwareness). */
  attachDirection(direction: DirectionSource): void {
    this.#direction = direction;
  }

  onTick(_tick: Tick): void {
    if (this.#direction === undefined) {
      this.#position += 1;
      return;
    }
    const dir = this.#direction();
    if (dir === 1 || dir === -1) this.#position += dir;
  }

  protected ticks(): number {
    return this.#position;
  }

  protected resetTicks(): void {
    this.#position = 0;
  }
}

export const singleEncoderModel: Model<SingleEncoder> = {
  api: encoderApi,
  model: "rdk:builtin:single",
  validate(attributes) {
    const config = parseSingleEncoderConfig(attributes);
    return { required: [config.board], optional: [] };
  },
  async build(ctx) {
    const config = parseSingleEncoderConfig(ctx.attributes);
    const board = ctx.dependencies.get<Board>(boardApi, config.board);
    const encoder = new SingleEncoder(ctx.name, config, ctx.logger);
    await encoder.start(board, ctx.signal);
    return encoder;
  },
};
