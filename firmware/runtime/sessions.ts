// Sessions on a micro part: viam-server's (RobotService StartSession / SendSessionHeartbeat, spec
// §7.3) adapted to a part whose clients are connections. A session belongs to the connection that
// started it, and a connection has at most one (a new one replaces the old; resuming the live one
// returns it). The client keeps it alive with SendSessionHeartbeat, or with any call carrying its id
// as `viam-sid` metadata, at least once per heartbeat window. A session whose window passes without
// either lapses: the owner (Safety) stops what its connection commanded last, as when a connection
// drops, while the connection itself stays open and authenticated. That is what catches a host that
// died on a link that never closes: a UART, or a TCP connection whose peer vanished without a FIN.
//
// Cost: one repeating Timer while any session lives, none otherwise; a heartbeat or a call with
// `viam-sid` only records Date.now() on the session.
import Timer from "timer";
import { ChannelError, Code, type Metadata } from "../../proto/channel/frames.js";
import { DEFAULT_HEARTBEAT_WINDOW_MS } from "../config/schema.js";
import { log } from "../log.js";
import { uuid } from "../rpc/dispatcher.js";

/** The request metadata naming the caller's session (rdk `session.IDMetadataKey`). */
export const SESSION_ID_METADATA_KEY = "viam-sid";

/** rdk's `session.StatusNoSession`: INVALID_ARGUMENT with this exact message. */
export const SESSION_EXPIRED = "SESSION_EXPIRED";

export interface Session {
  readonly id: string;
  /** The id of the connection that started it. */
  readonly connection: number;
  readonly heartbeatWindowMs: number;
  /** Date.now() of the last sign of life: the start, a heartbeat, a call carrying the id. */
  lastSeen: number;
}

/** How often lapses are looked for: often enough to stop within about a window, not so often that a board notices. */
function checkPeriodMs(heartbeatWindowMs: number): number {
  return Math.max(10, Math.min(100, Math.floor(heartbeatWindowMs / 4)));
}

export class Sessions {
  /** The window of sessions started from now on (the config's network.sessions.heartbeat_window). */
  heartbeatWindowMs = DEFAULT_HEARTBEAT_WINDOW_MS;
  readonly #byConnection = new Map<number, Session>();
  readonly #onLapse: (session: Session) => void;
  #timer: Timer | undefined = undefined;
  #timerPeriodMs = 0;

  /** `onLapse` is told of each session that lapsed, after it has ended. */
  constructor(onLapse: (session: Session) => void) {
    this.#onLapse = onLapse;
  }

  /** Live sessions. */
  get size(): number {
    return this.#byConnection.size;
  }

  /** StartSession from `connection`: its live session when `resume` names it, else a new one in place of any other. */
  start(connection: number, resume: string): Session {
    const now = Date.now();
    this.#lapseOverdue(now);
    const current = this.#byConnection.get(connection);
    if (current !== undefined && resume !== "" && current.id === resume) {
      current.lastSeen = now;
      return current;
    }
    const session: Session = { id: uuid(), connection, heartbeatWindowMs: this.heartbeatWindowMs, lastSeen: now };
    this.#byConnection.set(connection, session);
    if (current !== undefined) log("info", "connection " + connection + ": session " + current.id + " replaced by " + session.id);
    else log("info", "connection " + connection + ": session " + session.id + " started (heartbeat window " + session.heartbeatWindowMs + " ms)");
    this.#watch(session.heartbeatWindowMs);
    return session;
  }

  /** SendSessionHeartbeat from `connection`; INVALID_ARGUMENT SESSION_EXPIRED unless `id` is its live session. */
  heartbeat(connection: number, id: string): void {
    const now = Date.now();
    const session = this.#byConnection.get(connection);
    if (session === undefined || session.id !== id) throw new ChannelError(Code.INVALID_ARGUMENT, SESSION_EXPIRED);
    // Late beats do not revive a session the timer has not got round to yet.
    if (now - session.lastSeen > session.heartbeatWindowMs) {
      this.#lapse(session, now);
      throw new ChannelError(Code.INVALID_ARGUMENT, SESSION_EXPIRED);
    }
    session.lastSeen = now;
  }

  /** A call from `connection` arrived: if its `viam-sid` names the connection's live session, that is a heartbeat. */
  noteCall(connection: number, metadata: Metadata): void {
    const ids = metadata[SESSION_ID_METADATA_KEY];
    if (ids === undefined || ids.length === 0) return;
    const session = this.#byConnection.get(connection);
    if (session === undefined || session.id !== ids[0]) return;
    const now = Date.now();
    if (now - session.lastSeen <= session.heartbeatWindowMs) session.lastSeen = now;
  }

  /** The live session of `connection`, if any. */
  of(connection: number): Session | undefined {
    return this.#byConnection.get(connection);
  }

  /** `connection` is gone: its session ends with it (what it commanded is the caller's to stop). */
  connectionClosed(connection: number): void {
    if (!this.#byConnection.delete(connection)) return;
    if (this.#byConnection.size === 0) this.#unwatch();
  }

  #watch(heartbeatWindowMs: number): void {
    const period = checkPeriodMs(heartbeatWindowMs);
    if (this.#timer !== undefined && this.#timerPeriodMs <= period) return;
    this.#unwatch();
    this.#timerPeriodMs = period;
    this.#timer = Timer.repeat(() => this.#lapseOverdue(Date.now()), period);
  }

  #unwatch(): void {
    if (this.#timer !== undefined) Timer.clear(this.#timer);
    this.#timer = undefined;
    this.#timerPeriodMs = 0;
  }

  #lapseOverdue(now: number): void {
    this.#byConnection.forEach((session) => {
      if (now - session.lastSeen > session.heartbeatWindowMs) this.#lapse(session, now);
    });
  }

  #lapse(session: Session, now: number): void {
    if (this.#byConnection.get(session.connection) !== session) return;
    this.#byConnection.delete(session.connection);
    if (this.#byConnection.size === 0) this.#unwatch();
    log("warn", "connection " + session.connection + ": session " + session.id + " lapsed (no heartbeat for " + (now - session.lastSeen) + " ms)");
    this.#onLapse(session);
  }
}
