// embedded:io/digital for Node, after Moddable's ESP32 Digital (digital.js over digitalbank.c):
// modes Input, InputPullUp, InputPullDown, InputPullUpDown, Output, OutputOpenDrain; edge
// interrupts only on inputs, delivered asynchronously and coalesced like the ISR → message path;
// read() of an output and write() of an input throw "unimplemented", as on the ESP32.
import { world } from "../world.js";
import type { Level, PinMode } from "../gpio.js";
import { checkFormat, closedError, pinNumber } from "./common.js";

const MODES: Record<number, PinMode> = {
  0: "input",
  1: "input-pullup",
  2: "input-pulldown",
  3: "input-pullupdown",
  8: "output",
  9: "output-open-drain",
};

export interface DigitalOptions {
  pin: number;
  mode: number;
  edge?: number;
  onReadable?: (this: Digital, triggered: number) => void;
  format?: "number";
  target?: unknown;
}

export default class Digital {
  static readonly Input = 0;
  static readonly InputPullUp = 1;
  static readonly InputPullDown = 2;
  static readonly InputPullUpDown = 3;
  static readonly Output = 8;
  static readonly OutputOpenDrain = 9;
  static readonly Rising = 1;
  static readonly Falling = 2;

  target?: unknown;
  #pin: number;
  #isInput: boolean;
  #open = true;
  #unsubscribe: (() => void) | undefined;
  #triggered = 0;

  constructor(options: DigitalOptions) {
    const pin = pinNumber(options.pin);
    const w = world();
    if (!w.isPinValid(pin)) throw new RangeError("invalid pin");
    if (!w.isPinFree(pin)) throw new Error("in use");
    if (options.mode === undefined) throw new Error("invalid");
    const mode = MODES[Number(options.mode)];
    if (mode === undefined) throw new RangeError("invalid mode");
    const isInput = mode.startsWith("input");
    const edge = Number(options.edge ?? 0);
    const onReadable = options.onReadable;
    if (typeof onReadable === "function") {
      if (!isInput) throw new RangeError("invalid mode");
      if (!(edge & (Digital.Rising | Digital.Falling))) throw new RangeError("invalid edges");
    }
    if ("target" in options) this.target = options.target;
    checkFormat(options, "number");
    if (!isInput && w.chip.inputOnly.has(pin)) throw new RangeError("invalid mode"); // input-only pins

    this.#pin = pin;
    this.#isInput = isInput;
    w.gpio.configure(pin, mode);
    w.usePin(pin, "Digital");

    if (typeof onReadable === "function") {
      const mask = 1 << (pin & 31);
      this.#unsubscribe = w.gpio.onChange(pin, (level: Level) => {
        if (!(level ? edge & Digital.Rising : edge & Digital.Falling)) return;
        const pending = this.#triggered;
        this.#triggered |= mask;
        if (pending) return; // one message in flight carries every edge until it is delivered
        setImmediate(() => {
          const triggered = this.#triggered;
          this.#triggered = 0;
          if (this.#open) onReadable.call(this, triggered);
        });
      });
    }
  }

  read(): Level {
    if (!this.#open) throw closedError();
    if (!this.#isInput) throw new Error("unimplemented");
    return world().gpio.level(this.#pin);
  }

  write(value: number): void {
    if (!this.#open) throw closedError();
    if (this.#isInput) throw new Error("unimplemented");
    world().gpio.write(this.#pin, value ? 1 : 0);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#unsubscribe?.();
    const w = world();
    w.gpio.configure(this.#pin, "unused"); // gpio_reset_pin
    w.freePin(this.#pin);
  }

  get format(): "number" {
    return "number";
  }

  set format(value: string) {
    if (value !== "number") throw new RangeError("unimplemented");
  }
}
