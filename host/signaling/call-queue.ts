// The in-memory call queue of a standalone signaling server (goutils `memoryWebRTCCallQueue`): a
// caller's offer waits here for an answerer serving its host, then the two exchange candidates through
// the offer until both sides are done or the offer deadline passes.
import { randomUUID } from "node:crypto";
import type { IceCandidateJson } from "../webrtc/peer.js";
import { AsyncQueue } from "../webrtc/signaling-service.js";

/** What the caller sends the answerer (CallUpdate), in order. */
export type CallerEvent = { kind: "candidate"; candidate: IceCandidateJson } | { kind: "done" } | { kind: "error"; code: number; message: string };

/** What the answerer sends the caller (the Answer stream's responses), in order. */
export type AnswererEvent =
  | { kind: "init"; sdp: string }
  | { kind: "candidate"; candidate: IceCandidateJson }
  | { kind: "done" }
  | { kind: "error"; code: number; message: string };

/** One caller's offer, from Call until its deadline. */
export class Offer {
  readonly uuid = randomUUID();
  /** Milliseconds since the epoch. */
  readonly deadline: number;
  /** Ends (or fails) when the answerer is done; read by the Call stream. */
  readonly toCaller = new AsyncQueue<AnswererEvent>();
  /** Ends when the caller is done or failed; read by the Answer stream that took the offer. */
  readonly toAnswerer = new AsyncQueue<CallerEvent>();
  /** Aborts at the deadline, or when either side gives up on the exchange. */
  readonly signal: AbortSignal;
  /** Set once an answerer took the offer. */
  taken = false;
  callerFinished = false;
  readonly seq: number;
  private readonly abort = new AbortController();

  constructor(
    readonly host: string,
    readonly sdp: string,
    readonly disableTrickle: boolean,
    deadlineMs: number,
    seq: number,
  ) {
    this.deadline = Date.now() + deadlineMs;
    this.seq = seq;
    this.signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(deadlineMs)]);
  }

  /** Ends the exchange for both sides (e.g. one of them failed). */
  cancel(reason: string): void {
    this.abort.abort(new Error(reason));
  }

  /** A caller update; ignored once the caller said done or failed. */
  fromCaller(event: CallerEvent): void {
    if (this.callerFinished) return;
    this.toAnswerer.push(event);
    if (event.kind !== "candidate") {
      this.callerFinished = true;
      this.toAnswerer.end();
    }
  }
}

interface Waiter {
  hosts: ReadonlySet<string>;
  take(offer: Offer): void;
}

/**
 * Offers by host, answerers waiting for one, and the offers CallUpdate can still reach. An offer is
 * reachable by its uuid (for its host) until its deadline, or until the caller reports an error.
 */
export class CallQueue {
  private readonly pending = new Map<string, Offer[]>();
  private readonly waiters: Waiter[] = [];
  private readonly active = new Map<string, Offer>();
  private seq = 0;

  /** Queues an offer for `host` (or hands it straight to a waiting answerer). */
  enqueue(host: string, sdp: string, disableTrickle: boolean, deadlineMs: number): Offer {
    const offer = new Offer(host, sdp, disableTrickle, deadlineMs, this.seq++);
    this.active.set(offer.uuid, offer);
    const forget = () => {
      this.active.delete(offer.uuid);
      this.unqueue(offer);
    };
    if (offer.signal.aborted) forget();
    else offer.signal.addEventListener("abort", forget, { once: true });
    const i = this.waiters.findIndex((w) => w.hosts.has(host));
    if (i >= 0) {
      const [waiter] = this.waiters.splice(i, 1);
      offer.taken = true;
      waiter!.take(offer);
    } else {
      const list = this.pending.get(host) ?? [];
      list.push(offer);
      this.pending.set(host, list);
    }
    return offer;
  }

  /** The oldest offer for any of `hosts`, now or once one arrives; rejects when `signal` aborts. */
  receive(hosts: readonly string[], signal: AbortSignal): Promise<Offer> {
    let oldest: Offer | undefined;
    for (const host of hosts) {
      const first = this.pending.get(host)?.[0];
      if (first && (!oldest || first.seq < oldest.seq)) oldest = first;
    }
    if (oldest) {
      this.unqueue(oldest);
      oldest.taken = true;
      return Promise.resolve(oldest);
    }
    return new Promise<Offer>((resolve, reject) => {
      const waiter: Waiter = {
        hosts: new Set(hosts),
        take: (offer) => {
          signal.removeEventListener("abort", onAbort);
          resolve(offer);
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal.reason as Error);
      };
      if (signal.aborted) return reject(signal.reason as Error);
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** The live offer `uuid` for `host` (goutils looks offers up by host and uuid). */
  lookup(host: string, uuid: string): Offer | undefined {
    const offer = this.active.get(uuid);
    return offer?.host === host ? offer : undefined;
  }

  /** Makes an offer unreachable for CallUpdate (the caller reported an error). */
  forget(offer: Offer): void {
    this.active.delete(offer.uuid);
    this.unqueue(offer);
  }

  /** Answerers waiting for an offer (tests and status). */
  get waiting(): number {
    return this.waiters.length;
  }

  private unqueue(offer: Offer): void {
    const list = this.pending.get(offer.host);
    if (!list) return;
    const i = list.indexOf(offer);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.pending.delete(offer.host);
  }
}
