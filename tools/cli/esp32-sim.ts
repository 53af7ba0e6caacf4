// `sprocket esp32-sim --pty PATH`: a simulated ESP32 / ESP32-S3 / ESP32-C3 on a pseudo-terminal
// (through socat), for trying `sprocket flash|provision|monitor` — or any flasher — without a
// board. See tools/sim/esp32/pty.ts for how reset works without modem lines.
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { formatSize } from "../image/bytes.js";
import { DEFAULT_FLASH_SIZE, Esp32Sim } from "../sim/esp32/esp32-sim.js";
import { SIM_CHIP_NAMES, simChip, type SimChipName } from "../sim/esp32/chips.js";
import { PtyBridge, SocatMissingError } from "../sim/esp32/pty.js";
import { runAppOnBoot, type AppOnBoot } from "../sim/esp32/run-app.js";
import type { AppBootInfo } from "../sim/esp32/boot.js";
import type { World } from "../sim/world.js";
import { parseConfig } from "../../firmware/config/schema.js";
import { attachDevices } from "./micro-sim.js";

export const esp32SimUsage = `usage: sprocket esp32-sim --pty PATH [--chip esp32|esp32s3|esp32c3] [--flash-size 4MB] [--flash-file FILE]
                          [--boot download|app] [--idle-reset MS] [--realtime] [--verbose]
                          [--no-run-app] [--engine node|xs] [--app-port PORT]

  Serves a simulated chip on the pseudo-terminal PATH (needs socat: apt-get install socat).
  A pty has no DTR/RTS, so the board's reset is modelled instead:
    - a SYNC from the host while the chip runs the app = BOOT held and EN pressed (download mode)
    - after a flash write, --idle-reset MS of line silence (default 1500) = EN pressed (boots the app)
    - keys on this terminal: r = press EN (run the app), b = hold BOOT and press EN, q = quit
  --boot       how the chip starts: download (default, as if BOOT were held) or app
  --flash-file load the flash from FILE at start (if it exists) and save it there on exit
  --realtime   pace bytes at the baud rate (10 bits per byte), like a real UART
  --run-app    (default) when the chip boots into the app, start the micro runtime with the flashed
               NVS provisioning on a simulated board (device models for the config's drivers),
               serving RPC on 127.0.0.1:--app-port (default: any free port; the address is printed)
  --no-run-app only report what the app would run with
  --engine     what runs the micro runtime: node (default) or xs`;

function parseSize(text: string): number {
  const m = /^(\d+)\s*(MB|M|KB|K)?$/i.exec(text.trim());
  if (m === null) throw new Error(`--flash-size ${JSON.stringify(text)} is not a size like 4MB`);
  const unit = (m[2] ?? "").toUpperCase();
  return Number(m[1]) * (unit.startsWith("M") ? 1024 * 1024 : unit.startsWith("K") ? 1024 : 1);
}

export async function esp32SimCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        pty: { type: "string" },
        chip: { type: "string" },
        "flash-size": { type: "string" },
        "flash-file": { type: "string" },
        boot: { type: "string" },
        "idle-reset": { type: "string" },
        realtime: { type: "boolean" },
        "run-app": { type: "boolean" },
        "no-run-app": { type: "boolean" },
        engine: { type: "string" },
        "app-port": { type: "string" },
        verbose: { type: "boolean", short: "v" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    console.error(`sprocket esp32-sim: ${(err as Error).message}\n\n${esp32SimUsage}`);
    return 2;
  }
  if (values.help) {
    console.log(esp32SimUsage);
    return 0;
  }
  const bad = (message: string) => {
    console.error(`sprocket esp32-sim: ${message}\n\n${esp32SimUsage}`);
    return 2;
  };
  if (values.pty === undefined) return bad(`--pty PATH is required`);
  const chipName = (values.chip ?? "esp32").toLowerCase().replace(/-/g, "");
  if (simChip(chipName) === undefined) return bad(`--chip must be one of ${SIM_CHIP_NAMES.join(", ")}`);
  let flashSize = DEFAULT_FLASH_SIZE;
  try {
    if (values["flash-size"] !== undefined) flashSize = parseSize(values["flash-size"]);
  } catch (err) {
    return bad((err as Error).message);
  }
  if (values.boot !== undefined && values.boot !== "download" && values.boot !== "app") return bad(`--boot must be download or app`);
  const idleReset = values["idle-reset"] === undefined ? 1500 : Number(values["idle-reset"]);
  if (!Number.isInteger(idleReset) || idleReset < 0) return bad(`--idle-reset wants milliseconds (0 turns it off)`);
  if (values["run-app"] && values["no-run-app"]) return bad(`--run-app and --no-run-app contradict each other`);
  const runAppEnabled = !(values["no-run-app"] ?? false);
  const engine = values.engine ?? "node";
  if (engine !== "node" && engine !== "xs") return bad(`--engine must be node or xs`);
  const appPort = values["app-port"] === undefined ? 0 : Number(values["app-port"]);
  if (!Number.isInteger(appPort) || appPort < 0 || appPort > 65535) return bad(`--app-port wants a TCP port (0: any free one)`);

  let initial: Uint8Array | undefined;
  const flashFile = values["flash-file"];
  if (flashFile !== undefined) {
    initial = await readFile(flashFile).then(
      (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
      () => undefined,
    );
  }
  const verbose = values.verbose ?? false;
  let sim: Esp32Sim;
  try {
    sim = new Esp32Sim({
      chip: chipName as SimChipName,
      flashSize,
      ...(initial ? { flash: initial } : {}),
      realtime: values.realtime ?? false,
      autoDownload: true,
      idleResetMs: idleReset,
      powerOn: values.boot === "app" ? "straps" : "download",
      log: verbose ? (line) => console.error(line) : undefined,
      onAppBoot: (info) => {
        const d = info.app.appDescription;
        const keys = Object.keys(info.provisioning).join(", ") || "none";
        console.log(
          `app booted: ${d?.projectName ?? "?"} ${d?.version ?? ""} for ${info.chip} from ${info.appPartition.name}; provisioning: ${keys}` +
            (info.nvsError ? ` (NVS: ${info.nvsError})` : "") +
            (runAppEnabled ? "" : `\n  the micro runtime would start here (--no-run-app)`),
        );
      },
      onBootFailure: (f) => console.log(`boot failed (${f.stage}): ${f.message}`),
    });
  } catch (err) {
    return bad((err as Error).message);
  }
  if (!verbose) sim.on("mode", (mode) => mode === "rom" && console.log(`download mode (ROM loader waiting)`));
  let apps: AppOnBoot | undefined;
  if (runAppEnabled) {
    apps = runAppOnBoot(sim, {
      engine,
      port: appPort,
      wire: wireForConfig,
      onStarted: (app) => {
        const part = app.provisioning.partId ?? "(no part id)";
        const host = app.provisioning.host === undefined ? "" : `, host ${app.provisioning.host}`;
        console.log(`micro runtime (${app.engine} engine) running part ${part}${host}: RPC on tcp://${app.address.host}:${app.address.port}`);
      },
      onStopped: () => console.log(`micro runtime stopped`),
      onError: (err) => console.log(`the micro runtime did not start: ${err instanceof Error ? err.message : String(err)}`),
    });
  }

  let bridge: PtyBridge;
  try {
    bridge = await PtyBridge.start(sim, values.pty);
  } catch (err) {
    sim.close();
    console.error(`sprocket esp32-sim: ${(err as Error).message}`);
    return err instanceof SocatMissingError ? 2 : 1;
  }
  console.log(
    `simulated ${sim.chip.family} (${formatSize(flashSize)} flash, MAC ${Array.from(sim.mac, (b) => b.toString(16).padStart(2, "0")).join(":")}) on ${bridge.path}\n` +
      `  flash it:  sprocket flash --port ${bridge.path} --firmware DIR\n` +
      `  no modem lines: a SYNC enters download mode, ${idleReset ? `${idleReset} ms of silence after a write boots the app` : "press r to boot the app"}; keys: r = EN, b = BOOT+EN, q = quit`,
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await apps?.close();
      sim.close();
      await bridge.close();
      if (flashFile !== undefined) {
        await writeFile(flashFile, sim.flash);
        console.log(`saved the flash to ${flashFile}`);
      }
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
      resolve(0);
    };
    process.once("SIGINT", () => void stop());
    process.once("SIGTERM", () => void stop());
    if (process.stdin.isTTY) process.stdin.setRawMode(true);
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (key: string) => {
      for (const k of key) {
        if (k === "r") sim.pressReset();
        else if (k === "b") {
          sim.holdBoot(true);
          sim.pressReset();
          setTimeout(() => sim.holdBoot(false), 50);
        } else if (k === "q" || k === "\u0003") void stop();
      }
    });
    process.stdin.on("end", () => undefined);
  });
}

/** Device models for the drivers the provisioned config names (nothing without a config). */
function wireForConfig(w: World, info: AppBootInfo): void {
  const blob = info.provisioning.config;
  if (blob === undefined) return;
  let config;
  try {
    config = parseConfig(new TextDecoder().decode(blob));
  } catch {
    return; // the firmware reports a bad config itself
  }
  const { devices, warnings } = attachDevices(w, config);
  for (const d of devices) console.log(`  simulated ${d.component}: ${d.description}`);
  for (const warning of warnings) console.log(`  warning: ${warning}`);
}
