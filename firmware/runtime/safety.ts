// Stop what a vanished client left running. Every call that commands an actuator (motor SetPower,
// GoFor, GoTo, SetRPM; servo Move: the methods viam-server flags safety_heartbeat_monitored) records
// its connection as the actuator's last commander. A client has vanished when its connection drops
// or when the session it started lapses (sessions.ts; the only sign on a UART, which never closes);
// then the actuators its connection commanded last are stopped. An actuator another connection has
// commanded since is left alone, as viam-server's session expiry stops only the resources last used
// by the lapsed session.
import { errorText, log } from "../log.js";
import type { Actuator, Resource } from "../resource.js";
import { Sessions } from "./sessions.js";

export class Safety {
  readonly #lastCommander = new Map<Actuator, number>();
  /** The connections' sessions; a lapse stops what that connection commanded, as a drop does. */
  readonly sessions = new Sessions((session) =>
    this.#stopCommandedBy(session.connection, "connection " + session.connection + ": session lapsed"),
  );

  /** `connection` (an id) has just commanded `actuator`. */
  commanded(actuator: Actuator, connection: number): void {
    this.#lastCommander.set(actuator, connection);
  }

  /** The connection that last commanded `actuator`, if it is still being watched. */
  lastCommander(actuator: Actuator): number | undefined {
    return this.#lastCommander.get(actuator);
  }

  /** A connection dropped: its session ends and every actuator it commanded last stops. Returns how many stopped. */
  connectionClosed(connection: number): number {
    this.sessions.connectionClosed(connection);
    return this.#stopCommandedBy(connection, "connection " + connection + " dropped");
  }

  #stopCommandedBy(connection: number, why: string): number {
    let stopped = 0;
    for (const [actuator, owner] of [...this.#lastCommander]) {
      if (owner !== connection) continue;
      this.#lastCommander.delete(actuator);
      try {
        actuator.stop();
        stopped++;
      } catch (error) {
        log("error", "safety stop failed (" + why + "): " + errorText(error));
      }
    }
    if (stopped > 0) log("warn", why + ": stopped " + stopped + " actuator(s) it commanded");
    return stopped;
  }

  /** A resource is going away: nothing to watch any more. */
  forget(resource: Resource): void {
    this.#lastCommander.delete(resource as Actuator);
  }
}
