// Two small plumbing pieces shared by the server and the client, written in
// plain ECMAScript so they run on Moddable XS too:
// - AsyncQueue: complete messages waiting for a consumer (an AsyncIterable);
// - Outbox: the single ordered writer of one channel, with backpressure.

/** A single-consumer queue exposed as an async iterable. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private head = 0;
  private waiters: { resolve(r: IteratorResult<T>): void; reject(err: unknown): void }[] = [];
  private ended = false;
  private failed = false;
  private error: unknown = undefined;

  get size(): number {
    return this.items.length - this.head;
  }

  /** False once the queue has ended or failed (the value is dropped). */
  push(value: T): boolean {
    if (this.ended) return false;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve({ done: false, value });
    else this.items.push(value);
    return true;
  }

  /** No more values: the consumer drains what is buffered, then sees the end. */
  end(): void {
    this.finishWith(false, undefined, false);
  }

  /** Ends with an error; buffered values are delivered first unless `dropBuffered`. */
  fail(err: unknown, dropBuffered = false): void {
    this.finishWith(true, err, dropBuffered);
  }

  /** Ends and throws away anything buffered (nobody will read it). */
  discard(): void {
    this.finishWith(false, undefined, true);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head];
      this.items[this.head] = undefined as T; // let it be collected
      this.head++;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.ended) {
      return this.failed ? Promise.reject(this.error) : Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    // `return` (a `break` out of for-await) leaves the queue alone, so a unary
    // handler can take the first message and a later loop can resume.
    return {
      next: () => this.next(),
      return: () => Promise.resolve({ done: true, value: undefined }),
    };
  }

  private finishWith(failed: boolean, err: unknown, dropBuffered: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.failed = failed;
    this.error = err;
    if (dropBuffered) {
      this.items = [];
      this.head = 0;
    }
    // Waiters exist only when the buffer is empty.
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (failed) w.reject(err);
      else w.resolve({ done: true, value: undefined });
    }
  }
}

/** Send function of a channel: a returned Promise means "wait before sending more". */
export type SendFn = (bytes: Uint8Array) => void | Promise<void>;

interface Waiter {
  remaining: number;
  settled: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

interface OutItem<F> {
  frame: F;
  streamId: bigint;
  /** Message packets may be dropped when their stream is cancelled; headers, trailers and resets never are. */
  droppable: boolean;
  waiter: Waiter | undefined;
}

function isThenable(v: unknown): v is PromiseLike<void> {
  return v !== null && typeof v === "object" && typeof (v as { then?: unknown }).then === "function";
}

/**
 * Serializes every frame of one channel through `send`, in enqueue order,
 * encoding each frame only when it is about to be sent (so a 32 MiB message
 * waiting on backpressure is not held twice). A synchronous `send` is called
 * synchronously; a Promise from `send` pauses the queue until it settles.
 */
export class Outbox<F> {
  private items: OutItem<F>[] = [];
  private head = 0;
  private pumping = false;
  private closed = false;

  constructor(
    private readonly encode: (frame: F) => Uint8Array,
    private readonly send: SendFn,
    /** A frame nobody awaits could not be sent. */
    private readonly onError: (err: unknown) => void,
  ) {}

  get pending(): number {
    return this.items.length - this.head;
  }

  /** Queues one frame nobody waits for. Ignored once the outbox is closed. */
  push(frame: F, streamId: bigint, droppable = false): void {
    if (this.closed) return;
    this.items.push({ frame, streamId, droppable, waiter: undefined });
    this.pump();
  }

  /** Queues frames; resolves once `send` has taken them all (and its Promises settled). */
  pushAll(frames: F[], streamId: bigint, droppable: boolean, closedError: unknown): Promise<void> {
    if (this.closed) return Promise.reject(closedError);
    if (frames.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { remaining: frames.length, settled: false, resolve, reject };
      for (const frame of frames) this.items.push({ frame, streamId, droppable, waiter });
      this.pump();
    });
  }

  /** Drops the not-yet-sent droppable frames of a stream; their waiters reject with `err`. */
  dropStream(streamId: bigint, err: unknown): void {
    let kept = this.head;
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i];
      if (item.streamId === streamId && item.droppable) fail(item.waiter, err);
      else this.items[kept++] = item;
    }
    this.items.length = kept;
  }

  /** Drops everything not yet sent and refuses new frames (the channel is gone). */
  close(err: unknown): void {
    this.closed = true;
    for (let i = this.head; i < this.items.length; i++) fail(this.items[i].waiter, err);
    this.items = [];
    this.head = 0;
  }

  private pump(): void {
    // Re-entrant calls (send calling back into us) just add to the queue.
    if (this.pumping) return;
    this.pumping = true;
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      this.items[this.head] = undefined as unknown as OutItem<F>;
      this.head++;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      }
      let result: void | Promise<void>;
      try {
        result = this.send(this.encode(item.frame));
      } catch (err) {
        this.failed(item, err);
        continue;
      }
      if (isThenable(result)) {
        result.then(
          () => {
            done(item.waiter);
            this.pumping = false;
            this.pump();
          },
          (err: unknown) => {
            this.failed(item, err);
            this.pumping = false;
            this.pump();
          },
        );
        return;
      }
      done(item.waiter);
    }
    this.pumping = false;
  }

  private failed(item: OutItem<F>, err: unknown): void {
    if (item.waiter) fail(item.waiter, err);
    else this.onError(err);
  }
}

function done(waiter: Waiter | undefined): void {
  if (!waiter || waiter.settled) return;
  if (--waiter.remaining === 0) {
    waiter.settled = true;
    waiter.resolve();
  }
}

function fail(waiter: Waiter | undefined, err: unknown): void {
  if (!waiter || waiter.settled) return;
  waiter.settled = true;
  waiter.reject(err);
}
