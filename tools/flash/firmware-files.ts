// Node side of plan.ts: reads `--firmware DIR|manifest.json` into a FirmwareSource. A directory
// is a Moddable ESP32 build (`xs_esp32.bin`, `bootloader.bin`, `partition-table.bin`, optional
// `ota_data_initial.bin`); a manifest is esp-web-tools' JSON, its part paths relative to it
// (read by firmware-source.ts's manifestSource, as the flasher page does with fetched parts).
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { ImageError } from "../image/bytes.js";
import { readBuildDir } from "../image/node/read-build-dir.js";
import { manifestSource } from "./firmware-source.js";
import type { FirmwareSource } from "./plan.js";

export async function readFirmware(path: string): Promise<FirmwareSource> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) throw new ImageError(`--firmware ${path}: no such file or directory`);
  if (info.isDirectory()) return { kind: "build", name: path, build: await readBuildDir(path) };
  const text = await readFile(path, "utf8");
  const name = basename(path);
  const base = dirname(resolve(path));
  return manifestSource(name, text, async (part) => {
    if (/^[a-z]+:\/\//i.test(part)) throw new ImageError(`${name}: part ${part} is a URL; the CLI reads parts from files next to the manifest`);
    const bytes = await readFile(resolve(base, part));
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  });
}
