// Node side of plan.ts: reads `--firmware DIR|manifest.json` into a FirmwareSource. A directory
// is a Moddable ESP32 build (`xs_esp32.bin`, `bootloader.bin`, `partition-table.bin`, optional
// `ota_data_initial.bin`); a manifest is esp-web-tools' JSON, its part paths relative to it.
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { ImageError } from "../image/bytes.js";
import { readBuildDir } from "../image/node/read-build-dir.js";
import { readManifestText, type FirmwareSource } from "./plan.js";

export async function readFirmware(path: string): Promise<FirmwareSource> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) throw new ImageError(`--firmware ${path}: no such file or directory`);
  if (info.isDirectory()) return { kind: "build", name: path, build: await readBuildDir(path) };
  const text = await readFile(path, "utf8");
  const manifest = readManifestText(basename(path), text);
  const files = new Map<string, Uint8Array>();
  const base = dirname(resolve(path));
  for (const build of manifest.builds) {
    for (const part of build.parts) {
      if (files.has(part.path)) continue;
      if (/^[a-z]+:\/\//i.test(part.path)) throw new ImageError(`${basename(path)}: part ${part.path} is a URL; the CLI reads parts from files next to the manifest`);
      try {
        const bytes = await readFile(resolve(base, part.path));
        files.set(part.path, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      } catch (err) {
        throw new ImageError(`${basename(path)}: cannot read part ${part.path}: ${(err as Error).message}`);
      }
    }
  }
  return { kind: "manifest", name: basename(path), manifest, files };
}
