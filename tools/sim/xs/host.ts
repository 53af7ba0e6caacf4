// The Node side of the XS engine: runs a firmware bundle (./bundle.ts) on real XS (xsnap, via
// ./xsnap.ts) and answers the guest's requests against a simulated World with the very shims the
// Node engine uses (tools/sim/shims/*, found through node-hooks' SHIMS map). The shims and the
// World stay the only model of the hardware: this file only marshals.
//
// Guest → host: the guest's ECMA-419 objects (./guest/*) call issueCommand synchronously; each
// request becomes a shim call made with the world current (./wire.ts has the message formats).
// Host → guest: what a board delivers asynchronously (timer callbacks, Digital onReadable, socket
// and serial onReadable/onWritable/onError, Wi-Fi and mDNS messages) comes from the shims' own Node timers and immediates; each is delivered
// into XS as one handleCommand event, run to completion (with its promise jobs) before the next.
// An exception escaping a guest callback is reported (onError, `errors`) and the host goes on.
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SHIMS } from "../node-hooks.js";
import { setWorld, type World } from "../world.js";
import { Event, Op, Reply, decode, encode, type WireValue } from "./wire.js";
import { XsnapWorker, type XsnapOptions } from "./xsnap.js";

/** The XS heap in use, from a snapshot of the machine (which collects garbage first). */
export interface XsHeapUsage {
  /** Live chunk bytes (strings, bytecode, array and buffer storage…), as XS counts currentChunksSize. */
  chunkBytes: number;
  /** Live slots (every object, property, closure variable… is one or more slots). */
  slots: number;
  /** Bytes per slot on this host: 32 on 64-bit Linux, where an ESP32 has 16. */
  slotSize: number;
  /** slots × slotSize */
  slotBytes: number;
}

/**
 * Measures the XS heap of a worker: writes a snapshot (XS collects garbage first) and reads the
 * sizes of its chunk area (BLOC) and slot area (HEAP). These are xsnap's figures on a 64-bit host:
 * pointers are 8 bytes, so slots are 32 bytes and chunks holding pointers (arrays, closures'
 * variable tables) are larger than on a 32-bit ESP32; the counts of slots are comparable.
 */
export function xsHeapUsage(worker: XsnapWorker | XsHost): XsHeapUsage {
  const w = worker instanceof XsHost ? worker.worker : worker;
  const path = join(tmpdir(), "sprocket-heap-" + randomBytes(6).toString("hex") + ".xss");
  try {
    w.snapshot(path);
    const snapshot = readFileSync(path);
    let slotSize = 0;
    let chunkBytes = 0;
    let heapBytes = 0;
    for (let offset = 8; offset + 8 <= snapshot.length; ) {
      const size = snapshot.readUInt32BE(offset);
      const type = snapshot.toString("latin1", offset + 4, offset + 8);
      if (type === "VERS") slotSize = Math.abs(snapshot.readInt8(offset + 11));
      else if (type === "BLOC") chunkBytes = size - 8;
      else if (type === "HEAP") heapBytes = size - 8;
      if (size < 8) break;
      offset += size;
    }
    if (slotSize === 0) throw new Error("not an XS snapshot");
    return { chunkBytes, slots: heapBytes / slotSize, slotSize, slotBytes: heapBytes };
  } finally {
    rmSync(path, { force: true });
  }
}

/** An exception thrown inside XS, with the guest's class name, message and XS stack. */
export class XsGuestError extends Error {
  /** The XS stack trace (lines like ` at f (#1:120)`: #1 is the bundle, then its line). */
  readonly guestStack: string;
  /** What the guest was doing: "evaluation", or the callback that threw ("onReadable", "timer"). */
  readonly during: string;

  constructor(name: string, message: string, guestStack: string, during: string) {
    super(message);
    this.name = name;
    this.guestStack = guestStack;
    this.during = during;
  }
}

export interface XsHostOptions extends Pick<XsnapOptions, "debug" | "meteringLimit" | "name" | "stdout"> {
  world: World;
  /** The script from bundleFirmware(). */
  bundle: string;
  /** Moddable's trace() output; by default kept in `traced`. */
  onTrace?: (text: string) => void;
  /**
   * An exception escaped a guest callback (an XsGuestError), or the worker died while handling
   * one (an XsnapExit); by default written to stderr. Either way it is kept in `errors`.
   */
  onError?: (error: Error) => void;
}

type ShimClass = (new (options: Record<string, unknown>) => object) & Record<string, unknown>;
type Message = unknown[];

let shimClasses: Map<string, ShimClass> | undefined;

/** The shim class behind each Moddable module name, as the Node engine's resolve hook maps them. */
async function loadShims(): Promise<Map<string, ShimClass>> {
  if (shimClasses === undefined) {
    const map = new Map<string, ShimClass>();
    const base = new URL("../node-hooks.js", import.meta.url);
    for (const [specifier, path] of Object.entries(SHIMS)) {
      const module = (await import(new URL(path, base).href)) as { default: ShimClass };
      map.set(specifier, module.default);
    }
    shimClasses = map;
  }
  return shimClasses;
}

function errorParts(error: unknown): [string, string] {
  if (error instanceof Error) return [error.name, error.message];
  return ["Error", String(error)];
}

export class XsHost {
  readonly world: World;
  readonly worker: XsnapWorker;
  /** Exceptions that escaped guest callbacks (and a worker's death during one), oldest first. */
  readonly errors: Error[] = [];
  /** trace() output when no onTrace was given. */
  traced = "";
  /** The heap of the bare XS machine, before the bundle was evaluated. */
  readonly baseline: XsHeapUsage;
  /** The heap right after the bundle was evaluated (module code and top-level state). */
  readonly loaded: XsHeapUsage;

  readonly #shims: Map<string, ShimClass>;
  readonly #objects = new Map<number, object>();
  readonly #handles = new Map<object, number>();
  #nextHandle = 1;
  readonly #queue: Message[] = [];
  #delivering = false;
  #closed = false;
  readonly #onTrace: (text: string) => void;
  readonly #onError: (error: Error) => void;
  readonly #encodeOptions = { refOf: (value: object) => this.#handles.get(value) };
  readonly #decodeOptions = {
    deref: (handle: number) => {
      const object = this.#objects.get(handle);
      if (object === undefined) throw new SyntaxError("C: xsGetHostData: no host object");
      return object;
    },
  };

  /** Starts an xsnap worker and evaluates the bundle in it; throws (and stops the worker) if that fails. */
  static async start(options: XsHostOptions): Promise<XsHost> {
    return new XsHost(options, await loadShims());
  }

  private constructor(options: XsHostOptions, shims: Map<string, ShimClass>) {
    this.world = options.world;
    this.#shims = shims;
    this.#onTrace = options.onTrace ?? ((text) => (this.traced = (this.traced + text).slice(-65536)));
    this.#onError =
      options.onError ??
      ((error) => {
        const where = error instanceof XsGuestError ? ` in ${error.during}: ${error.message}\n${error.guestStack}` : ": " + error.message;
        process.stderr.write(`XS: ${error.name}${where}\n`);
      });
    this.worker = new XsnapWorker({ ...options, onQuery: (message) => this.#answer(message) });
    try {
      this.baseline = xsHeapUsage(this.worker);
      this.#delivering = true; // callbacks a shim makes meanwhile wait for the end of the evaluation
      try {
        this.worker.evaluate(options.bundle);
      } finally {
        this.#delivering = false;
      }
      this.#drain();
      this.loaded = xsHeapUsage(this.worker);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Whether the worker runs. */
  get alive(): boolean {
    return !this.#closed && this.worker.alive;
  }

  /**
   * Runs `body` (the body of a function of `modules`, the modules the bundle exposed) in XS and
   * returns what it returns (JSON-like values, ArrayBuffers). Throws XsGuestError for an
   * exception in XS.
   */
  run<T = unknown>(body: string): T {
    return this.#post([Event.EVAL, body], "evaluation") as T;
  }

  /** A full garbage collection in XS (also runs FinalizationRegistry callbacks, which release host objects). */
  collectGarbage(): void {
    this.#post([Event.GC], "gc");
  }

  /** The XS heap now (see xsHeapUsage). */
  heap(): XsHeapUsage {
    return xsHeapUsage(this.worker);
  }

  /** Stops the worker and the timers the guest had running. IO objects stay as they are in the World. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const Timer = this.#shims.get("timer");
    for (const object of this.#objects.values()) {
      if (Timer !== undefined && object instanceof Timer) {
        try {
          (Timer.clear as (t: object) => void)(object);
        } catch {
          // finished already
        }
      }
    }
    this.#objects.clear();
    this.#handles.clear();
    this.worker.close();
  }

  // Host → guest --------------------------------------------------------------------------------

  /** Sends one event now, or after the current one when XS is busy; returns the guest's result. */
  #post(event: Message, during: string): unknown {
    if (this.#closed) throw new Error("the XS engine is closed");
    if (this.#delivering) {
      // A shim called back while XS was running: deliver it once XS is done.
      if (event[0] !== Event.CALLBACK) throw new Error("XS is busy: run() cannot be called from inside a guest request");
      this.#queue.push(event);
      return undefined;
    }
    this.#delivering = true;
    let result: unknown;
    try {
      result = this.#send(event, during, true);
    } finally {
      this.#delivering = false;
    }
    this.#drain();
    return result;
  }

  /** Delivers the callbacks that shims made while XS was busy, in order. */
  #drain(): void {
    while (this.#queue.length > 0 && !this.#closed && !this.#delivering) {
      this.#delivering = true;
      try {
        this.#send(this.#queue.shift() as Message, "callback", false);
      } finally {
        this.#delivering = false;
      }
    }
  }

  #send(event: Message, during: string, throwErrors: boolean): unknown {
    const previous = setWorld(this.world);
    let reply: unknown[];
    try {
      reply = decode(this.worker.command(encode(event, this.#encodeOptions)), this.#decodeOptions) as unknown[];
    } finally {
      setWorld(previous);
    }
    if (reply[0] === Reply.OK) return reply[1];
    const what = event[0] === Event.CALLBACK ? String(event[2]) : during;
    const error = new XsGuestError(String(reply[1]), String(reply[2]), String(reply[3] ?? ""), what);
    if (throwErrors && event[0] !== Event.CALLBACK) throw error;
    this.errors.push(error);
    this.#onError(error);
    return undefined;
  }

  /** A shim's callback fired (a timer, an edge…): call the guest's. */
  #deliver(handle: number, name: string, args: unknown[]): void {
    if (this.#closed || !this.worker.alive) return;
    try {
      this.#post([Event.CALLBACK, handle, name, args as WireValue[]], name);
    } catch (error) {
      // The worker died (or the bridge failed) while delivering: report it, never throw into the shim's timer.
      const failure = error instanceof Error ? error : new Error(String(error));
      this.errors.push(failure);
      this.#onError(failure);
      if (!this.worker.alive) this.close();
    }
  }

  // Guest → host --------------------------------------------------------------------------------

  #answer(message: Uint8Array): ArrayBuffer {
    const previous = setWorld(this.world);
    try {
      const request = decode(message, this.#decodeOptions) as Message;
      return encode([Reply.OK, this.#dispatch(request) as WireValue], this.#encodeOptions);
    } catch (error) {
      const [name, text] = errorParts(error);
      return encode([Reply.ERROR, name, text]);
    } finally {
      setWorld(previous);
    }
  }

  #shim(module: unknown): ShimClass {
    const shim = this.#shims.get(String(module));
    if (shim === undefined) throw new Error(`no simulator shim for module "${String(module)}"`);
    return shim;
  }

  #object(handle: unknown): Record<string, unknown> {
    const object = this.#objects.get(handle as number);
    if (object === undefined) throw new SyntaxError("C: xsGetHostData: no host object");
    return object as Record<string, unknown>;
  }

  #adopt(object: object, handle = this.#nextHandle++): number {
    this.#objects.set(handle, object);
    this.#handles.set(object, handle);
    return handle;
  }

  /** Replaces the function arguments the guest listed (sent as undefined) by functions that deliver to it; returns their handles. */
  #callbackArgs(args: unknown[], indices: number[] | undefined): number[] {
    if (indices === undefined) return [];
    return indices.map((index) => {
      const handle = this.#nextHandle++;
      args[index] = (...a: unknown[]) => this.#deliver(handle, "callback", a);
      return handle;
    });
  }

  /**
   * A shim object a method returned that the guest has not seen (a Listener's accepted TCP): kept
   * under a new handle, so it crosses as a reference and the guest can adopt it (`new TCP({from})`).
   */
  #adoptReturned(value: unknown): unknown {
    if (typeof value !== "object" || value === null || this.#handles.has(value)) return value;
    for (const Shim of this.#shims.values()) {
      if (value instanceof Shim) {
        this.#adopt(value);
        break;
      }
    }
    return value;
  }

  #dispatch(request: Message): unknown {
    switch (request[0]) {
      case Op.NEW: {
        const [, module, options, callbacks, trailing] = request as [number, string, Record<string, unknown> | undefined, string[], string | undefined];
        const Shim = this.#shim(module) as unknown as new (options: unknown, callback?: unknown) => object;
        const handle = this.#nextHandle++;
        const withCallbacks: Record<string, unknown> | undefined = options === undefined ? undefined : { ...options };
        let second: unknown = undefined;
        for (const name of callbacks) {
          const deliver = (...args: unknown[]) => this.#deliver(handle, name, args);
          if (name === trailing) second = deliver;
          else if (withCallbacks !== undefined) withCallbacks[name] = deliver;
        }
        return this.#adopt(trailing === undefined ? new Shim(withCallbacks) : new Shim(withCallbacks, second), handle);
      }
      case Op.CALL: {
        const [, handle, method, args, out, callbackArgs] = request as [number, number, string, unknown[], number[], number[] | undefined];
        const object = this.#object(handle);
        const fn = method === "constructor" ? undefined : object[method];
        if (typeof fn !== "function") throw new TypeError(`call ${method}: not a function`);
        for (const index of out) if (args[index] instanceof ArrayBuffer) args[index] = new Uint8Array(args[index]);
        const callbackHandles = this.#callbackArgs(args, callbackArgs);
        const result = this.#adoptReturned((fn as (...a: unknown[]) => unknown).apply(object, args));
        return [result, out.map((index) => args[index]), callbackHandles];
      }
      case Op.GET: {
        const [, handle, property] = request as [number, number, string];
        return this.#object(handle)[property];
      }
      case Op.SET: {
        const [, handle, property, value] = request as [number, number, string, unknown];
        this.#object(handle)[property] = value;
        return undefined;
      }
      case Op.STATIC: {
        const [, module, method, args, callbackArgs] = request as [number, string, string, unknown[], number[] | undefined];
        const Shim = this.#shim(module);
        const fn = Object.hasOwn(Shim, method) ? Shim[method] : undefined;
        if (typeof fn !== "function") throw new TypeError(`${String(module)}.${method}: not a function`);
        if (callbackArgs === undefined) return (fn as (...a: unknown[]) => unknown).apply(Shim, args);
        const callbackHandles = this.#callbackArgs(args, callbackArgs);
        return [this.#adoptReturned((fn as (...a: unknown[]) => unknown).apply(Shim, args)), callbackHandles];
      }
      case Op.STATIC_GET: {
        const [, module, property] = request as [number, string, string];
        const Shim = this.#shim(module);
        if (!Object.hasOwn(Shim, property)) throw new TypeError(`${String(module)}.${property}: no such static property`);
        return Shim[property];
      }
      case Op.STATIC_SET: {
        const [, module, property, value] = request as [number, string, string, unknown];
        const Shim = this.#shim(module);
        if (!Object.hasOwn(Shim, property)) throw new TypeError(`${String(module)}.${property}: no such static property`);
        Shim[property] = value;
        return undefined;
      }
      case Op.TIMER: {
        const [, kind, isFunction, args] = request as [number, "set" | "repeat", boolean, unknown[]];
        const Timer = this.#shim("timer");
        const handle = this.#nextHandle++;
        const callback = isFunction ? () => this.#deliver(handle, "timer", []) : undefined;
        const timer = (Timer[kind] as (...a: unknown[]) => object)(callback, ...args);
        return this.#adopt(timer, handle);
      }
      case Op.RELEASE: {
        // The guest collected these objects: what XS does with a host object's destructor.
        const Timer = this.#shim("timer");
        for (const handle of request[1] as number[]) {
          const object = this.#objects.get(handle) as Record<string, unknown> | undefined;
          if (object === undefined) continue;
          this.#objects.delete(handle);
          this.#handles.delete(object);
          try {
            if (object instanceof Timer) (Timer.clear as (t: object) => void)(object);
            else if (typeof object.close === "function") (object.close as () => void)();
          } catch {
            // closed, cleared or finished already
          }
        }
        return undefined;
      }
      case Op.TRACE:
        this.#onTrace(String(request[1]));
        return undefined;
      default:
        throw new Error("unknown bridge request " + String(request[0]));
    }
  }
}
