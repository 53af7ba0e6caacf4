// Moddable's `timer` module for Node (modules/base/timer/modTimer.c and mc/timer.c): set(callback,
// interval, repeat), repeat(callback, interval), schedule(timer[, interval, repeat]), clear(timer),
// delay(ms). Callbacks get the timer as their argument. Repeating timers do not drift (each due
// time is the previous one plus the interval). A one-shot timer is finished once its callback
// returns, unless the callback rescheduled it; clearing or scheduling a finished or cleared timer
// throws XS's host-data error, as on the board. Timer.delay blocks the thread, as it blocks the
// board. Node timers are tracked by the current world so that World.dispose() stops them.
import { world, type World } from "../world.js";
import { closedError } from "./common.js";

type Callback = (this: unknown, timer: Timer) => void;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function milliseconds(value: unknown): number {
  const ms = Math.trunc(Number(value)) || 0;
  return ms > 0 ? ms : 0;
}

export default class Timer {
  #world: World;
  #callback: Callback | undefined;
  #handle: NodeJS.Timeout | undefined;
  #due = 0;
  #repeat = 0;
  #firing = false;
  #rescheduled = false;

  private constructor(callback: Callback, interval: number, repeat: number) {
    if (typeof callback !== "function") throw new TypeError("callback is not a function");
    this.#world = world();
    this.#callback = callback;
    this.#repeat = repeat;
    this.#arm(interval);
  }

  #arm(interval: number): void {
    this.#disarm();
    const w = this.#world;
    this.#due = w.now() + interval;
    this.#schedule();
  }

  #schedule(): void {
    const w = this.#world;
    const handle = setTimeout(() => this.#fire(), Math.max(0, this.#due - w.now()));
    this.#handle = handle;
    w.trackTimer(handle);
  }

  #disarm(): void {
    if (this.#handle === undefined) return;
    clearTimeout(this.#handle);
    this.#world.untrackTimer(this.#handle);
    this.#handle = undefined;
  }

  #fire(): void {
    if (this.#handle !== undefined) this.#world.untrackTimer(this.#handle);
    this.#handle = undefined;
    const callback = this.#callback;
    if (callback === undefined) return;
    this.#firing = true;
    this.#rescheduled = false;
    try {
      callback.call(globalThis, this);
    } finally {
      this.#firing = false;
    }
    if (this.#callback === undefined || this.#rescheduled) return; // cleared, or scheduled anew
    if (this.#repeat > 0) {
      this.#due += this.#repeat;
      this.#schedule();
    } else {
      this.#callback = undefined; // a finished one-shot
    }
  }

  static #valid(timer: unknown): Timer {
    if (!(timer instanceof Timer)) throw new SyntaxError("C: xsGetHostData: no host object");
    if (timer.#callback === undefined) throw closedError();
    return timer;
  }

  static set(callback: Callback, interval?: number, repeat?: number): Timer {
    return new Timer(callback, milliseconds(interval), milliseconds(repeat));
  }

  static repeat(callback: Callback, interval: number): Timer {
    const ms = milliseconds(interval);
    return new Timer(callback, ms, ms);
  }

  /** With an interval: fire after it (then every `repeat` ms). Without: stop firing, stay valid. */
  static schedule(timer: Timer, interval?: number, repeat?: number): void {
    const t = Timer.#valid(timer);
    if (arguments.length === 1) {
      t.#disarm();
      return;
    }
    t.#repeat = milliseconds(repeat);
    t.#arm(milliseconds(interval));
    if (t.#firing) t.#rescheduled = true;
  }

  static clear(timer: Timer | undefined | null): void {
    if (typeof timer !== "object" || timer === null) return;
    const t = Timer.#valid(timer);
    t.#disarm();
    t.#callback = undefined;
  }

  static delay(ms: number): void {
    Atomics.wait(sleeper, 0, 0, milliseconds(ms));
  }
}
