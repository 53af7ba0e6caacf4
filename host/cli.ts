#!/usr/bin/env node
// `sprocket <command>`: one entry for the host and the tools.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ConfigError, parseMachineConfig } from "./config/load.js";
import { startHost, sprocketVersion } from "./host.js";
import { createLogger } from "./log/logger.js";
import { nvsCommand } from "../tools/cli/nvs.js";
import { flashCommand, monitorCommand, provisionCommand } from "../tools/cli/flash.js";
import { esp32SimCommand } from "../tools/cli/esp32-sim.js";
import { microSimCommand } from "../tools/cli/micro-sim.js";
import { signalingCommand } from "./signaling/cli.js";

const usage = `usage: sprocket <command> [options]

commands:
  serve --config FILE    run a machine from a JSON config (default examples/machine.json);
                         the file is watched and changes apply live. --debug: debug logs everywhere
  nvs create|dump ...    write or print an NVS provisioning image (sprocket nvs help)
  flash --port PATH --firmware DIR|manifest.json
                         write firmware (and provisioning) to an ESP32 board (sprocket flash --help)
  provision --port PATH  rewrite a board's NVS provisioning (--wifi-ssid, --host, ...)
  monitor --port PATH    print a board's serial log until Ctrl-C
  esp32-sim --pty PATH   a simulated ESP32 on a pseudo-terminal (needs socat)
  micro-sim --config micro.json --listen tcp://HOST:PORT [--serial PATH] [--engine node|xs]
                         the micro firmware on a simulated ESP32 with its devices (sprocket micro-sim --help)
  signaling --listen HOST:PORT [--api-key ID:SECRET]
                         a WebRTC signaling server other machines answer through (sprocket signaling --help)
  version                print the version
`;

async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: "string", short: "c" }, debug: { type: "boolean" } },
  });
  const configPath = values.config ?? "examples/machine.json";
  let configText: string;
  try {
    configText = await readFile(configPath, "utf8");
  } catch (err) {
    throw new ConfigError(configPath, [{ source: configPath, line: 0, column: 0, path: "", message: `cannot read config: ${(err as Error).message}` }], { cause: err });
  }
  const config = parseMachineConfig(configText, configPath);
  const logger = createLogger({ level: "info", debug: values.debug ?? false });

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`shutting down (${why})`);
    try {
      await host.close();
    } catch (err) {
      logger.error({ err }, "error while shutting down");
    }
    process.exit(0);
  };
  const host = await startHost({
    config,
    logger,
    configPath,
    configText,
    onShutdownRequested: () => void stop("RobotService.Shutdown"),
  });
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  const keys = config.auth.handlers.flatMap((h) => Object.keys(h.apiKeys));
  // Remote parts' resources are listed as `remote:name`; the parts themselves get a line each.
  const names = host.machine
    .entries()
    .filter((e) => e.name.namespace !== "rdk-internal")
    .map((e) => `${e.name.subtype}/${e.name.name} (${e.state})`);
  const remotes = host.remotes
    .parts()
    .map((p) => `  remote ${p.name} (${p.config.address}): ${p.state}${p.error ? ` (${p.error})` : ""}, ${p.entries().length} resources`);
  console.log(
    [
      ``,
      `Sprocket ${sprocketVersion} serving ${config.source} at ${host.url}`,
      `  resources: ${names.join(", ") || "none"}`,
      ...remotes,
      `  gRPC (h2c${host.server.listener.tls ? "/TLS" : ""}) and gRPC-web on the same port`,
      keys.length > 0
        ? `  auth: api-key; connect with entity "${keys[0]}" and its secret from the config`
        : `  auth: none (no auth.handlers configured)`,
      `  try:  new RobotClient().dial({ host: "${host.url}" })  with @viamrobotics/sdk`,
      ``,
    ].join("\n"),
  );
  return new Promise<number>(() => {});
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return serve(rest);
    case "nvs":
      return nvsCommand(rest);
    case "flash":
      return flashCommand(rest);
    case "provision":
      return provisionCommand(rest);
    case "monitor":
      return monitorCommand(rest);
    case "esp32-sim":
      return esp32SimCommand(rest);
    case "micro-sim":
      return microSimCommand(rest);
    case "signaling":
      return signalingCommand(rest);
    case "version":
    case "--version":
      console.log(sprocketVersion);
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(usage);
      return command === undefined ? 2 : 0;
    default:
      console.error(`sprocket: unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : `sprocket: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
