// The board API: GPIO pins, PWM, analog readers and writers, digital interrupts and power modes.
import type { CallOptions, Resource } from "../../resource/resource.js";
import { componentApi } from "../../resource/name.js";

export const boardApi = componentApi("board");

export interface AnalogReading {
  value: number;
  minRange: number;
  maxRange: number;
  stepSize: number;
}

export interface Tick {
  pinName: string;
  /** Nanoseconds since an arbitrary epoch, as rdk reports them. */
  timeNs: bigint;
  high: boolean;
}

export type PowerMode = "normal" | "offline_deep";

export interface Board extends Resource {
  setGpio(pin: string, high: boolean, call: CallOptions): Promise<void>;
  getGpio(pin: string, call: CallOptions): Promise<boolean>;
  /** Duty cycle as a fraction, 0 to 1. */
  pwm(pin: string, call: CallOptions): Promise<number>;
  setPwm(pin: string, dutyCycle: number, call: CallOptions): Promise<void>;
  pwmFrequency(pin: string, call: CallOptions): Promise<number>;
  setPwmFrequency(pin: string, frequencyHz: number, call: CallOptions): Promise<void>;
  readAnalog(reader: string, call: CallOptions): Promise<AnalogReading>;
  writeAnalog(pin: string, value: number, call: CallOptions): Promise<void>;
  digitalInterruptValue(name: string, call: CallOptions): Promise<bigint>;
  /** Yields ticks of the named interrupts until `call.signal` aborts. */
  streamTicks(interrupts: string[], call: CallOptions): AsyncIterable<Tick>;
  setPowerMode(mode: PowerMode, durationMs: number | undefined, call: CallOptions): Promise<void>;
}
