// `sprocket signaling --listen host:port`: a standalone WebRTC signaling server for other machines,
// as app.viam.com is for viam-server: machines answer through it, callers dial them by name.
import { parseArgs } from "node:util";
import { parseGoDuration } from "../config/schema.js";
import { splitHostPort } from "../server/listener.js";
import { createLogger } from "../log/logger.js";
import { DEFAULT_HEARTBEAT_INTERVAL_MS, startSignalingServer } from "./server.js";
import { DEFAULT_OFFER_DEADLINE_MS } from "../webrtc/signaling-service.js";

export const signalingUsage = `usage: sprocket signaling --listen HOST:PORT [--api-key ID:SECRET]... [--allow-host NAME]...
                          [--heartbeat-interval 15s] [--offer-deadline 10s] [--tls-cert FILE --tls-key FILE] [--debug]

  Serves proto.rpc.webrtc.v1.SignalingService (gRPC h2c and gRPC-web on one port, TLS with --tls-*).
  Machines answer through it (config "cloud": {"signaling_address": "HOST:PORT", "signaling_insecure": true,
  "api_key": {...}}); clients dial them with signalingAddress = this server and host = the machine's fqdn.
  --api-key             a key callers and machines authenticate with (repeatable); none: no auth at all
  --allow-host          accept only these rpc-host names (repeatable); default: any
  --heartbeat-interval  how often answerers that allow heartbeats get one (Go duration)
  --offer-deadline      how long a call may wait for an answerer and connect (Go duration)
  Prints "listening on <url>" once serving (port 0 picks a free port).`;

function duration(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const ms = parseGoDuration(text);
  if (!(ms > 0)) throw new Error(`--${flag} must be positive`);
  return ms;
}

export async function signalingCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        listen: { type: "string", short: "l" },
        "api-key": { type: "string", multiple: true },
        "allow-host": { type: "string", multiple: true },
        "heartbeat-interval": { type: "string" },
        "offer-deadline": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        debug: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    console.error(`sprocket signaling: ${(err as Error).message}\n\n${signalingUsage}`);
    return 2;
  }
  if (values.help) {
    console.log(signalingUsage);
    return 0;
  }
  const bad = (message: string) => {
    console.error(`sprocket signaling: ${message}\n\n${signalingUsage}`);
    return 2;
  };
  if (values.listen === undefined) return bad("--listen HOST:PORT is required");
  try {
    splitHostPort(values.listen);
  } catch (err) {
    return bad((err as Error).message.replace("network.bind_address", "--listen"));
  }
  const apiKeys: [string, string][] = [];
  for (const pair of values["api-key"] ?? []) {
    const i = pair.indexOf(":");
    if (i <= 0 || i === pair.length - 1) return bad(`--api-key ${JSON.stringify(pair)} is not ID:SECRET`);
    apiKeys.push([pair.slice(0, i), pair.slice(i + 1)]);
  }
  if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined)) return bad("--tls-cert and --tls-key go together");
  let heartbeatIntervalMs: number;
  let offerDeadlineMs: number;
  try {
    heartbeatIntervalMs = duration("heartbeat-interval", values["heartbeat-interval"], DEFAULT_HEARTBEAT_INTERVAL_MS);
    offerDeadlineMs = duration("offer-deadline", values["offer-deadline"], DEFAULT_OFFER_DEADLINE_MS);
  } catch (err) {
    return bad((err as Error).message);
  }

  const logger = createLogger({ level: "info", debug: values.debug ?? false });
  const server = await startSignalingServer({
    bindAddress: values.listen,
    tls: values["tls-cert"] && values["tls-key"] ? { certFile: values["tls-cert"], keyFile: values["tls-key"] } : undefined,
    apiKeys,
    allowedHosts: values["allow-host"] ?? [],
    heartbeatIntervalMs,
    offerDeadlineMs,
    logger,
  });
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`shutting down (${why})`);
    try {
      await server.close();
    } catch (err) {
      logger.error({ err }, "error while shutting down");
    }
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  console.log(`listening on ${server.url}`);
  console.log(`  auth: ${apiKeys.length > 0 ? `api-key (${apiKeys.map(([id]) => id).join(", ")})` : "none"}`);
  return new Promise<number>(() => {});
}
