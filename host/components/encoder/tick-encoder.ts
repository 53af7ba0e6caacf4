// What the encoders on a board's digital interrupts share: they follow the board's tick stream
// (checking first that the board has the interrupts), report a lost stream on the next read, count
// ticks only (no degrees), and stop listening on close. Each kind only says how a tick moves its count.
import type { Logger } from "pino";
import { NotSupportedError, type CallOptions } from "../../resource/resource.js";
import type { Board, Tick } from "../board/board.js";
import type { Encoder, EncoderProperties, PositionType } from "./encoder.js";

export abstract class TickEncoder implements Encoder {
  readonly #abort = new AbortController();
  #failure: Error | undefined;
  #loop: Promise<void> = Promise.resolve();

  /** `kind` names the model in messages ("incremental encoder"); `interrupts` are the board's names. */
  constructor(
    readonly name: string,
    private readonly kind: string,
    private readonly boardName: string,
    private readonly interrupts: readonly string[],
    private readonly logger: Logger,
  ) {}

  /** Feeds one tick, as the board's stream delivers them (exposed for tests of the counting). */
  abstract onTick(tick: Tick): void;
  protected abstract ticks(): number;
  protected abstract resetTicks(): void;

  /** Checks the board has the interrupts (rdk's text when not), then follows their ticks. */
  async start(board: Board, signal?: AbortSignal): Promise<void> {
    for (const name of this.interrupts) {
      try {
        await board.digitalInterruptValue(name, { extra: {}, signal: signal ?? this.#abort.signal });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new Error(`cannot find pin (${name}) for ${this.kind}: ${message}`);
      }
    }
    const ticks = board.streamTicks([...this.interrupts], { extra: {}, signal: this.#abort.signal });
    this.#loop = this.#consume(ticks);
  }

  async position(type: PositionType, _call: CallOptions): Promise<{ value: number; type: PositionType }> {
    if (type === "degrees") throw new NotSupportedError(`position in degrees for ${this.kind} ${this.name}`);
    if (this.#failure) throw this.#failure;
    return { value: this.ticks(), type: "ticks" };
  }

  async resetPosition(_call: CallOptions): Promise<void> {
    this.resetTicks();
  }

  async properties(_call: CallOptions): Promise<EncoderProperties> {
    return { ticksCountSupported: true, angleDegreesSupported: false };
  }

  async doCommand(): Promise<never> {
    throw new NotSupportedError(`DoCommand on ${this.kind} ${this.name}`);
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
      this.#failure = new Error(`encoder ${this.name} lost its ticks from board ${this.boardName}: ${message}`);
      this.logger.error({ err: message }, "digital interrupt tick stream failed");
    }
  }
}
