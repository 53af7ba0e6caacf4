// A simulated ESP32 and what is wired to it: GPIO levels and edges, LEDC PWM outputs, voltages on
// ADC pins, I2C buses with devices at addresses, the NVS store, and the timers firmware started.
// Tests and simulator commands build a World, wire devices into it, and make it current; the
// `embedded:*`, `timer` and `preference` shims in ./shims act on the current world.
//
// Why one global: firmware reaches hardware the way it does on a board, through module imports
// (`import I2C from "embedded:io/i2c"`) and constructors that take pins, never a handle. Nothing can
// pass the world down that path, so the shims find it through this single accessor. It is set
// explicitly with setWorld() and read with world(); there is no other shared state in the shims.
// One world per simulator instance: run two simulated boards in two processes (or workers).
import { performance } from "node:perf_hooks";
import { chipSpec, type ChipName, type ChipSpec } from "./chips.js";
import { Gpio } from "./gpio.js";
import { I2CBus } from "./i2c-bus.js";
import { NvsStore, type NvsOptions } from "./nvs.js";

export interface WorldOptions {
  chip?: ChipName;
  nvs?: NvsOptions;
}

/** One LEDC timer: the frequency and resolution shared by the channels that use it. */
export interface LedcTimer {
  useCount: number;
  hz: number;
  resolution: number;
}

/** A pin driven by an LEDC channel. */
export interface LedcOutput {
  pin: number;
  channel: number;
  timer: number;
  /** Duty in timer counts: 0 … 2^resolution (2^resolution is always on). */
  duty: number;
}

export interface PwmState {
  hz: number;
  resolution: number;
  /** Duty in counts of 2^resolution. */
  duty: number;
  /** Fraction of the period the pin is high, 0 … 1. */
  dutyCycle: number;
}

export class World {
  readonly chip: ChipSpec;
  readonly gpio = new Gpio();
  readonly nvs: NvsStore;
  /** LEDC hardware: timers and the outputs on pins. */
  readonly ledc: { timers: LedcTimer[]; freeChannels: number; outputs: Map<number, LedcOutput> };
  /** ADC2 cannot be read while Wi-Fi runs (Moddable: "ADC2 read timed out"). */
  wifiActive = false;
  /** Bytes of free heap the chip reports (esp_get_free_heap_size; the `instrumentation` shim's "System Free Memory"). */
  freeHeap = 150_000;
  readonly #start = performance.now();
  readonly #owners = new Map<number, string>();
  readonly #voltages = new Map<number, number>();
  readonly #buses = new Map<string, I2CBus>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #disposers = new Set<() => void>();

  constructor(options: WorldOptions = {}) {
    this.chip = chipSpec(options.chip ?? "esp32");
    this.nvs = new NvsStore(options.nvs);
    this.ledc = {
      timers: Array.from({ length: this.chip.ledcTimers }, () => ({ useCount: 0, hz: 0, resolution: 0 })),
      // Moddable hands out LEDC channels 4-7 only (MODDEF_PWM_LEDC_CHANNEL_MAP 0xF0).
      freeChannels: 0xf0 & this.chip.ledcChannels,
      outputs: new Map(),
    };
  }

  /** Milliseconds since the world was made, on a monotonic clock. */
  now(): number {
    return performance.now() - this.#start;
  }

  // Pins ------------------------------------------------------------------------------------

  isPinValid(pin: number): boolean {
    return this.chip.gpio.has(pin);
  }

  isPinFree(pin: number): boolean {
    return !this.#owners.has(pin);
  }

  /** Marks a pin as used by `owner` (a description such as "Digital"). */
  usePin(pin: number, owner: string): void {
    this.#owners.set(pin, owner);
  }

  freePin(pin: number): void {
    this.#owners.delete(pin);
  }

  /** What uses a pin, if anything. */
  pinOwner(pin: number): string | undefined {
    return this.#owners.get(pin);
  }

  // Analog ----------------------------------------------------------------------------------

  /** Applies a voltage to a pin, as seen by the ADC. */
  setVoltage(pin: number, volts: number): void {
    this.#voltages.set(pin, volts);
  }

  voltage(pin: number): number {
    return this.#voltages.get(pin) ?? 0;
  }

  // PWM -------------------------------------------------------------------------------------

  /** The PWM signal on a pin, or undefined when no LEDC channel drives it. */
  pwm(pin: number): PwmState | undefined {
    const output = this.ledc.outputs.get(pin);
    if (output === undefined) return undefined;
    const { hz, resolution } = this.ledc.timers[output.timer];
    return { hz, resolution, duty: output.duty, dutyCycle: output.duty / 2 ** resolution };
  }

  // I2C -------------------------------------------------------------------------------------

  /** The I2C bus on these two pins, made on first use. */
  i2c(pins: { data: number; clock: number }): I2CBus {
    const key = pins.data + "/" + pins.clock;
    let bus = this.#buses.get(key);
    if (bus === undefined) {
      bus = new I2CBus(pins.data, pins.clock);
      this.#buses.set(key, bus);
    }
    return bus;
  }

  // Timers ----------------------------------------------------------------------------------

  /** Records a Node timer started for the firmware, so that dispose() can stop it. */
  trackTimer(handle: NodeJS.Timeout): void {
    this.#timers.add(handle);
  }

  untrackTimer(handle: NodeJS.Timeout): void {
    this.#timers.delete(handle);
  }

  /** Runs `fn` on dispose(), e.g. to close a simulated socket; returns a function that cancels that. */
  onDispose(fn: () => void): () => void {
    this.#disposers.add(fn);
    return () => this.#disposers.delete(fn);
  }

  /** Stops every firmware timer and closes what registered with onDispose; the world's state stays readable. */
  dispose(): void {
    for (const handle of this.#timers) clearTimeout(handle);
    this.#timers.clear();
    const disposers = [...this.#disposers];
    this.#disposers.clear();
    for (const fn of disposers) fn();
  }
}

let current: World | undefined;

/** Makes `next` the world the shims act on (undefined: none). Returns the previous one. */
export function setWorld(next: World | undefined): World | undefined {
  const previous = current;
  current = next;
  return previous;
}

/** The current world; throws when none was set, so a missing setup fails loudly. */
export function world(): World {
  if (current === undefined) throw new Error("no simulated world: call setWorld(new World()) before using embedded:* modules");
  return current;
}
