// The `esp32` board (micro-rdk's model and attributes) over ECMA-419 IO:
//
//   "attributes": {
//     "pins": [15, 16],                                  GPIOs set up as outputs (low) at build
//     "analogs": [{ "name": "a1", "pin": 34 }],          analog readers (ADC1 pins)
//     "digital_interrupts": [{ "pin": 4 }],              interrupts, named after their pin unless
//                                                        a "name" is given (rdk's form)
//     "i2cs": [{ "name": "i2c0", "bus": "i2c0", "data_pin": 21, "clock_pin": 22,
//                "baudrate_hz": 100000 }]                I2C buses by name, on controller i2c0/i2c1
//   }
//
// Pins are claimed when first used, in the mode the call needs: SetGPIO makes a pin a Digital
// output, GetGPIO of a pin nobody drives opens it as an input, SetPWM and SetPWMFrequency make it a
// PWM output (1 kHz until told otherwise; frequency 0 releases it), and a pin changes mode by
// closing what held it. Interrupt pins are inputs that count rising edges through onReadable
// (edges coalesced between two deliveries count once: Moddable posts one message per batch).
//
// Departures from micro-rdk, on purpose: I2C pins default to Moddable's ESP32 defaults 21/22, not
// micro-rdk's 11/6 (flash pins on a classic ESP32); baudrate_hz defaults to 100 kHz, which every
// supported sensor handles (micro-rdk's 1 MHz is beyond the MPU-6050's 400 kHz); any GPIO may be
// used without listing it in `pins`.
import { ChannelError, Code } from "../../../proto/channel/frames.js";
import type { Attributes } from "../../config/attributes.js";
import type { Digital, IO, PWM, Analog } from "../../platform/io.js";
import { boardApi, type BuildContext, type Model } from "../../resource.js";
import { pinNumber, type AnalogReading, type Board, type I2CBusOptions, type Interrupt, type PowerMode } from "./board.js";

/** The frequency a pin gets when SetPWM comes first (micro-rdk's MOTOR_PWM_FREQUENCY). */
export const DEFAULT_PWM_HZ = 1000;
const DEFAULT_I2C_HZ = 100_000;
/** Full scale of Moddable's ESP32 ADC readings (11 dB attenuation). */
const ADC_FULL_SCALE_VOLTS = 3.3;

type PinUse =
  | { kind: "out"; io: Digital; level: 0 | 1 }
  | { kind: "in"; io: Digital }
  | { kind: "pwm"; io: PWM; hz: number; duty: number; max: number }
  | { kind: "interrupt"; interrupt: PinInterrupt }
  | { kind: "analog" }
  | { kind: "i2c" };

function closeIO(io: unknown): void {
  try {
    (io as { close?(): void }).close?.();
  } catch {
    // Already closed.
  }
}

class PinInterrupt implements Interrupt {
  readonly name: string;
  readonly pin: number;
  count = 0;
  #io: Digital | undefined;
  #last: 0 | 1;
  readonly #listeners: ((level: 0 | 1) => void)[] = [];

  constructor(io: IO, name: string, pin: number) {
    this.name = name;
    this.pin = pin;
    const Digital = io.Digital;
    this.#io = new Digital({
      pin,
      mode: Digital.Input,
      edge: Digital.Rising + Digital.Falling,
      onReadable: () => this.#changed(),
    });
    this.#last = this.#io.read();
  }

  #changed(): void {
    const io = this.#io;
    if (io === undefined) return;
    const level = io.read();
    // A changed level to 1 is one rising edge; an unchanged level means an even number of changes
    // were coalesced, one of them rising.
    if (level === 1 || level === this.#last) this.count++;
    this.#last = level;
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) listeners[i](level);
  }

  level(): 0 | 1 {
    const io = this.#io;
    if (io === undefined) throw new Error("interrupt " + this.name + " is closed");
    return io.read();
  }

  listen(listener: (level: 0 | 1) => void): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  close(): void {
    closeIO(this.#io);
    this.#io = undefined;
    this.#listeners.length = 0;
  }
}

interface AnalogReader {
  readonly pin: number;
  readonly io: Analog;
}

export class Esp32Board implements Board {
  readonly #io: IO;
  readonly #pins = new Map<number, PinUse>();
  readonly #analogs = new Map<string, AnalogReader>();
  readonly #interrupts = new Map<string, PinInterrupt>();
  readonly #buses = new Map<string, I2CBusOptions>();
  #closed = false;

  constructor(io: IO, attributes: Attributes) {
    this.#io = io;
    try {
      for (const c of attributes.objects("i2cs")) {
        const name = c.string("name");
        const bus = c.string("bus");
        const port = bus === "i2c0" ? 0 : bus === "i2c1" ? 1 : c.fail("bus", 'must be "i2c0" or "i2c1", not ' + JSON.stringify(bus));
        const options: I2CBusOptions = {
          io: io.I2C,
          data: c.pin("data_pin", 21),
          clock: c.pin("clock_pin", 22),
          hz: c.integer("baudrate_hz", DEFAULT_I2C_HZ, { min: 1 }),
          port,
        };
        this.#buses.set(name, options);
        this.#pins.set(options.data, { kind: "i2c" });
        this.#pins.set(options.clock, { kind: "i2c" });
      }
      for (const a of attributes.objects("analogs")) {
        const name = a.string("name");
        const pin = a.pin("pin");
        this.#claim(pin, "analog reader " + name);
        const reader = new io.Analog({ pin });
        this.#analogs.set(name, { pin, io: reader });
        this.#pins.set(pin, { kind: "analog" });
      }
      for (const d of attributes.objects("digital_interrupts")) {
        const pin = d.pin("pin");
        const name = d.optionalString("name") ?? String(pin);
        this.#claim(pin, "digital interrupt " + name);
        const interrupt = new PinInterrupt(io, name, pin);
        this.#interrupts.set(name, interrupt);
        this.#pins.set(pin, { kind: "interrupt", interrupt });
      }
      for (const pin of attributes.pins("pins")) {
        if (this.#pins.has(pin)) continue;
        this.#output(pin, 0);
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  #claim(pin: number, what: string): void {
    const use = this.#pins.get(pin);
    if (use !== undefined) throw new Error("pin " + pin + " for " + what + " is already used as " + describe(use));
  }

  #check(): void {
    if (this.#closed) throw new ChannelError(Code.UNAVAILABLE, "board is closed");
  }

  /** Frees a pin that GPIO or PWM calls may re-purpose; refuses the ones the config reserved. */
  #release(pin: number, wanted: string): void {
    const use = this.#pins.get(pin);
    if (use === undefined) return;
    switch (use.kind) {
      case "out":
      case "in":
      case "pwm":
        closeIO(use.io);
        this.#pins.delete(pin);
        return;
      case "interrupt":
        throw new ChannelError(Code.FAILED_PRECONDITION, "pin " + pin + " is registered as an interrupt, cannot use it for " + wanted);
      default:
        throw new ChannelError(Code.FAILED_PRECONDITION, "pin " + pin + " is used as " + describe(use) + ", cannot use it for " + wanted);
    }
  }

  #output(pin: number, level: 0 | 1): void {
    const use = this.#pins.get(pin);
    if (use?.kind === "out") {
      use.io.write(level);
      use.level = level;
      return;
    }
    this.#release(pin, "a GPIO output");
    const io = new this.#io.Digital({ pin, mode: this.#io.Digital.Output });
    io.write(level);
    this.#pins.set(pin, { kind: "out", io, level });
  }

  #pwm(pin: number, hz: number): { kind: "pwm"; io: PWM; hz: number; duty: number; max: number } {
    const use = this.#pins.get(pin);
    if (use?.kind === "pwm" && use.hz === hz) return use;
    const duty = use?.kind === "pwm" ? use.duty : 0;
    this.#release(pin, "PWM");
    const io = new this.#io.PWM({ pin, hz });
    const state = { kind: "pwm" as const, io, hz, duty: 0, max: 2 ** io.resolution - 1 };
    this.#pins.set(pin, state);
    this.#writeDuty(state, duty);
    return state;
  }

  #writeDuty(state: { io: PWM; duty: number; max: number }, duty: number): void {
    state.io.write(Math.round(duty * state.max));
    state.duty = duty;
  }

  setGpio(pin: string, high: boolean): void {
    this.#check();
    this.#output(pinNumber(pin), high ? 1 : 0);
  }

  getGpio(pin: string): boolean {
    this.#check();
    const n = pinNumber(pin);
    const use = this.#pins.get(n);
    if (use === undefined) {
      const io = new this.#io.Digital({ pin: n, mode: this.#io.Digital.Input });
      this.#pins.set(n, { kind: "in", io });
      return io.read() === 1;
    }
    switch (use.kind) {
      case "out":
        return use.level === 1;
      case "in":
        return use.io.read() === 1;
      case "interrupt":
        return use.interrupt.level() === 1;
      case "pwm":
        return use.duty > 0;
      default:
        throw new ChannelError(Code.FAILED_PRECONDITION, "pin " + n + " is used as " + describe(use));
    }
  }

  pwm(pin: string): number {
    this.#check();
    const use = this.#pins.get(pinNumber(pin));
    return use?.kind === "pwm" ? use.duty : 0;
  }

  setPwm(pin: string, dutyCycle: number): void {
    this.#check();
    if (!(dutyCycle >= 0 && dutyCycle <= 1)) throw new ChannelError(Code.INVALID_ARGUMENT, "duty cycle must be between 0 and 1, not " + dutyCycle);
    const n = pinNumber(pin);
    const use = this.#pins.get(n);
    this.#writeDuty(use?.kind === "pwm" ? use : this.#pwm(n, DEFAULT_PWM_HZ), dutyCycle);
  }

  pwmFrequency(pin: string): number {
    this.#check();
    const use = this.#pins.get(pinNumber(pin));
    return use?.kind === "pwm" ? use.hz : 0;
  }

  setPwmFrequency(pin: string, hz: number): void {
    this.#check();
    const n = pinNumber(pin);
    if (!(hz >= 0 && Number.isFinite(hz))) throw new ChannelError(Code.INVALID_ARGUMENT, "frequency must not be negative, not " + hz);
    if (hz === 0) {
      // micro-rdk: frequency 0 gives the LEDC channel back.
      if (this.#pins.get(n)?.kind === "pwm") this.#release(n, "nothing");
      return;
    }
    this.#pwm(n, Math.round(hz));
  }

  readAnalog(reader: string): AnalogReading {
    this.#check();
    const a = this.#analogs.get(reader);
    if (a === undefined) throw new ChannelError(Code.NOT_FOUND, "analog reader " + JSON.stringify(reader) + " not found");
    const max = 2 ** a.io.resolution - 1;
    return { value: a.io.read(), minRange: 0, maxRange: ADC_FULL_SCALE_VOLTS, stepSize: ADC_FULL_SCALE_VOLTS / max };
  }

  writeAnalog(_pin: string, _value: number): void {
    throw new ChannelError(Code.UNIMPLEMENTED, "WriteAnalog is not supported on esp32 (no DAC in ECMA-419 IO)");
  }

  digitalInterruptValue(name: string): number {
    this.#check();
    const i = this.#interrupts.get(name);
    if (i === undefined) throw new ChannelError(Code.NOT_FOUND, "digital interrupt " + JSON.stringify(name) + " not found");
    return i.count;
  }

  interrupt(nameOrPin: string | number): Interrupt {
    this.#check();
    if (typeof nameOrPin === "string") {
      const named = this.#interrupts.get(nameOrPin);
      if (named !== undefined) return named;
    }
    const pin = pinNumber(nameOrPin);
    const use = this.#pins.get(pin);
    if (use?.kind === "interrupt") return use.interrupt;
    this.#release(pin, "an interrupt");
    const interrupt = new PinInterrupt(this.#io, String(pin), pin);
    this.#pins.set(pin, { kind: "interrupt", interrupt });
    if (!this.#interrupts.has(interrupt.name)) this.#interrupts.set(interrupt.name, interrupt);
    return interrupt;
  }

  setPowerMode(mode: PowerMode, _durationMs: number | undefined): void {
    this.#check();
    if (mode === "offline_deep") throw new ChannelError(Code.UNIMPLEMENTED, "deep sleep is not supported by this runtime yet");
  }

  i2cBus(name: string): I2CBusOptions {
    this.#check();
    const bus = this.#buses.get(name);
    if (bus === undefined) throw new Error("i2c bus " + JSON.stringify(name) + " is not configured on the board (i2cs[].name)");
    return bus;
  }

  close(): void {
    this.#closed = true;
    for (const use of this.#pins.values()) {
      if (use.kind === "out" || use.kind === "in" || use.kind === "pwm") closeIO(use.io);
      else if (use.kind === "interrupt") use.interrupt.close();
    }
    for (const a of this.#analogs.values()) closeIO(a.io);
    this.#pins.clear();
    this.#analogs.clear();
    this.#interrupts.clear();
  }
}

function describe(use: PinUse): string {
  switch (use.kind) {
    case "out":
      return "a GPIO output";
    case "in":
      return "a GPIO input";
    case "pwm":
      return "PWM";
    case "interrupt":
      return "an interrupt";
    case "analog":
      return "an analog reader";
    case "i2c":
      return "an I2C bus pin";
  }
}

export const esp32BoardModel: Model<Esp32Board> = {
  api: boardApi,
  model: "rdk:builtin:esp32",
  validate(attributes) {
    // Shapes only; pins are checked against the chip when the board is built.
    for (const c of attributes.objects("i2cs")) {
      c.string("name");
      const bus = c.string("bus");
      if (bus !== "i2c0" && bus !== "i2c1") c.fail("bus", 'must be "i2c0" or "i2c1", not ' + JSON.stringify(bus));
      c.pin("data_pin", 21);
      c.pin("clock_pin", 22);
      c.integer("baudrate_hz", DEFAULT_I2C_HZ, { min: 1 });
      c.optionalNumber("timeout_ns", { min: 0 });
    }
    for (const a of attributes.objects("analogs")) {
      a.string("name");
      a.pin("pin");
    }
    for (const d of attributes.objects("digital_interrupts")) {
      d.pin("pin");
      d.optionalString("name");
    }
    attributes.pins("pins");
    return [];
  },
  build(ctx: BuildContext) {
    return new Esp32Board(ctx.io, ctx.attributes);
  },
};
