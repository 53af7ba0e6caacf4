// A brushed DC motor behind an H-bridge, with a quadrature encoder on its shaft, wired to a
// simulated ESP32: it reads the bridge inputs the firmware drives (PWM duty on the enable pin, A/B
// or DIR levels), turns at duty × maxRpm in the direction they give, and drives the encoder's A and
// B pins through the quadrature sequence (A leads B when turning forward: 00 → 10 → 11 → 01).
// No inertia: the speed follows the inputs at once. At most one encoder step per millisecond, so
// edges never pile up faster than the firmware's interrupt deliveries.
import type { World } from "../world.js";

export interface DcMotorOptions {
  pins: { a?: number; b?: number; dir?: number; pwm: number };
  /** Speed at full duty. */
  maxRpm: number;
  /** Encoder pins and ticks per revolution (4 per line of a ×4 count). */
  encoder?: { a: number; b: number; ticksPerRotation: number };
}

const SEQUENCE: [0 | 1, 0 | 1][] = [
  [0, 0],
  [1, 0],
  [1, 1],
  [0, 1],
];

export class DcMotor {
  readonly #world: World;
  readonly #o: DcMotorOptions;
  /** Shaft position in ticks (fractional). */
  #position = 0;
  /** Ticks already shown on the encoder pins. */
  #shown = 0;
  #last: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(w: World, options: DcMotorOptions) {
    this.#world = w;
    this.#o = options;
    this.#last = w.now();
    if (options.encoder !== undefined) {
      w.gpio.drive(options.encoder.a, 0);
      w.gpio.drive(options.encoder.b, 0);
    }
    this.#timer = setInterval(() => this.#step(), 1);
    w.onDispose(() => this.stop());
  }

  /** Signed fraction of full speed the bridge asks for now: 0 when disabled or braking. */
  power(): number {
    const w = this.#world;
    const { pins } = this.#o;
    const duty = w.pwm(pins.pwm)?.dutyCycle ?? 0;
    if (duty === 0) return 0;
    if (pins.dir !== undefined) return w.gpio.level(pins.dir) ? duty : -duty;
    const a = pins.a === undefined ? 0 : w.gpio.level(pins.a);
    const b = pins.b === undefined ? 0 : w.gpio.level(pins.b);
    if (a === b) return 0; // both low: coasting; both high: braking
    return a ? duty : -duty;
  }

  /** Revolutions turned since the start. */
  revolutions(): number {
    const e = this.#o.encoder;
    return e === undefined ? this.#position : this.#position / e.ticksPerRotation;
  }

  #step(): void {
    const w = this.#world;
    const now = w.now();
    const dt = now - this.#last;
    this.#last = now;
    const rpm = this.power() * this.#o.maxRpm;
    const e = this.#o.encoder;
    const perRev = e?.ticksPerRotation ?? 1;
    this.#position += (rpm / 60_000) * dt * perRev;
    if (e === undefined) return;
    const target = Math.trunc(this.#position);
    if (target === this.#shown) return;
    this.#shown += target > this.#shown ? 1 : -1;
    const [a, b] = SEQUENCE[((this.#shown % 4) + 4) % 4];
    w.gpio.drive(e.a, a);
    w.gpio.drive(e.b, b);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
