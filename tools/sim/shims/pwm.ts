// embedded:io/pwm for Node, after Moddable's ESP32 PWM (modules/io/pwm/esp32/_pwm.c) on the LEDC
// peripheral: defaults 1024 Hz and 10 bits; channels 4-7 only; the four LEDC timers are shared by
// outputs with the same frequency and resolution; write(2^resolution − 1) means always on.
import { world } from "../world.js";
import { checkFormat, closedError, pinNumber } from "./common.js";

const LOW_RES = 8;
const APB_HZ = 80_000_000;

export interface PWMOptions {
  pin: number;
  hz?: number;
  resolution?: number;
  /** An LEDC channel number (Moddable calls it port). */
  port?: number;
  format?: "number";
  target?: unknown;
}

export default class PWM {
  target?: unknown;
  #pin: number;
  #open = true;

  constructor(options: PWMOptions) {
    const w = world();
    const pin = pinNumber(options.pin);
    if (!w.isPinValid(pin) || w.chip.inputOnly.has(pin)) throw new RangeError("invalid pin");
    if (!w.isPinFree(pin)) throw new Error("in use");
    const ledc = w.ledc;
    let channel = -1;
    if (options.port !== undefined) {
      channel = Math.trunc(Number(options.port));
      if (!(channel >= 0 && channel < 8)) throw new RangeError("invalid port");
      if (!(ledc.freeChannels & (1 << channel))) throw new Error("port unavailable");
    }
    let hz = 1024;
    if (options.hz !== undefined) {
      hz = Math.trunc(Number(options.hz));
      if (!(hz > 0)) throw new RangeError("invalid hz");
    }
    let resolution = 10;
    if (options.resolution !== undefined) {
      resolution = Math.trunc(Number(options.resolution));
      if (!(resolution > 0 && resolution < w.chip.ledcBitMax)) throw new RangeError("invalid resolution");
    }
    checkFormat(options, "number");
    const minHz = w.chip.pwmMinHz[resolution - LOW_RES];
    if (minHz !== undefined && hz < minHz) throw new RangeError("invalid combination of hz and resolution");
    if (channel < 0) {
      for (channel = 0; channel < 8; channel++) if (ledc.freeChannels & (1 << channel)) break;
      if (channel === 8) throw new Error("no ledc channel");
    }
    let timer = ledc.timers.findIndex((t) => t.useCount > 0 && t.hz === hz && t.resolution === resolution);
    if (timer < 0) {
      timer = ledc.timers.findIndex((t) => t.useCount === 0);
      if (timer < 0) throw new RangeError("no timer");
      // ledc_timer_config: the APB clock must divide into at least one tick per count.
      if (hz * 2 ** resolution > APB_HZ) throw new Error("configure ledc timer failed");
    }
    if ("target" in options) this.target = options.target;

    ledc.timers[timer] = { useCount: ledc.timers[timer].useCount + 1, hz, resolution };
    ledc.freeChannels &= ~(1 << channel);
    ledc.outputs.set(pin, { pin, channel, timer, duty: 0 });
    w.usePin(pin, "PWM");
    this.#pin = pin;
  }

  #output() {
    const output = this.#open ? world().ledc.outputs.get(this.#pin) : undefined;
    if (output === undefined) throw closedError();
    return output;
  }

  write(value: number): void {
    const output = this.#output();
    const max = 2 ** world().ledc.timers[output.timer].resolution - 1;
    let duty = Math.trunc(Number(value));
    if (!(duty >= 0 && duty <= max)) throw new RangeError("invalid value");
    if (duty === max) duty += 1;
    output.duty = duty;
  }

  get hz(): number {
    return world().ledc.timers[this.#output().timer].hz;
  }

  get resolution(): number {
    return world().ledc.timers[this.#output().timer].resolution;
  }

  close(): void {
    if (!this.#open) return;
    const w = world();
    const output = this.#output();
    this.#open = false;
    const timer = w.ledc.timers[output.timer];
    timer.useCount -= 1;
    if (timer.useCount === 0) timer.hz = timer.resolution = 0;
    w.ledc.freeChannels |= 1 << output.channel;
    w.ledc.outputs.delete(this.#pin);
    w.gpio.configure(this.#pin, "output"); // ledc_stop(…, 0) leaves the pin a low output
    w.freePin(this.#pin);
  }

  get format(): "number" {
    return "number";
  }

  set format(value: string) {
    if (value !== "number") throw new RangeError("unimplemented");
  }
}
