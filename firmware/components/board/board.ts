// The board API on a micro part, as the host's (host/components/board/board.ts) without the
// Promises: GPIO, PWM, analog readers, digital interrupts and power modes; plus what the other
// models need from the board (pins by number, I2C buses by name, interrupts to listen to).
import type I2C from "embedded:io/i2c";
import { ConfigError } from "../../config/attributes.js";
import { boardApi, sameApi, type Api, type BuildContext, type Resource } from "../../resource.js";

export interface AnalogReading {
  value: number;
  minRange: number;
  maxRange: number;
  stepSize: number;
}

/** An I2C bus as the drivers in firmware/drivers take it (their `sensor` option). */
export interface I2CBusOptions {
  io: typeof I2C;
  data: number;
  clock: number;
  hz: number;
  port: number;
}

/** A pin watched for edges: rising edges are counted, every level change is announced. */
export interface Interrupt {
  readonly name: string;
  readonly pin: number;
  /** Rising edges seen. */
  readonly count: number;
  /** The level now. */
  level(): 0 | 1;
  /** Calls `listener` after each change (coalesced changes: once, with the level now). */
  listen(listener: (level: 0 | 1) => void): () => void;
}

export type PowerMode = "normal" | "offline_deep";

export interface Board extends Resource {
  setGpio(pin: string, high: boolean): void;
  getGpio(pin: string): boolean;
  /** Duty cycle as a fraction, 0 to 1. */
  pwm(pin: string): number;
  setPwm(pin: string, dutyCycle: number): void;
  pwmFrequency(pin: string): number;
  setPwmFrequency(pin: string, hz: number): void;
  readAnalog(reader: string): AnalogReading;
  writeAnalog(pin: string, value: number): void;
  digitalInterruptValue(name: string): number;
  /** The interrupt with that name (configured) or on that pin (made on demand). */
  interrupt(nameOrPin: string | number): Interrupt;
  setPowerMode(mode: PowerMode, durationMs: number | undefined): void;
  /** A configured I2C bus by its name (micro-rdk's `i2cs[].name`). */
  i2cBus(name: string): I2CBusOptions;
}

/**
 * The board a component uses: its `board` attribute, else the first board of the config (micro-rdk
 * builds only the first board and hands it to every component).
 */
export function boardDependency(attributes: { optionalString(key: string): string | undefined }, all: readonly { name: string; api: Api }[]): { api: Api; name: string } {
  const named = attributes.optionalString("board");
  if (named !== undefined) return { api: boardApi, name: named };
  for (const c of all) if (sameApi(c.api, boardApi)) return { api: boardApi, name: c.name };
  throw new ConfigError("needs a board: add an esp32 board component");
}

/** A pin number from its wire form ("15"); micro-rdk takes the same decimal GPIO numbers. */
export function pinNumber(pin: string | number): number {
  if (typeof pin === "number") return pin;
  const text = pin.startsWith("io") ? pin.slice(2) : pin.startsWith("gpio") ? pin.slice(4) : pin;
  if (!/^[0-9]{1,2}$/.test(text)) throw new Error("pin " + JSON.stringify(pin) + " is not a GPIO number");
  return Number(text);
}

/** The board among a model's dependencies (see boardDependency). */
export function boardOf(ctx: BuildContext): Board {
  for (const d of ctx.dependencies) if (sameApi(d.api, boardApi)) return ctx.dependency<Board>(boardApi, d.name);
  throw new Error("no board among the dependencies");
}
