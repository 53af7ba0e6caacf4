// The `rdk:builtin:single` encoder, after rdk's components/encoder/single: a single-wire odometer
// (an LM393 slotted disc and the like) on one digital interrupt, `board` and `pins: {i}`. Every
// tick the board streams counts one step, in the direction the attached motor says it is turning
// (a gpio motor naming this encoder attaches itself), or up when no motor is attached; a motor that
// is off counts nothing.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import type { Model } from "../../resource/registry.js";
import { NotSupportedError, type CallOptions } from "../../resource/resource.js";
import { optionalObject, requiredPin, requiredString } from "../attributes.js";
import { boardApi, type Board, type Tick } from "../board/board.js";
import { encoderApi, type Encoder, type EncoderProperties, type PositionType } from "./encoder.js";
import { checkInterrupts } from "./incremental.js";

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

export class SingleEncoder implements Encoder {
  readonly name: string;
  readonly #config: SingleEncoderConfig;
  readonly #abort = new AbortController();
  readonly #logger: Logger;
  #direction: DirectionSource | undefined;
  #position = 0;
  #failure: Error | undefined;
  #loop: Promise<void> = Promise.resolve();

  constructor(name: string, config: SingleEncoderConfig, logger: Logger) {
    this.name = name;
    this.#config = config;
    this.#logger = logger;
  }

  /** What a motor calls to make the count follow its direction (rdk's AttachDirectionalAwareness). */
  attachDirection(direction: DirectionSource): void {
    this.#direction = direction;
  }

  start(board: Board): void {
    const ticks = board.streamTicks([this.#config.i], { extra: {}, signal: this.#abort.signal });
    this.#loop = this.#consume(ticks);
  }

  onTick(_tick: Tick): void {
    if (this.#direction === undefined) {
      this.#position += 1;
      return;
    }
    const dir = this.#direction();
    if (dir === 1 || dir === -1) this.#position += dir;
  }

  async position(type: PositionType, _call: CallOptions): Promise<{ value: number; type: PositionType }> {
    if (type === "degrees") throw new NotSupportedError(`position in degrees for single encoder ${this.name}`);
    if (this.#failure) throw this.#failure;
    return { value: this.#position, type: "ticks" };
  }

  async resetPosition(_call: CallOptions): Promise<void> {
    this.#position = 0;
  }

  async properties(_call: CallOptions): Promise<EncoderProperties> {
    return { ticksCountSupported: true, angleDegreesSupported: false };
  }

  async doCommand(): Promise<never> {
    throw new NotSupportedError(`DoCommand on single encoder ${this.name}`);
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
    await checkInterrupts(board, [config.i], "single encoder", ctx.signal);
    const encoder = new SingleEncoder(ctx.name, config, ctx.logger);
    encoder.start(board);
    return encoder;
  },
};
