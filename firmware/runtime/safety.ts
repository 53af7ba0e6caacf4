// Stop what a vanished client left running. Every call that commands an actuator (motor SetPower,
// GoFor, GoTo, SetRPM; servo Move: the methods viam-server flags safety_heartbeat_monitored) records
// its connection as the actuator's last commander; when that connection drops, the actuators it
// commanded last are stopped. An actuator another connection has commanded since is left alone,
// as viam-server's session expiry stops only the resources last used by the lapsed session.
import { errorText, log } from "../log.js";
import type { Actuator, Resource } from "../resource.js";

export class Safety {
  readonly #lastCommander = new Map<Actuator, number>();

  /** `connection` (an id) has just commanded `actuator`. */
  commanded(actuator: Actuator, connection: number): void {
    this.#lastCommander.set(actuator, connection);
  }

  /** The connection that last commanded `actuator`, if it is still being watched. */
  lastCommander(actuator: Actuator): number | undefined {
    return this.#lastCommander.get(actuator);
  }

  /** A connection dropped: stops every actuator it commanded last. Returns how many were stopped. */
  connectionClosed(connection: number): number {
    let stopped = 0;
    for (const [actuator, owner] of [...this.#lastCommander]) {
      if (owner !== connection) continue;
      this.#lastCommander.delete(actuator);
      try {
        actuator.stop();
        stopped++;
      } catch (error) {
        log("error", "safety stop after connection " + connection + " dropped failed: " + errorText(error));
      }
    }
    if (stopped > 0) log("warn", "connection " + connection + " dropped: stopped " + stopped + " actuator(s) it commanded");
    return stopped;
  }

  /** A resource is going away: nothing to watch any more. */
  forget(resource: Resource): void {
    this.#lastCommander.delete(resource as Actuator);
  }
}
