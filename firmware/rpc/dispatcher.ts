// The micro part's one dispatcher: every call of every connection arrives here by method path
// (`/viam.component.motor.v1.MotorService/SetPower`), is refused unless its connection has
// authenticated (only AuthService/Authenticate is open), counts as a heartbeat of its connection's
// session when it carries the session's `viam-sid` (firmware/runtime/sessions.ts), is found in the
// service table (unknown services and methods answer UNIMPLEMENTED, in grpc-go's words), is tracked
// as an operation while it runs (RobotService.GetOperations), and ends with the handler's response
// or its error's status.
//
// Handlers take the request message's bytes and return the response's bytes (unary), or send
// their own messages through the call (server streaming). A handler that throws a ChannelError
// sets the code; any other error answers UNKNOWN with its text, as on the host.
import { Code, OK_STATUS, statusFromError, ChannelError } from "../../proto/channel/frames.js";
import type { ServerCall } from "../../proto/channel/server.js";
import { errorText, log } from "../log.js";
import type { Actuator } from "../resource.js";
import type { Safety } from "../runtime/safety.js";

/** What a connection is, as calls see it. */
export interface ConnectionInfo {
  readonly id: number;
  /** "tcp 192.168.1.20:51234" or "uart 2". */
  readonly peer: string;
  /** Set by AuthService/Authenticate; the connection, not a token, is what is authenticated. */
  authenticated: boolean;
}

export interface CallContext {
  readonly connection: ConnectionInfo;
  readonly call: ServerCall;
  /** This call commands `actuator`: it stops if this connection drops before another takes over. */
  commanded(actuator: Actuator): void;
}

export type UnaryHandler = (request: Uint8Array, ctx: CallContext) => Uint8Array | Promise<Uint8Array>;
/** Sends its responses with ctx.call.sendMessage and resolves when the stream is complete. */
export type StreamingHandler = (request: Uint8Array, ctx: CallContext) => Promise<void>;

export interface ServiceDefinition {
  /** Fully qualified: "viam.component.board.v1.BoardService". */
  readonly name: string;
  readonly unary: { readonly [method: string]: UnaryHandler };
  readonly streaming?: { readonly [method: string]: StreamingHandler };
}

export interface Operation {
  readonly id: string;
  readonly method: string;
  /** Milliseconds since 1970. */
  readonly started: number;
  readonly connection: number;
  readonly call: ServerCall;
}

export const AUTHENTICATE_METHOD = "/proto.rpc.v1.AuthService/Authenticate";

/** A random version-4 UUID string (operation and session ids look like rdk's). */
export function uuid(): string {
  const hex = "0123456789abcdef";
  let out = "";
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) out += "-";
    else if (i === 14) out += "4";
    else if (i === 19) out += hex[8 + Math.floor(Math.random() * 4)];
    else out += hex[Math.floor(Math.random() * 16)];
  }
  return out;
}

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === "function";
}

export interface DispatcherOptions {
  services: readonly ServiceDefinition[];
  safety: Safety;
  /** Methods callable before Authenticate; default: Authenticate only. */
  open?: readonly string[];
}

export class Dispatcher {
  readonly operations = new Map<string, Operation>();
  readonly #services = new Map<string, ServiceDefinition>();
  readonly #safety: Safety;
  readonly #open: readonly string[];

  constructor(options: DispatcherOptions) {
    for (const s of options.services) this.#services.set(s.name, s);
    this.#safety = options.safety;
    this.#open = options.open ?? [AUTHENTICATE_METHOD];
  }

  /** Adds (or replaces) a service. */
  register(service: ServiceDefinition): void {
    this.#services.set(service.name, service);
  }

  get services(): readonly ServiceDefinition[] {
    return [...this.#services.values()];
  }

  /** Starts one call; never throws. */
  dispatch(call: ServerCall, connection: ConnectionInfo): void {
    const path = call.method;
    if (!connection.authenticated && this.#open.indexOf(path) < 0) {
      call.finish({ code: Code.UNAUTHENTICATED, message: "authentication required" });
      return;
    }
    this.#safety.sessions.noteCall(connection.id, call.metadata);
    const slash = path.lastIndexOf("/");
    if (path[0] !== "/" || slash <= 1) {
      call.finish({ code: Code.UNIMPLEMENTED, message: "malformed method name: " + JSON.stringify(path) });
      return;
    }
    const serviceName = path.slice(1, slash);
    const methodName = path.slice(slash + 1);
    const service = this.#services.get(serviceName);
    if (service === undefined) {
      call.finish({ code: Code.UNIMPLEMENTED, message: "unknown service " + serviceName });
      return;
    }
    const unary = Object.hasOwn(service.unary, methodName) ? service.unary[methodName] : undefined;
    const streaming = service.streaming !== undefined && Object.hasOwn(service.streaming, methodName) ? service.streaming[methodName] : undefined;
    if (unary === undefined && streaming === undefined) {
      call.finish({ code: Code.UNIMPLEMENTED, message: "unknown method " + methodName + " for service " + serviceName });
      return;
    }
    const id = uuid();
    const operation: Operation = { id, method: path, started: Date.now(), connection: connection.id, call };
    this.operations.set(id, operation);
    const safety = this.#safety;
    const ctx: CallContext = {
      connection,
      call,
      commanded: (actuator) => safety.commanded(actuator, connection.id),
    };
    this.#run(call, ctx, unary, streaming).then(
      () => this.operations.delete(id),
      (error: unknown) => {
        this.operations.delete(id);
        log("error", path + ": " + errorText(error));
      },
    );
  }

  async #run(call: ServerCall, ctx: CallContext, unary: UnaryHandler | undefined, streaming: StreamingHandler | undefined): Promise<void> {
    try {
      const first = await call.requests[Symbol.asyncIterator]().next();
      if (first.done) {
        call.finish({ code: Code.INVALID_ARGUMENT, message: "request message missing" });
        return;
      }
      if (unary !== undefined) {
        const result = unary(first.value, ctx);
        const response = isThenable(result) ? await result : result;
        if (call.finished) return;
        await call.sendMessage(response);
      } else if (streaming !== undefined) {
        await streaming(first.value, ctx);
      }
      call.finish(OK_STATUS);
    } catch (error) {
      if (!call.finished) call.finish(statusFromError(error));
      else if (!(error instanceof ChannelError)) log("warn", call.method + " after the call ended: " + errorText(error));
    }
  }
}
