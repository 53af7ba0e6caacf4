// embedded:io/analog for Node, after Moddable's ESP32 Analog (modules/io/analog/esp32/_analog.c):
// only ADC pins, 11 dB attenuation, readings scaled as (millivolts × (2^resolution − 1)) / 3300 with
// the chip's resolution (10 bits on the classic ESP32, 12 on the S3 and C3). ADC2 pins fail while
// Wi-Fi runs. The calibrated span is idealised to 0–3.3 V.
import { world } from "../world.js";
import { checkFormat, closedError, pinNumber } from "./common.js";

const FULL_SCALE_MV = 3300;

export interface AnalogOptions {
  pin: number;
  resolution?: number;
  format?: "number";
  target?: unknown;
}

export default class Analog {
  target?: unknown;
  #pin: number;
  #adc2: boolean;
  #open = true;

  constructor(options: AnalogOptions) {
    const w = world();
    const pin = pinNumber(options.pin);
    if (!w.isPinFree(pin)) throw new RangeError("in use");
    const adc1 = w.chip.adc1.includes(pin);
    if (!adc1 && !w.chip.adc2.includes(pin)) throw new RangeError("not analog pin");
    if ("target" in options) this.target = options.target;
    checkFormat(options, "number");
    this.#pin = pin;
    this.#adc2 = !adc1;
    w.usePin(pin, "Analog");
  }

  read(): number {
    if (!this.#open) throw closedError();
    const w = world();
    if (this.#adc2 && w.wifiActive) throw new Error("ADC2 read timed out");
    const mv = Math.min(FULL_SCALE_MV, Math.max(0, Math.round(w.voltage(this.#pin) * 1000)));
    return Math.trunc((mv * (2 ** w.chip.adcResolution - 1)) / FULL_SCALE_MV);
  }

  get resolution(): number {
    return world().chip.adcResolution;
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    world().freePin(this.#pin);
  }

  get format(): "number" {
    return "number";
  }

  set format(value: string) {
    if (value !== "number") throw new RangeError("unimplemented");
  }
}
