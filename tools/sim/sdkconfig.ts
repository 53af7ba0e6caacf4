// The ESP-IDF options the simulator honours, read from the firmware's sdkconfig.defaults (the file
// manifest.json hands to mcconfig through SDKCONFIGPATH), so the simulated chip has the limits the
// real build gets. Missing options take Moddable's ESP32 defaults.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Moddable's build/devices/esp32/xsProj-esp32/sdkconfig.defaults: CONFIG_LWIP_MAX_SOCKETS=4. */
export const MODDABLE_DEFAULT_MAX_SOCKETS = 4;

/** Repository root from dist/tools/sim/ (compiled) or tools/sim/ (sources). */
function repositoryFile(path: string): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const root = here.includes("/dist/") ? new URL("../../../", import.meta.url) : new URL("../../", import.meta.url);
  return fileURLToPath(new URL(path, root));
}

export const FIRMWARE_SDKCONFIG = repositoryFile("firmware/sdkconfig/sdkconfig.defaults");

/** KEY=value lines of an sdkconfig file (comments and blank lines skipped; quotes removed). */
export function parseSdkconfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out.set(line.slice(0, eq).trim(), value);
  }
  return out;
}

export interface SimSdkconfig {
  /** CONFIG_LWIP_MAX_SOCKETS: sockets open at once, listeners included. */
  maxSockets: number;
}

let cached: SimSdkconfig | undefined;

/** The firmware's options (read once). */
export function firmwareSdkconfig(): SimSdkconfig {
  if (cached !== undefined) return cached;
  let options = new Map<string, string>();
  try {
    options = parseSdkconfig(readFileSync(FIRMWARE_SDKCONFIG, "utf8"));
  } catch {
    // No file: Moddable's defaults.
  }
  const sockets = Number(options.get("CONFIG_LWIP_MAX_SOCKETS") ?? MODDABLE_DEFAULT_MAX_SOCKETS);
  cached = { maxSockets: Number.isInteger(sockets) && sockets > 0 ? sockets : MODDABLE_DEFAULT_MAX_SOCKETS };
  return cached;
}
