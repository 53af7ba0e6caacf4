// Moddable's timer module on XS. Each guest Timer has a twin made by the Node shim
// (tools/sim/shims/timer.ts) on the host, which keeps the time, the repeat and the validity rules
// (drift-free repeats, errors for finished or cleared timers); when it fires, the host delivers the
// callback here. Timer.delay blocks in the host, as it blocks a board.
import { adopt, callStatic, forget, request } from "./bridge.js";
import { Op } from "../wire.js";

const MODULE = "timer";

type Callback = (this: unknown, timer: Timer) => void;

export default class Timer {
  /** Milliseconds between repeats (0 for a one-shot), as last set here. */
  #repeat = 0;
  /** Whether the current callback scheduled this timer again (then it is not finished). */
  #rescheduled = false;
  #firing = false;

  private constructor(kind: "set" | "repeat", callback: Callback, args: unknown[]) {
    const handle = request([Op.TIMER, kind, typeof callback === "function", args as number[]]) as number;
    this.#repeat = kind === "repeat" ? Math.trunc(Number(args[0])) || 0 : Math.trunc(Number(args[1])) || 0;
    adopt(handle, this, {
      timer: () => {
        this.#firing = true;
        this.#rescheduled = false;
        try {
          callback.call(globalThis, this);
        } finally {
          this.#firing = false;
          // The host's timer is finished after a one-shot callback that did not schedule it again.
          if (this.#repeat <= 0 && !this.#rescheduled) forget(this);
        }
      },
    });
  }

  static set(callback: Callback, ...args: unknown[]): Timer {
    return new Timer("set", callback, args);
  }

  static repeat(callback: Callback, ...args: unknown[]): Timer {
    return new Timer("repeat", callback, args);
  }

  static schedule(timer: Timer, ...args: unknown[]): void {
    callStatic(MODULE, "schedule", [timer, ...args]);
    if (args.length > 0 && timer instanceof Timer) {
      timer.#repeat = Math.trunc(Number(args[1])) || 0;
      if (timer.#firing) timer.#rescheduled = true;
    }
  }

  static clear(timer: Timer | undefined | null): void {
    callStatic(MODULE, "clear", [timer]);
    if (timer instanceof Timer) forget(timer);
  }

  static delay(...args: unknown[]): void {
    callStatic(MODULE, "delay", args);
  }
}
