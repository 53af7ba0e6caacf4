// A connection's own session with its remote (a micro part or another host), kept as rdk's robot
// client keeps one: StartSession once connected, a SendSessionHeartbeat every heartbeat_window/5 (so a
// late beat or two do not lose it), `viam-sid` on every call but the ones that come before a session
// or manage it, and another session (resuming the old id first) when the remote says it lapsed. When
// this host dies or is cut off the beats stop and the remote stops what this host drove there.
//
// The connection supplies the two calls; errors come back as whatever its client throws, read
// through `statusOf`. A heartbeat that fails otherwise is only logged: a remote that is gone is found
// by the manager's connection check, which closes the connection and so stops the heartbeats.
import type { Logger } from "pino";
import { SESSION_EXPIRED_MESSAGE } from "../session/context.js";
import { Code, codeName } from "./connection.js";

/** Calls that carry no `viam-sid` (rdk's client `exemptFromSession`): they come before a session or manage it. */
const sessionExemptMethods: ReadonlySet<string> = new Set([
  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  "/proto.rpc.v1.AuthService/Authenticate",
  "/proto.rpc.v1.ExternalAuthService/AuthenticateTo",
  "/viam.robot.v1.RobotService/ResourceNames",
  "/viam.robot.v1.RobotService/ResourceRPCSubtypes",
  "/viam.robot.v1.RobotService/StartSession",
  "/viam.robot.v1.RobotService/SendSessionHeartbeat",
]);

export interface CallStatus {
  readonly code: number;
  readonly message: string;
}

/** rdk's `session.StatusNoSession`: the remote does not know (or no longer has) the session a call named. */
export function isSessionExpired(status: CallStatus): boolean {
  return status.code === Code.INVALID_ARGUMENT && status.message === SESSION_EXPIRED_MESSAGE;
}

export interface RemoteSessionOptions {
  /** StartSession: the session `resume` names when the remote still has it, else a new one. */
  start(resume: string, signal?: AbortSignal): Promise<{ id: string; heartbeatWindowMs: number }>;
  /** SendSessionHeartbeat. */
  heartbeat(id: string): Promise<void>;
  /** The status of an error the two calls threw. */
  statusOf(err: unknown): CallStatus;
  logger: Logger;
}

export class RemoteSession {
  readonly #opts: RemoteSessionOptions;
  #id: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #intervalMs = 0;
  #beating = false;
  #renewing: Promise<void> | undefined;
  /** The last heartbeat failure logged as a warning, so a persisting one is not repeated every beat. */
  #lastWarning: string | undefined;
  #stopped = false;

  constructor(opts: RemoteSessionOptions) {
    this.#opts = opts;
  }

  /** The session's id; undefined with a remote that has no sessions, and once stopped. */
  get id(): string | undefined {
    return this.#stopped ? undefined : this.#id;
  }

  /** The `viam-sid` a call of `method` carries, if any. */
  idFor(method: string): string | undefined {
    return sessionExemptMethods.has(method) ? undefined : this.id;
  }

  /** The first session; rejects when the remote refuses one other than by having no sessions. */
  async start(signal: AbortSignal): Promise<void> {
    try {
      this.#use(await this.#opts.start("", signal));
    } catch (err) {
      if (this.#opts.statusOf(err).code !== Code.UNIMPLEMENTED) throw err;
      this.#opts.logger.info("the remote has no sessions: what this host drives there will not stop if this host goes away");
    }
  }

  /** Another session in place of `expiredId`, unless one already replaced it; concurrent callers share one attempt. */
  renew(expiredId: string): Promise<void> {
    if (this.#stopped) return Promise.reject(new Error("the connection is closed"));
    if (this.#id !== expiredId) return Promise.resolve();
    this.#renewing ??= (async () => {
      try {
        this.#use(await this.#opts.start(expiredId));
      } finally {
        this.#renewing = undefined;
      }
    })();
    return this.#renewing;
  }

  /** Ends the heartbeats; the remote lets the session lapse. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #use(started: { id: string; heartbeatWindowMs: number }): void {
    if (this.#stopped) return;
    const intervalMs = started.heartbeatWindowMs / 5;
    if (!(intervalMs > 0)) {
      // As rdk: a remote that cannot say how often to beat gets no session.
      this.#opts.logger.info({ heartbeat_window_ms: started.heartbeatWindowMs }, "the remote gave an invalid session heartbeat window; going without a session");
      this.#id = undefined;
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    if (started.id !== this.#id) this.#opts.logger.debug({ session_id: started.id, heartbeat_window_ms: started.heartbeatWindowMs }, "session with the remote started");
    this.#id = started.id;
    if (intervalMs === this.#intervalMs && this.#timer) return;
    clearInterval(this.#timer);
    this.#intervalMs = intervalMs;
    // Cleared by stop(); unref so a connection nobody closed cannot hold the process open.
    this.#timer = setInterval(() => void this.#beat(), intervalMs).unref();
  }

  async #beat(): Promise<void> {
    const id = this.#id;
    if (this.#beating || this.#renewing || this.#stopped || id === undefined) return;
    this.#beating = true;
    const { logger } = this.#opts;
    try {
      await this.#opts.heartbeat(id);
      this.#lastWarning = undefined;
    } catch (err) {
      if (this.#stopped) return;
      const status = this.#opts.statusOf(err);
      const reason = `${codeName(status.code)}: ${status.message}`;
      if (isSessionExpired(status)) {
        logger.warn({ session_id: id }, "the remote's session for this host lapsed (it stopped what this host drove there); starting another");
        await this.renew(id).catch((e: unknown) =>
          logger.debug({ reason: `${codeName(this.#opts.statusOf(e).code)}: ${this.#opts.statusOf(e).message}` }, "starting another session failed; trying again at the next heartbeat"),
        );
      } else if (status.code === Code.UNAVAILABLE || status.code === Code.DEADLINE_EXCEEDED || status.code === Code.CANCELLED) {
        logger.debug({ session_id: id, reason }, "session heartbeat failed; the connection check decides whether the remote is gone");
      } else if (reason !== this.#lastWarning) {
        this.#lastWarning = reason;
        logger.warn({ session_id: id, reason }, "session heartbeat failed");
      }
    } finally {
      this.#beating = false;
    }
  }
}
