// Sessions and the safety stop (rdk robot/session_manager.go): a client starts a session, keeps it
// alive with heartbeats, and the actuators last driven under it by a safety-monitored call are
// stopped when no heartbeat arrives within the window. Each session has one timer, re-armed by
// every heartbeat; nothing polls.
import { randomUUID, timingSafeEqual } from "node:crypto";
import type { Logger } from "pino";
import { DEFAULT_HEARTBEAT_WINDOW_MS } from "../config/schema.js";
import type { Machine } from "../machine/machine.js";
import { resourceNameString, type ResourceName } from "../resource/name.js";
import { internalCall, isActuator } from "../resource/resource.js";
import { protoServiceFor } from "../robot/api-services.js";
import type { PeerConnection } from "./context.js";

/** rdk `maxSessions`. */
export const MAX_SESSIONS = 1024;

/** What the safety stop acts on; the machine in the host, stubs in tests. */
export interface SessionResources {
  /** The resource a call to the protobuf service `serviceTypeName` means by `name`, when the machine has it. */
  resolve(serviceTypeName: string, name: string): ResourceName | undefined;
  /** Stops the resource when it is an actuator (resolves true), does nothing for others (false). */
  stop(name: ResourceName): Promise<boolean>;
}

/** The machine's resources, for the session manager. */
export function machineSessionResources(machine: Pick<Machine, "entries" | "get">): SessionResources {
  return {
    resolve(serviceTypeName, name) {
      for (const e of machine.entries()) {
        if (e.name.name === name && protoServiceFor(e.name) === serviceTypeName) return e.name;
      }
      return undefined;
    },
    async stop(name) {
      const resource = machine.get(name, name.name);
      if (!isActuator(resource)) return false;
      await resource.stop(internalCall());
      return true;
    },
  };
}

/** A client's session. Its owner is the auth entity that started it ("" without auth). */
export class Session {
  readonly id: string;
  readonly heartbeatWindowMs: number;
  /** Where the last heartbeat came from (rdk updates this on every heartbeat too). */
  peer: PeerConnection | undefined;
  readonly #owner: Buffer;
  readonly #associate: (session: Session, target: ResourceName) => void;
  #deadline: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: {
    ownerId: string;
    heartbeatWindowMs: number;
    peer: PeerConnection | undefined;
    onExpire: (session: Session) => void;
    associate: (session: Session, target: ResourceName) => void;
  }) {
    this.id = randomUUID();
    this.heartbeatWindowMs = opts.heartbeatWindowMs;
    this.peer = opts.peer;
    this.#owner = Buffer.from(opts.ownerId);
    this.#associate = opts.associate;
    this.#deadline = performance.now() + this.heartbeatWindowMs;
    const fire = () => {
      // Timers run on the event loop's clock, which can trail performance.now() by a millisecond;
      // a timer that comes due a hair before the deadline waits out the rest.
      const left = this.#deadline - performance.now();
      if (left > 1) {
        this.#timer = setTimeout(fire, left).unref();
        return;
      }
      this.#timer = undefined;
      opts.onExpire(this);
    };
    this.#timer = setTimeout(fire, this.heartbeatWindowMs).unref();
  }

  /** Milliseconds since the epoch at which the session lapses without another heartbeat. */
  get deadline(): number {
    return performance.timeOrigin + this.#deadline;
  }

  isActive(now: number = performance.now()): boolean {
    return this.#timer !== undefined && this.#deadline > now;
  }

  ownedBy(ownerId: string): boolean {
    const other = Buffer.from(ownerId);
    return other.length === this.#owner.length && timingSafeEqual(other, this.#owner);
  }

  /** Pushes the deadline one window ahead. */
  heartbeat(peer?: PeerConnection): void {
    if (this.#timer === undefined) return;
    this.#deadline = performance.now() + this.heartbeatWindowMs;
    this.#timer.refresh();
    if (peer) this.peer = peer;
  }

  /** Puts `target` under this session, while it is live: if it lapses, `target` is stopped. */
  associateWith(target: ResourceName): void {
    if (this.isActive()) this.#associate(this, target);
  }

  /** Ends the session without the safety stop (the manager is closing). */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

export interface SessionManagerOptions {
  /** `network.sessions.heartbeat_window`; 2 s when not given. */
  heartbeatWindowMs?: number;
  resources: SessionResources;
  logger: Logger;
  maxSessions?: number;
}

export class SessionManager {
  readonly heartbeatWindowMs: number;
  readonly resources: SessionResources;
  readonly #logger: Logger;
  readonly #maxSessions: number;
  readonly #sessions = new Map<string, Session>();
  /** Full resource name → the session of its last safety-monitored call, and the name. */
  readonly #lastCommandedBy = new Map<string, { sessionId: string; target: ResourceName }>();
  readonly #stopping = new Set<Promise<void>>();
  #closed = false;

  constructor(opts: SessionManagerOptions) {
    this.heartbeatWindowMs = opts.heartbeatWindowMs ?? DEFAULT_HEARTBEAT_WINDOW_MS;
    this.resources = opts.resources;
    this.#logger = opts.logger;
    this.#maxSessions = opts.maxSessions ?? MAX_SESSIONS;
  }

  /** A new session for `ownerId` that lapses unless a heartbeat arrives within the window. */
  start(ownerId: string, peer?: PeerConnection): Session {
    if (this.#closed) throw new Error("session manager is closed");
    if (this.#sessions.size >= this.#maxSessions) throw new Error("too many concurrent sessions");
    const session = new Session({
      ownerId,
      heartbeatWindowMs: this.heartbeatWindowMs,
      peer,
      onExpire: (s) => this.#expire(s),
      associate: (s, target) => this.#associate(s.id, target),
    });
    this.#sessions.set(session.id, session);
    return session;
  }

  /**
   * The live session `id` of `ownerId`, after counting this as its heartbeat; undefined when the id
   * is unknown, lapsed, or another owner's (rdk reports that as no session, too).
   */
  find(id: string, ownerId: string, peer?: PeerConnection): Session | undefined {
    const session = this.#sessions.get(id.toLowerCase());
    if (!session || !session.ownedBy(ownerId)) return undefined;
    if (!session.isActive()) {
      // Lapsed, and its timer has not run yet: expire it now rather than revive it.
      session.dispose();
      this.#expire(session);
      return undefined;
    }
    session.heartbeat(peer);
    return session;
  }

  /** The live session `resume` names when `ownerId` owns it (heartbeated), else a new one. */
  resumeOrStart(resume: string, ownerId: string, peer?: PeerConnection): Session {
    return (resume && this.find(resume, ownerId, peer)) || this.start(ownerId, peer);
  }

  /** Live sessions. */
  all(): Session[] {
    const now = performance.now();
    return [...this.#sessions.values()].filter((s) => s.isActive(now));
  }

  /**
   * Records a safety-monitored call on `target`: under `sessionId`, or under none (a caller without
   * a session takes the resource out of any session's safety stop, as in rdk).
   */
  associate(sessionId: string | undefined, target: ResourceName): void {
    if (sessionId === undefined) this.#lastCommandedBy.delete(resourceNameString(target));
    else this.#sessions.get(sessionId)?.associateWith(target);
  }

  /** The session whose safety-monitored call last drove `target`, if it is live. */
  lastCommandedBy(target: ResourceName): string | undefined {
    return this.#lastCommandedBy.get(resourceNameString(target))?.sessionId;
  }

  /** Ends every session without stopping anything (rdk's Close), then waits for safety stops under way. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const s of this.#sessions.values()) s.dispose();
    this.#sessions.clear();
    this.#lastCommandedBy.clear();
    await Promise.all(this.#stopping);
  }

  #associate(sessionId: string, target: ResourceName): void {
    if (this.#sessions.has(sessionId)) this.#lastCommandedBy.set(resourceNameString(target), { sessionId, target });
  }

  #expire(session: Session): void {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    const targets: ResourceName[] = [];
    for (const [key, { sessionId, target }] of this.#lastCommandedBy) {
      if (sessionId === session.id) {
        targets.push(target);
        this.#lastCommandedBy.delete(key);
      }
    }
    const fields = {
      session_id: session.id,
      connection_type: session.peer?.type ?? "unknown",
      remote_address: session.peer?.remoteAddress ?? "",
    };
    if (targets.length === 0) {
      this.#logger.debug(fields, "session expired");
      return;
    }
    const stopping = this.#safetyStop(targets, fields);
    this.#stopping.add(stopping);
    void stopping.finally(() => this.#stopping.delete(stopping));
  }

  async #safetyStop(targets: ResourceName[], fields: Record<string, string>): Promise<void> {
    const results = await Promise.allSettled(targets.map((t) => this.resources.stop(t)));
    const stopped: string[] = [];
    const errors: string[] = [];
    results.forEach((r, i) => {
      const name = resourceNameString(targets[i]);
      if (r.status === "rejected") errors.push(`${name}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
      else if (r.value) stopped.push(name);
    });
    this.#logger.info({ ...fields, stopped_resources: stopped }, "session expired; stopped the resources it last commanded");
    if (errors.length > 0) this.#logger.error({ ...fields, errors }, "failed to stop some resources");
  }
}
