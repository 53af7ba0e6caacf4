// Boot: read the provisioning and config from Preference, build the resources, start Wi-Fi (when
// provisioned), serve RPC on TCP (and on a UART when configured), advertise over mDNS, and dial
// in to the host when the `host` key names one (rpc/dial-in.ts).
// `start` returns the running parts so a simulator or a test can inspect and stop them; on a board
// firmware/main.ts calls it once and it runs forever.
import { authService } from "../rpc/auth.js";
import { boardService } from "../components/board/service.js";
import { encoderService } from "../components/encoder/service.js";
import { genericService } from "../components/generic/service.js";
import { motorService } from "../components/motor/service.js";
import { movementSensorService } from "../components/movement_sensor/service.js";
import { powerSensorService } from "../components/power_sensor/service.js";
import { sensorService } from "../components/sensor/service.js";
import { servoService } from "../components/servo/service.js";
import { ConfigError } from "../config/attributes.js";
import { EMPTY_CONFIG, parseConfig, type MachineConfig } from "../config/schema.js";
import { configService, type ConfigHolder } from "../config/service.js";
import { configRevision, readConfigText, readProvisioning, type Provisioning } from "../config/store.js";
import { errorText, log } from "../log.js";
import { builtinIO, type IO } from "../platform/io.js";
import { advertise, startWifi } from "../platform/network.js";
import { robotService } from "../robot/service.js";
import type { Model } from "../resource.js";
import { DialIn } from "../rpc/dial-in.js";
import { Dispatcher } from "../rpc/dispatcher.js";
import { RpcTcpServer } from "../rpc/tcp-server.js";
import { RpcUartServer } from "../rpc/uart-server.js";
import { PLATFORM, VERSION } from "../version.js";
import { Machine, validateConfig } from "./machine.js";
import { builtinModels } from "./models.js";

export interface StartOptions {
  io?: IO;
  models?: readonly Model[];
  /** Overrides the config's TCP port (e.g. 0 or a test's port). */
  port?: number;
  /** How long a length-prefixed frame may stay incomplete (default 5 s). */
  frameTimeoutMs?: number;
  /** Dial-in timing (rpc/dial-in.ts), for tests and simulators. */
  dialIn?: { initialBackoffMs?: number; maxBackoffMs?: number; pingIntervalMs?: number };
}

export interface MicroRuntime {
  readonly provisioning: Provisioning;
  readonly config: ConfigHolder;
  readonly machine: Machine;
  readonly dispatcher: Dispatcher;
  readonly tcp: RpcTcpServer | undefined;
  readonly uart: RpcUartServer | undefined;
  /** The link out to the host, when the `host` key names one. */
  readonly dialIn: DialIn | undefined;
  /** Stops serving and closes every resource (tests and simulators; a board never stops). */
  stop(): void;
}

/** mDNS host name: "sprocket-" + the part id reduced to DNS-safe characters. */
export function hostNameFor(partId: string | undefined): string {
  const clean = (partId ?? "").toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
  return clean === "" ? "sprocket-micro" : "sprocket-" + clean;
}

export function start(options: StartOptions = {}): MicroRuntime {
  log("info", PLATFORM + " " + VERSION + " starting");
  const provisioning = readProvisioning();
  const models = options.models ?? builtinModels;
  const machine = new Machine(options.io ?? builtinIO, models);
  const stored = readConfigText();
  const holder: ConfigHolder = { text: stored ?? "{}" };
  let config: MachineConfig = EMPTY_CONFIG;
  if (stored !== undefined) {
    try {
      config = parseConfig(stored);
      validateConfig(config, models);
    } catch (error) {
      config = EMPTY_CONFIG;
      log("error", "stored config ignored: " + (error instanceof ConfigError ? error.message : errorText(error)));
    }
  }
  machine.apply(config, stored === undefined ? "" : configRevision(stored));
  machine.safety.sessions.heartbeatWindowMs = config.heartbeatWindowMs;

  const dispatcher = new Dispatcher({ services: [], safety: machine.safety });
  const services = [
    authService(() => ({ id: provisioning.partId, secret: provisioning.partKey })),
    robotService(machine, dispatcher),
    configService(machine, holder),
    boardService(machine),
    sensorService(machine),
    powerSensorService(machine),
    movementSensorService(machine),
    motorService(machine),
    encoderService(machine),
    servoService(machine),
    genericService(machine),
  ];
  for (const s of services) dispatcher.register(s);

  const port = options.port ?? config.port;
  let tcp: RpcTcpServer | undefined;
  try {
    tcp = new RpcTcpServer({ port, dispatcher, safety: machine.safety, ...(options.frameTimeoutMs === undefined ? {} : { frameTimeoutMs: options.frameTimeoutMs }) });
  } catch (error) {
    log("error", "rpc: cannot listen on TCP port " + port + ": " + errorText(error));
  }
  const uart = config.uart === undefined ? undefined : new RpcUartServer({ ...config.uart, dispatcher, safety: machine.safety });

  let dialIn: DialIn | undefined;
  if (provisioning.host) {
    if (provisioning.partId && provisioning.partKey) {
      dialIn = new DialIn({
        url: provisioning.host,
        partId: provisioning.partId,
        partKey: provisioning.partKey,
        dispatcher,
        safety: machine.safety,
        ...options.dialIn,
        ...(options.frameTimeoutMs === undefined ? {} : { frameTimeoutMs: options.frameTimeoutMs }),
      });
    } else {
      log("error", "dial-in to " + provisioning.host + " needs part_id and part_key provisioned");
    }
  }

  const hostName = hostNameFor(provisioning.partId);
  const txt = { part: provisioning.partId ?? "", version: VERSION };
  const networkUp = () => {
    advertise(hostName, port, txt);
    dialIn?.start();
  };
  if (provisioning.wifiSsid) {
    startWifi(provisioning.wifiSsid, provisioning.wifiPassword, networkUp);
  } else {
    log("warn", "no Wi-Fi network provisioned (" + "wifi_ssid" + "); serving on whatever network is up");
    networkUp();
  }

  return {
    provisioning,
    config: holder,
    machine,
    dispatcher,
    tcp,
    uart,
    dialIn,
    stop() {
      dialIn?.stop();
      tcp?.close();
      uart?.close();
      machine.closeResources();
    },
  };
}
