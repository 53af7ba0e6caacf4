// GPIO pins of the simulated chip: what the firmware drives, what the outside world drives, and
// the level that results. Listeners hear every change of a pin's level, in order, synchronously;
// `embedded:io/digital` turns those into edge interrupts.

export type Level = 0 | 1;

export type PinMode =
  | "unused"
  | "input"
  | "input-pullup"
  | "input-pulldown"
  | "input-pullupdown"
  | "output"
  | "output-open-drain";

export type LevelListener = (level: Level, pin: number) => void;

interface PinState {
  mode: PinMode;
  /** The chip's output latch. */
  out: Level;
  /** What the outside drives onto the pin; undefined when nothing does. */
  external: Level | undefined;
  level: Level;
  listeners: Set<LevelListener>;
}

export class Gpio {
  readonly #pins = new Map<number, PinState>();

  #state(pin: number): PinState {
    let state = this.#pins.get(pin);
    if (state === undefined) {
      state = { mode: "unused", out: 0, external: undefined, level: 0, listeners: new Set() };
      this.#pins.set(pin, state);
    }
    return state;
  }

  /**
   * The level a pin settles at. A push-pull output wins over the outside; an open-drain output
   * can only pull low; an undriven line follows the internal pull-up (a pull-up/pull-down pair
   * reads high) and otherwise reads 0.
   */
  static #resolve(state: PinState): Level {
    switch (state.mode) {
      case "output":
        return state.out;
      case "output-open-drain":
        return state.out === 0 ? 0 : (state.external ?? 0);
      case "input-pullup":
      case "input-pullupdown":
        return state.external ?? 1;
      default:
        return state.external ?? 0;
    }
  }

  #update(pin: number, state: PinState): void {
    const level = Gpio.#resolve(state);
    if (level === state.level) return;
    state.level = level;
    for (const listener of [...state.listeners]) listener(level, pin);
  }

  /** Firmware side: set the pin's mode; an output starts low, as ESP-IDF's gpio_set_level(pin, 0) first. */
  configure(pin: number, mode: PinMode): void {
    const state = this.#state(pin);
    state.mode = mode;
    if (mode === "output" || mode === "output-open-drain") state.out = 0;
    this.#update(pin, state);
  }

  /** Firmware side: the output latch. */
  write(pin: number, value: Level): void {
    const state = this.#state(pin);
    state.out = value;
    this.#update(pin, state);
  }

  /** Outside side: drive the pin high or low, or stop driving it (undefined). */
  drive(pin: number, value: Level | undefined): void {
    const state = this.#state(pin);
    state.external = value;
    this.#update(pin, state);
  }

  level(pin: number): Level {
    return this.#state(pin).level;
  }

  mode(pin: number): PinMode {
    return this.#state(pin).mode;
  }

  /** Calls `listener` on every change of the pin's level; returns the unsubscribe function. */
  onChange(pin: number, listener: LevelListener): () => void {
    const listeners = this.#state(pin).listeners;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }
}
