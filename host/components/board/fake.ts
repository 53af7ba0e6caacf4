// The `rdk:builtin:fake` board, after rdk's components/board/fake: GPIO levels, PWM duty cycles and
// frequencies remembered per pin name; analog readers (`analogs: [{name, pin}]`) whose values step
// through 0..1000 on each read unless a value was written to them; digital interrupts
// (`digital_interrupts: [{name, pin}]`, or micro-rdk's `[{pin}]`, named after the pin) that count
// and stream the ticks given to `tick()`. Pins may be given as numbers, as micro configs do.
// Beyond rdk's fake: an optional `pins` list makes it a board with a fixed header, where GPIO and
// PWM calls on any other pin fail (as a real board's unknown pin does); without it any name works.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Model } from "../../resource/registry.js";
import type { CallOptions } from "../../resource/resource.js";
import { boardApi, type AnalogReading, type Board, type PowerMode, type Tick } from "./board.js";

export interface PinConfig {
  name: string;
  pin: string;
}

export interface FakeBoardConfig {
  analogs: PinConfig[];
  digitalInterrupts: PinConfig[];
  /** The only GPIO/PWM pin names the board answers to, when listed. */
  pins?: string[];
}

/** The range fake analog readers report, as rdk's fake. */
export const ANALOG_MIN = 0;
export const ANALOG_MAX = 1000;
export const ANALOG_STEP = 1;

/** Ticks a slow stream consumer may fall behind by before the oldest are dropped. */
const MAX_QUEUED_TICKS = 1024;

/** A pin as configs give it: a name, or a GPIO number (micro-rdk's form). */
function pinText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return String(v);
  return undefined;
}

/**
 * `[{name, pin}]` entries. With `nameFromPin`, an entry without a name is named after its pin, as
 * micro-rdk names digital interrupts.
 */
function pinList(attributes: JsonObject, key: string, pinRequired: boolean, nameFromPin = false): PinConfig[] {
  const v = attributes[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`attribute ${key} must be a list of {name, pin}`);
  const seen = new Set<string>();
  return v.map((item, i) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw new Error(`attribute ${key}.${i} must be an object {name, pin}`);
    }
    const pin = item.pin === undefined || item.pin === null ? undefined : pinText(item.pin);
    if (item.pin !== undefined && item.pin !== null && pin === undefined) {
      throw new Error(`attribute ${key}.${i}.pin must be a string or a pin number`);
    }
    if (pinRequired && (pin === undefined || pin === "")) throw new Error(`attribute ${key}.${i}.pin is required`);
    const name = item.name === undefined && nameFromPin ? pin : item.name;
    if (typeof name !== "string" || name === "") throw new Error(`attribute ${key}.${i}.name is required`);
    if (seen.has(name)) throw new Error(`attribute ${key}.${i}.name ${name} is used twice`);
    seen.add(name);
    return { name, pin: pin ?? "" };
  });
}

function pinNames(attributes: JsonObject, key: string): string[] | undefined {
  const v = attributes[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new Error(`attribute ${key} must be a list of pin names or numbers`);
  return v.map((item, i) => {
    const pin = pinText(item);
    if (pin === undefined || pin === "") throw new Error(`attribute ${key}.${i} must be a pin name or number, got ${JSON.stringify(item)}`);
    return pin;
  });
}

/** Reads and checks the fake board's attributes; throws an Error naming the bad one. */
export function parseFakeBoardConfig(attributes: JsonObject): FakeBoardConfig {
  if (attributes.fail_new === true) throw new Error("whoops: fake board configured with fail_new");
  const pins = pinNames(attributes, "pins");
  return {
    analogs: pinList(attributes, "analogs", false),
    digitalInterrupts: pinList(attributes, "digital_interrupts", true, true),
    ...(pins === undefined ? {} : { pins }),
  };
}

function pinName(pin: string): string {
  if (typeof pin !== "string" || pin === "") throw new Error("a pin name is required");
  return pin;
}

interface PinState {
  high: boolean;
  duty: number;
  frequencyHz: number;
}

interface Interrupt {
  readonly pin: string;
  count: bigint;
}

interface Subscriber {
  readonly names: ReadonlySet<string>;
  readonly queue: Tick[];
  wake: (() => void) | undefined;
  detach?: () => void;
}

export class FakeBoard implements Board {
  readonly name: string;
  readonly #pins = new Map<string, PinState>();
  readonly #analogs = new Map<string, { pin: string; next: number }>();
  /** Values written with writeAnalog, by the name (or pin) written to. */
  readonly #written = new Map<string, number>();
  readonly #interrupts = new Map<string, Interrupt>();
  readonly #subscribers = new Set<Subscriber>();
  /** The listed GPIO/PWM pins, when the config lists them. */
  readonly #header: ReadonlySet<string> | undefined;
  #powerMode: PowerMode = "normal";
  #powerModeTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(name: string, config: FakeBoardConfig = { analogs: [], digitalInterrupts: [] }) {
    this.name = name;
    for (const a of config.analogs) this.#analogs.set(a.name, { pin: a.pin, next: 0 });
    for (const d of config.digitalInterrupts) this.#interrupts.set(d.name, { pin: d.pin, count: 0n });
    this.#header = config.pins === undefined ? undefined : new Set(config.pins);
  }

  // --- test and simulation hooks ---------------------------------------------------------------

  /**
   * Simulates an edge on the named digital interrupt: rising edges (`high`) add one to its count,
   * as rdk's interrupts count, and every tick goes to the open tick streams that asked for it.
   */
  tick(name: string, high = true, timeNs: bigint = process.hrtime.bigint()): void {
    const interrupt = this.#interrupt(name);
    if (high) interrupt.count += 1n;
    const tick: Tick = { pinName: name, timeNs, high };
    for (const s of this.#subscribers) {
      if (!s.names.has(name)) continue;
      s.queue.push(tick);
      if (s.queue.length > MAX_QUEUED_TICKS) s.queue.shift();
      s.wake?.();
    }
  }

  /** A pin's level, PWM duty cycle and frequency now, without claiming the pin (all zero when never set). */
  pinState(pin: string): { high: boolean; duty: number; frequencyHz: number } {
    const state = this.#pins.get(pin);
    return { high: state?.high ?? false, duty: state?.duty ?? 0, frequencyHz: state?.frequencyHz ?? 0 };
  }

  /** The power mode last set (back to "normal" when a timed mode has run out). */
  powerMode(): PowerMode {
    return this.#powerMode;
  }

  /** How many tick streams are open, for tests that check streams end. */
  openStreams(): number {
    return this.#subscribers.size;
  }

  // --- Board -------------------------------------------------------------------------------------

  async setGpio(pin: string, high: boolean, _call: CallOptions): Promise<void> {
    // As rdk: setting a level turns PWM off on that pin.
    this.#pins.set(this.#checkPin(pin), { high, duty: 0, frequencyHz: 0 });
  }

  async getGpio(pin: string, _call: CallOptions): Promise<boolean> {
    return this.#pin(pin).high;
  }

  async pwm(pin: string, _call: CallOptions): Promise<number> {
    return this.#pin(pin).duty;
  }

  async setPwm(pin: string, dutyCycle: number, _call: CallOptions): Promise<void> {
    if (typeof dutyCycle !== "number" || !Number.isFinite(dutyCycle) || dutyCycle < 0 || dutyCycle > 1) {
      throw new Error(`PWM duty cycle for pin ${pin} must be between 0 and 1, got ${dutyCycle}`);
    }
    this.#pin(pin).duty = dutyCycle;
  }

  async pwmFrequency(pin: string, _call: CallOptions): Promise<number> {
    return this.#pin(pin).frequencyHz;
  }

  async setPwmFrequency(pin: string, frequencyHz: number, _call: CallOptions): Promise<void> {
    if (typeof frequencyHz !== "number" || !Number.isInteger(frequencyHz) || frequencyHz < 0) {
      throw new Error(`PWM frequency for pin ${pin} must be a whole number of hertz, 0 or more, got ${frequencyHz}`);
    }
    this.#pin(pin).frequencyHz = frequencyHz;
  }

  async readAnalog(reader: string, _call: CallOptions): Promise<AnalogReading> {
    const analog = this.#analogs.get(reader);
    if (analog === undefined) throw new Error(`can't find AnalogReader (${reader})`);
    const written = this.#written.get(reader) ?? (analog.pin === "" ? undefined : this.#written.get(analog.pin));
    let value: number;
    if (written !== undefined) {
      value = written;
    } else {
      // rdk's fake: a counter that wraps over the range, one step per read.
      analog.next = analog.next >= ANALOG_MAX ? ANALOG_MIN : analog.next + ANALOG_STEP;
      value = analog.next;
    }
    return { value, minRange: ANALOG_MIN, maxRange: ANALOG_MAX, stepSize: ANALOG_STEP };
  }

  async writeAnalog(pin: string, value: number, _call: CallOptions): Promise<void> {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw new Error(`analog value for ${pin} must be a whole number, got ${value}`);
    }
    this.#written.set(pinName(pin), value);
  }

  /** The value last written to a pin or analog name with writeAnalog, if any. */
  analogWritten(pin: string): number | undefined {
    return this.#written.get(pin);
  }

  async digitalInterruptValue(name: string, _call: CallOptions): Promise<bigint> {
    return this.#interrupt(name).count;
  }

  /**
   * Ticks of the named interrupts from this call on (the subscription starts at once, not at the
   * first `next()`), until `call.signal` aborts or the board closes. Unknown names reject the first
   * `next()` with an Error naming them.
   */
  streamTicks(interrupts: string[], call: CallOptions): AsyncIterable<Tick> {
    const signal = call.signal;
    try {
      if (interrupts.length === 0) throw new Error("no digital interrupts named to stream ticks from");
      for (const name of interrupts) this.#interrupt(name);
    } catch (err) {
      return {
        [Symbol.asyncIterator]: () => ({ next: (): Promise<IteratorResult<Tick>> => Promise.reject(err) }),
      };
    }
    const sub: Subscriber = { names: new Set(interrupts), queue: [], wake: undefined };
    if (signal.aborted || this.#closed) return this.#stream(sub, signal);
    this.#subscribers.add(sub);
    const onAbort = (): void => {
      this.#subscribers.delete(sub);
      sub.wake?.();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    sub.detach = () => {
      signal.removeEventListener("abort", onAbort);
      this.#subscribers.delete(sub);
    };
    return this.#stream(sub, signal);
  }

  async setPowerMode(mode: PowerMode, durationMs: number | undefined, _call: CallOptions): Promise<void> {
    if (mode !== "normal" && mode !== "offline_deep") throw new Error(`unknown power mode ${String(mode)}`);
    if (durationMs !== undefined && (!Number.isFinite(durationMs) || durationMs <= 0)) {
      throw new Error(`power mode duration must be a positive number of milliseconds, got ${durationMs}`);
    }
    clearTimeout(this.#powerModeTimer);
    this.#powerModeTimer = undefined;
    this.#powerMode = mode;
    if (durationMs !== undefined && mode !== "normal") {
      this.#powerModeTimer = setTimeout(() => {
        this.#powerModeTimer = undefined;
        this.#powerMode = "normal";
      }, durationMs);
      this.#powerModeTimer.unref();
    }
  }

  async doCommand(command: JsonObject, _call: CallOptions): Promise<JsonObject> {
    return command;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#powerModeTimer);
    this.#powerModeTimer = undefined;
    const subscribers = [...this.#subscribers];
    this.#subscribers.clear();
    for (const s of subscribers) {
      s.detach?.();
      s.wake?.();
    }
  }

  // --- internals ---------------------------------------------------------------------------------

  #checkPin(pin: string): string {
    const name = pinName(pin);
    if (this.#header !== undefined && !this.#header.has(name)) {
      throw new Error(`board ${this.name} has no pin ${name} (its pins: ${[...this.#header].join(", ")})`);
    }
    return name;
  }

  #pin(pin: string): PinState {
    const name = this.#checkPin(pin);
    let state = this.#pins.get(name);
    if (state === undefined) {
      state = { high: false, duty: 0, frequencyHz: 0 };
      this.#pins.set(name, state);
    }
    return state;
  }

  #interrupt(name: string): Interrupt {
    const interrupt = this.#interrupts.get(name);
    if (interrupt === undefined) throw new Error(`can't find DigitalInterrupt (${name})`);
    return interrupt;
  }

  async *#stream(sub: Subscriber, signal: AbortSignal): AsyncGenerator<Tick> {
    try {
      for (;;) {
        if (signal.aborted || this.#closed) return;
        const next = sub.queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          sub.wake = resolve;
        });
        sub.wake = undefined;
      }
    } finally {
      sub.detach?.();
    }
  }
}

export const fakeBoardModel: Model<FakeBoard> = {
  api: boardApi,
  model: "rdk:builtin:fake",
  validate(attributes) {
    parseFakeBoardConfig(attributes);
    return { required: [], optional: [] };
  },
  async build(ctx) {
    return new FakeBoard(ctx.name, parseFakeBoardConfig(ctx.attributes));
  },
};
