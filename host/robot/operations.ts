// In-flight calls, for GetOperations, CancelOperation and BlockForOperation.
// Each call gets an id and an AbortSignal linked to the caller's, so cancelling the operation aborts the handler.
import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";

export interface Operation {
  readonly id: string;
  /** Full gRPC method path, `/pkg.Service/Method`. */
  readonly method: string;
  readonly arguments: JsonObject;
  readonly started: Date;
  readonly sessionId?: string;
}

interface Entry {
  op: Operation;
  controller: AbortController;
  done: Promise<void>;
  finish: () => void;
}

export class OperationManager {
  readonly #ops = new Map<string, Entry>();

  /** Registers a call; `signal` aborts when the caller goes away or the operation is cancelled. */
  start(method: string, args: JsonObject, callerSignal: AbortSignal, sessionId?: string): { op: Operation; signal: AbortSignal; end: () => void } {
    const controller = new AbortController();
    const onAbort = () => controller.abort(callerSignal.reason);
    if (callerSignal.aborted) controller.abort(callerSignal.reason);
    else callerSignal.addEventListener("abort", onAbort, { once: true });
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const op: Operation = { id: randomUUID(), method, arguments: args, started: new Date(), ...(sessionId ? { sessionId } : {}) };
    this.#ops.set(op.id, { op, controller, done, finish });
    return {
      op,
      signal: controller.signal,
      end: () => {
        callerSignal.removeEventListener("abort", onAbort);
        const entry = this.#ops.get(op.id);
        if (!entry) return;
        this.#ops.delete(op.id);
        entry.finish();
      },
    };
  }

  list(): Operation[] {
    return [...this.#ops.values()].map((e) => e.op);
  }

  /** Aborts the operation's handler; unknown ids are ignored, as in rdk. */
  cancel(id: string): void {
    // An AbortError, so a handler that fails with it answers CANCELLED (as rdk's context.Canceled), not UNKNOWN.
    this.#ops.get(id)?.controller.abort(new DOMException(`operation ${id} cancelled`, "AbortError"));
  }

  /** Resolves when the operation has finished (at once for unknown ids), or rejects when `signal` aborts first. */
  async block(id: string, signal: AbortSignal): Promise<void> {
    const entry = this.#ops.get(id);
    if (!entry) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      void entry.done.then(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }
}
