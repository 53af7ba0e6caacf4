// A whole host: the machine built from config, auth, the RPC services, and the one port serving them.
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { createContextValues, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { ApiKeyStore } from "./auth/api-keys.js";
import { authInterceptor } from "./auth/interceptor.js";
import { AuthService, authService } from "./auth/service.js";
import { componentServices } from "./components/services.js";
import type { MachineConfig } from "./config/schema.js";
import { watchConfigFile, type ConfigWatcher } from "./config/watch.js";
import { createLogger, namedLogger } from "./log/logger.js";
import { logSettingsFromConfig, registryOf } from "./log/registry.js";
import { Machine, machineResources, type MachineOptions } from "./machine/machine.js";
import { Reconfigurer } from "./machine/reconfigure.js";
import { builtinModels } from "./models.js";
import type { ModelRegistry } from "./resource/registry.js";
import { OperationManager } from "./robot/operations.js";
import { withRemoteForwarding } from "./remote/forwarder.js";
import { RemoteManager } from "./remote/manager.js";
import { DialInServer } from "./remote/dial-in.js";
import { hostRemoteTransports } from "./remote/host-transports.js";
import { SimParts } from "./remote/sim.js";
import type { RemoteTransportRegistry } from "./remote/connection.js";
import { RobotService, robotService } from "./robot/service.js";
import { TokenAuthority } from "./auth/tokens.js";
import { operationsInterceptor } from "./server/operations-interceptor.js";
import { reflectionServices } from "./server/reflection.js";
import { peerConnectionKey, socketPeerConnection } from "./session/context.js";
import { sessionInterceptor } from "./session/interceptor.js";
import { machineSessionResources, SessionManager } from "./session/manager.js";
import { startRpcServer, type HttpRoute, type RpcServer, type ServiceRegistration } from "./server/server.js";
import { flasherRoute } from "./web/flasher-route.js";
import { SignalingService } from "../proto/gen/proto/rpc/webrtc/v1/signaling_pb.js";
import { DataChannelTransport } from "./webrtc/data-channel-transport.js";
import { ExternalAnswerer, externalAnswererSettings } from "./webrtc/answerer.js";
import { internalSignalingHosts, WebRtcSignaling } from "./webrtc/signaling-service.js";

export const sprocketVersion: string = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;

export interface HostOptions {
  config: MachineConfig;
  registry?: ModelRegistry;
  logger?: Logger;
  /** Called when a client asks for RobotService.Shutdown, after the reply is sent. */
  onShutdownRequested?: () => void;
  /** The file `config` was read from: watched, and applied live when it changes. */
  configPath?: string;
  /** The text `config` was parsed from, so re-saving the same bytes is skipped. */
  configText?: string;
  /** Debounce for config file events (default 500 ms). */
  watchDebounceMs?: number;
  /** Retry, timeout and concurrency settings of the machine (tests). */
  machine?: MachineOptions;
  /** Remote transports by address scheme (default: tcp://, ws://, host:port, http(s)://). */
  remoteTransports?: RemoteTransportRegistry;
}

export interface Host {
  readonly machine: Machine;
  readonly server: RpcServer;
  /** Base URL clients dial, e.g. `http://localhost:8080`. */
  readonly url: string;
  /** The internal WebRTC signaler and the peer connections it answered. */
  readonly signaling: WebRtcSignaling;
  /** The `rpc-host` values the signaler accepts (a WebRTC client's `host`). */
  readonly signalingHosts: readonly string[];
  /** The answerer to the external signaling server of `cloud.signaling_address`, when configured. */
  readonly answerer: ExternalAnswerer | undefined;
  /** Applies new configs (the watched file's, or any given) to the running machine. */
  readonly reconfigurer: Reconfigurer;
  /** The remote parts (config `remotes`) and their connections. */
  readonly remotes: RemoteManager;
  /** Stops serving, then closes resources dependents first. */
  close(): Promise<void>;
}

const healthCheck: HttpRoute = (req, res) => {
  if (req.method !== "GET" || req.url !== "/") return false;
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
  res.end(`I am a Sprocket machine (viam-server compatible), version ${sprocketVersion}\n`);
  return true;
};

export async function startHost(opts: HostOptions): Promise<Host> {
  const { config } = opts;
  // `debug` comes from the config through the log registry, so a reconfigure can turn it off again.
  const logger = opts.logger ?? createLogger({ level: "info" });
  registryOf(logger)?.update(logSettingsFromConfig(config));
  const machine = new Machine(opts.registry ?? builtinModels(), logger, opts.machine);
  const operations = new OperationManager();
  const sessions = new SessionManager({
    heartbeatWindowMs: config.network.sessions.heartbeatWindowMs,
    resources: machineSessionResources(machine),
    logger: namedLogger(logger, "networking.session_manager"),
  });

  // Calls for a remote's resources leave the resource services for the remote (after auth, sessions and operations).
  // Micro parts may also dial in (WebSockets on this port), sit on a serial line, or be simulated here (sim:).
  const dialIn = new DialInServer({ logger: namedLogger(logger, "remotes.dial-in") });
  dialIn.configure(config.remotes);
  const simParts = new SimParts({ logger });
  const remotes = new RemoteManager({ machine, logger, transports: opts.remoteTransports ?? hostRemoteTransports(dialIn, simParts) });
  const keys = ApiKeyStore.fromHandlers(config.auth.handlers);
  const authEnabled = config.auth.handlers.length > 0;
  const services: ServiceRegistration[] = [
    {
      service: RobotService,
      impl: robotService({
        machine,
        operations,
        version: sprocketVersion,
        shutdown: () => opts.onShutdownRequested?.(),
        sessions,
      }),
    },
    ...componentServices(machine).map(({ service, impl }) => ({ service, impl: withRemoteForwarding(service, impl, { remotes, sessions }) })),
  ];
  // WebRTC (spec §4.7): the internal signaler answers in-process; each peer's data channel serves the
  // router once it exists. Allowed rpc-hosts are known once listening.
  let signalingHosts: string[] = [];
  let dataChannels: DataChannelTransport | undefined = undefined;
  const signaling = new WebRtcSignaling({
    allowedHosts: () => signalingHosts,
    onPeer: (peer, info) => {
      if (dataChannels) dataChannels.attach(peer, info.entity);
      else void peer.close("not serving yet");
    },
    logger: namedLogger(logger, "networking.webrtc"),
  });
  services.push({ service: SignalingService, impl: signaling.impl });
  const interceptors: Interceptor[] = [];
  if (authEnabled) {
    // rdk: the audience is the machine's FQDN, or a random name when it has none.
    const authority = new TokenAuthority({ audience: config.network.fqdn || randomUUID() });
    services.push({ service: AuthService, impl: authService(keys, authority) });
    interceptors.push(authInterceptor(authority));
  }
  // Sessions after auth: a session belongs to the authenticated entity.
  interceptors.push(sessionInterceptor(sessions));
  interceptors.push(operationsInterceptor(operations));
  // Reflection answers about everything registered, itself included (read when a stream starts).
  services.push(...reflectionServices(() => services.map((s) => s.service)));

  const tls =
    config.network.tlsCertFile && config.network.tlsKeyFile
      ? { certFile: config.network.tlsCertFile, keyFile: config.network.tlsKeyFile }
      : undefined;
  const server = await startRpcServer({
    bindAddress: config.network.bindAddress,
    tls,
    services,
    interceptors,
    upgrade: dialIn.upgrade,
    httpRoutes: [healthCheck, flasherRoute()],
    contextValues: (req) => createContextValues().set(peerConnectionKey, socketPeerConnection(req.socket)),
  });
  const { host, port } = server.listener;
  signalingHosts = internalSignalingHosts({ fqdn: config.network.fqdn, host, port });
  dataChannels = new DataChannelTransport({
    router: server.router,
    logger: namedLogger(logger, "networking.webrtc"),
    contextValues: (peer) => {
      const { local, remote } = peer.selectedAddresses();
      return createContextValues().set(peerConnectionKey, { type: "webrtc", remoteAddress: remote, localAddress: local });
    },
  });
  // Calls through an external signaling server (spec §4.6) reach the same router.
  const external = externalAnswererSettings(config);
  let answerer: ExternalAnswerer | undefined;
  if (external) {
    const transport = dataChannels;
    answerer = new ExternalAnswerer({
      ...external,
      onPeer: (peer, info) => transport.attach(peer, info.entity),
      logger: namedLogger(logger, "networking.webrtc.answerer"),
    });
    answerer.start();
  }
  const dialHost = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  const url = `${tls ? "https" : "http"}://${dialHost}:${port}`;
  logger.info({ url, auth: authEnabled ? "api-key" : "none" }, "serving");

  // Edits during the first build wait for it (the machine applies configs one at a time).
  const reconfigurer = new Reconfigurer({ machine, logger, current: config, remotes });
  reconfigurer.on("applied", (next) => {
    dialIn.configure(next.remotes);
    void simParts.configure(next.remotes);
  });
  let watcher: ConfigWatcher | undefined;
  if (opts.configPath !== undefined) {
    const source = opts.configPath;
    watcher = watchConfigFile(source, {
      initialText: opts.configText,
      debounceMs: opts.watchDebounceMs,
      logger,
      onChange: (text) => void reconfigurer.submitText(text, source),
    });
  }
  // Remotes first (rdk: they can reveal names dependents need); each gets one attempt before the build.
  await remotes.apply(config.remotes);
  await machine.start(machineResources(config), config.revision);

  let closing: Promise<void> | undefined;
  return {
    machine,
    server,
    url,
    signaling,
    signalingHosts,
    answerer,
    reconfigurer,
    remotes,
    close() {
      closing ??= (async () => {
        watcher?.close();
        reconfigurer.close();
        await signaling.close();
        await answerer?.close();
        dialIn.close();
        await server.close();
        await sessions.close();
        await remotes.close();
        await simParts.close();
        await machine.close();
      })();
      return closing;
    },
  };
}
