// The XS side of the bridge: the first module of every XS bundle. It runs on xsnap's XS, never on
// Node, and uses no Node or DOM API.
//
// - Takes xsnap's own globals (issueCommand, print, gc, TextEncoder…) for itself and removes them
//   from globalThis, so firmware sees what a Moddable board offers and not more; adds what a board
//   has and xsnap lacks (trace, ArrayBuffer.fromString, String.fromArrayBuffer).
// - request(): a synchronous call to the Node host (xsnap's issueCommand), encoded with ../wire.
// - IOProxy: the base of the guest's ECMA-419 classes. Each instance stands for a shim object on
//   the host (tools/sim/shims/*) and forwards constructor, methods and accessors to it, so the
//   shims stay the only model of the hardware. Its callbacks (onReadable…) are called when the host
//   delivers them as events.
// - handleCommand: xsnap's entry point for host → guest messages (callbacks, evaluation, gc).
import { Event, Op, Reply, decode, encode, type WireValue } from "../wire.js";

interface XsnapGlobals {
  issueCommand(message: ArrayBuffer): ArrayBuffer;
  gc(): void;
  TextEncoder: new () => { encode(text: string): Uint8Array };
  TextDecoder: new () => { decode(bytes: ArrayBuffer | Uint8Array): string };
}

const host = globalThis as unknown as XsnapGlobals & Record<string, unknown>;
const issueCommand = host.issueCommand;
const collectGarbage = host.gc;
const utf8Encoder = new host.TextEncoder();
const utf8Decoder = new host.TextDecoder();

/** Globals xsnap adds that a Moddable board does not have (Moddable's mc runtime offers none of them by default). */
export const XSNAP_ONLY_GLOBALS = [
  "issueCommand", "print", "gc", "performance", "currentMeterLimit", "resetMeter", "setImmediate",
  "TextEncoder", "TextDecoder", "Base64", "harden",
];
for (const name of XSNAP_ONLY_GLOBALS) delete host[name];

function defineGlobal(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });
}

// What a board has and xsnap's build (mxCESU8, no console) lacks.
defineGlobal(globalThis, "trace", function trace(...items: unknown[]): void {
  request([Op.TRACE, items.map(String).join("")]);
});
if (typeof (ArrayBuffer as unknown as Record<string, unknown>).fromString !== "function") {
  defineGlobal(ArrayBuffer, "fromString", function fromString(text: string): ArrayBuffer {
    const bytes = utf8Encoder.encode(String(text));
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  });
}
if (typeof (String as unknown as Record<string, unknown>).fromArrayBuffer !== "function") {
  defineGlobal(String, "fromArrayBuffer", function fromArrayBuffer(buffer: ArrayBuffer): string {
    return utf8Decoder.decode(buffer);
  });
}

// Handles -------------------------------------------------------------------------------------

interface Entry {
  /** The guest object, while the host may still call it back. */
  object: object;
  callbacks: Record<string, (...args: unknown[]) => void>;
}

/** Objects with live callbacks, by handle: kept alive while the host may call them (Moddable remembers such objects too). */
const live = new Map<number, Entry>();
/** Every guest object with a host twin → its handle, for marshalling it as a reference. */
const handles = new WeakMap<object, number>();
/** Handle → guest object, without keeping it alive. */
const objects = new Map<number, WeakRef<object>>();
// XS runs these cleanup callbacks between jobs of a crank, while the host still waits for XS's
// reply, so the release goes to the host at once.
const finalizer = new FinalizationRegistry<number>((handle) => {
  objects.delete(handle);
  issueCommand(encode([Op.RELEASE, [handle]]));
});

/** While a request may return a new host object: makes its guest twin (see IOProxy.callMaking). */
let makeTwin: ((handle: number) => object) | undefined = undefined;

const encodeOptions = { refOf: (value: object) => handles.get(value) };
const decodeOptions = {
  deref(handle: number): unknown {
    const object = objects.get(handle)?.deref();
    if (object !== undefined) return object;
    if (makeTwin !== undefined) {
      const twin = makeTwin(handle);
      adopt(handle, twin, undefined);
      return twin;
    }
    throw new Error("the host returned an object the guest does not know (handle " + handle + ")");
  },
};

const ERRORS: Record<string, new (message: string) => Error> = {
  Error, RangeError, TypeError, SyntaxError, ReferenceError, EvalError, URIError,
};

function errorOf(name: unknown, message: unknown): Error {
  const Constructor = ERRORS[String(name)] ?? Error;
  return new Constructor(String(message));
}

/** Sends a request to the host and returns its result; a host-side exception is thrown here with its class and message. */
export function request(message: WireValue[]): unknown {
  const reply = decode(issueCommand(encode(message, encodeOptions)), decodeOptions) as unknown[];
  if (reply[0] === Reply.OK) return reply[1];
  throw errorOf(reply[1], reply[2]);
}

/** Records `object` as the guest twin of host object `handle`, with the callbacks the host may deliver. */
export function adopt(handle: number, object: object, callbacks: Entry["callbacks"] | undefined): void {
  handles.set(object, handle);
  objects.set(handle, new WeakRef(object));
  finalizer.register(object, handle);
  if (callbacks !== undefined) live.set(handle, { object, callbacks });
}

/** The host will not call this object back any more (closed, cleared, a finished one-shot timer). */
export function forget(object: object): void {
  const handle = handles.get(object);
  if (handle !== undefined) live.delete(handle);
}

/** The host will not call this callback handle (from a function argument) any more. */
export function forgetCallback(handle: number): void {
  live.delete(handle);
}

/**
 * Function arguments cross as undefined plus their indices; the host answers with a handle for
 * each, under which it delivers the calls ("callback"). They stay live until forgetCallback().
 */
function splitCallbacks(args: unknown[]): { args: unknown[]; indices: number[] | undefined; functions: Method[] } {
  let indices: number[] | undefined;
  const functions: Method[] = [];
  let plain = args;
  for (let i = 0; i < args.length; i++) {
    if (typeof args[i] !== "function") continue;
    if (indices === undefined) {
      indices = [];
      plain = args.slice();
    }
    indices.push(i);
    functions.push(args[i] as Method);
    plain[i] = undefined;
  }
  return { args: plain, indices, functions };
}

function keepCallbacks(owner: object, handlesOfCallbacks: number[], functions: Method[]): number[] {
  handlesOfCallbacks.forEach((handle, i) => {
    const fn = functions[i];
    live.set(handle, { object: owner, callbacks: { callback: (...a) => void fn.apply(owner, a) } });
  });
  return handlesOfCallbacks;
}

export function handleOf(object: object): number | undefined {
  return handles.get(object);
}

// IO objects ----------------------------------------------------------------------------------

/**
 * The handle of an IO object's host twin. A function rather than a private method: twins of
 * objects the host made (TCP.twinOf) are not constructed through IOProxy, so they have no private
 * brand.
 */
function handleOfProxy(object: object): number {
  const handle = handles.get(object);
  if (handle === undefined) throw new SyntaxError("C: xsGetHostData: no host object");
  return handle;
}

type Method = (...args: unknown[]) => unknown;

/**
 * A guest ECMA-419 object whose host twin is the shim of the same module. Options that are
 * functions (onReadable, onWritable, onError…) stay here and are called when the host delivers
 * them, with the object as `this`; `target` stays here too. Everything else goes to the shim.
 */
export class IOProxy {
  target?: unknown;

  /**
   * `callback`: the constructor's second argument in Moddable's older network classes
   * (`new WiFi(options, callback)`, `new MDNS(options, callback)`); options may then be undefined.
   */
  constructor(module: string, options: Record<string, unknown> | undefined, callback?: unknown) {
    const trailing = typeof callback === "function";
    if (!trailing || options !== undefined) {
      if (options === null || typeof options !== "object") throw new TypeError("options required");
    }
    const plain: Record<string, WireValue> | undefined = options === undefined ? undefined : {};
    const callbacks: Record<string, Method> = {};
    if (options !== undefined && plain !== undefined) {
      for (const key of Object.keys(options)) {
        const value = options[key];
        if (typeof value === "function") callbacks[key] = value as Method;
        else if (key !== "target") plain[key] = value as WireValue;
      }
    }
    if (trailing) callbacks.callback = callback as Method;
    const message: WireValue[] = [Op.NEW, module, plain, Object.keys(callbacks)];
    if (trailing) message.push("callback");
    const handle = request(message) as number;
    if (options !== undefined && "target" in options) this.target = options.target;
    const bound: Entry["callbacks"] = {};
    for (const key of Object.keys(callbacks)) bound[key] = (...args) => void callbacks[key].apply(this, args);
    adopt(handle, this, Object.keys(bound).length > 0 ? bound : undefined);
  }


  /**
   * Calls the shim's method. `out` lists arguments that are buffers the method fills: their bytes
   * are copied back. Function arguments stay here; the host calls them back as events.
   */
  protected call(method: string, args: unknown[], out?: number[]): unknown {
    const split = splitCallbacks(args);
    const message: WireValue[] = [Op.CALL, handleOfProxy(this), method, split.args as WireValue[], out ?? []];
    if (split.indices !== undefined) message.push(split.indices);
    const [result, filled, callbackHandles] = request(message) as [unknown, ArrayBuffer[], number[]];
    if (split.indices !== undefined) keepCallbacks(this, callbackHandles, split.functions);
    if (out !== undefined) {
      out.forEach((index, i) => {
        const target = args[index];
        const bytes = filled[i];
        if (bytes === undefined || target === null || typeof target !== "object") return;
        const into = ArrayBuffer.isView(target)
          ? new Uint8Array(target.buffer, target.byteOffset, target.byteLength)
          : new Uint8Array(target as ArrayBuffer);
        into.set(new Uint8Array(bytes).subarray(0, into.length));
      });
    }
    return result;
  }

  /** Calls a shim method that may return a new shim object; `make` builds its guest twin (not constructed through the host). */
  protected callMaking(method: string, args: unknown[], make: (handle: number) => object): unknown {
    makeTwin = make;
    try {
      return this.call(method, args);
    } finally {
      makeTwin = undefined;
    }
  }

  protected get(property: string): unknown {
    return request([Op.GET, handleOfProxy(this), property]);
  }

  protected set(property: string, value: unknown): void {
    request([Op.SET, handleOfProxy(this), property, value as WireValue]);
  }

  /** close(): the shim's close, after which the host delivers no more callbacks. */
  close(): void {
    this.call("close", []);
    forget(this);
  }
}

/** Calls a static method of the shim class of `module`. */
export function callStatic(module: string, method: string, args: unknown[]): unknown {
  return request([Op.STATIC, module, method, args as WireValue[]]);
}

/**
 * Calls a static method that takes callbacks (`Net.resolve(name, callback)`): they stay here and
 * are called when the host delivers them. Returns the result and the callbacks' handles, for
 * forgetCallback() once the last call has come.
 */
export function callStaticWithCallbacks(module: string, method: string, args: unknown[]): { result: unknown; callbacks: number[] } {
  const split = splitCallbacks(args);
  if (split.indices === undefined) return { result: callStatic(module, method, args), callbacks: [] };
  const [result, callbackHandles] = request([Op.STATIC, module, method, split.args as WireValue[], split.indices]) as [unknown, number[]];
  return { result, callbacks: keepCallbacks(globalThis, callbackHandles, split.functions) };
}

/** A static accessor of the shim class of `module` (WiFi.mode). */
export function getStatic(module: string, property: string): unknown {
  return request([Op.STATIC_GET, module, property]);
}

export function setStatic(module: string, property: string, value: unknown): void {
  request([Op.STATIC_SET, module, property, value as WireValue]);
}

// Host → guest ----------------------------------------------------------------------------------

const exposed: Record<string, unknown> = {};

/** Makes a bundled module reachable from host evaluations as `modules[name]`. */
export function expose(name: string, namespace: unknown): void {
  exposed[name] = namespace;
}

function errorReply(error: unknown): ArrayBuffer {
  if (error instanceof Error) {
    return encode([Reply.ERROR, error.name, error.message, typeof error.stack === "string" ? error.stack : ""]);
  }
  let text: string;
  try {
    text = String(error);
  } catch {
    text = "(an exception that cannot be converted to a string)";
  }
  return encode([Reply.ERROR, "Error", "uncaught " + text, ""]);
}

function handleCommand(message: ArrayBuffer): ArrayBuffer {
  try {
    const event = decode(message, decodeOptions) as unknown[];
    switch (event[0]) {
      case Event.CALLBACK: {
        const entry = live.get(event[1] as number);
        const callback = entry?.callbacks[event[2] as string];
        if (callback !== undefined) callback(...(event[3] as unknown[]));
        return encode([Reply.OK, undefined]);
      }
      case Event.EVAL: {
        const body = event[1] as string;
        const run = (0, eval)("(function hostRun(modules) {\n" + body + "\n})") as (modules: Record<string, unknown>) => unknown;
        return encode([Reply.OK, run(exposed) as WireValue], encodeOptions);
      }
      case Event.GC:
        collectGarbage();
        return encode([Reply.OK, undefined]);
      default:
        throw new Error("unknown event " + String(event[0]));
    }
  } catch (error) {
    return errorReply(error);
  }
}

defineGlobal(globalThis, "handleCommand", handleCommand);
