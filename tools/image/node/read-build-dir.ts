// Node side of tools/image/manifest.ts: reads the flashable files of a Moddable ESP32 build
// directory (`$MODDABLE/build/bin/esp32[/<sub>]/<variant>/<NAME>/`) into the Map the portable
// code takes. Files the build did not produce (ota_data_initial.bin without OTA) are left out.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ImageError } from "../bytes.js";
import { MODDABLE_BUILD_FILES, buildFromModdable, type BuildFiles, type FirmwareBuild } from "../manifest.js";

export async function readBuildDir(dir: string): Promise<BuildFiles> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new ImageError(`${dir} is not a directory`);
  const files = new Map<string, Uint8Array>();
  for (const name of MODDABLE_BUILD_FILES) {
    try {
      const bytes = await readFile(join(dir, name));
      files.set(name, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return { files };
}

/** `buildFromModdable` over a directory. */
export async function readModdableBuild(dir: string, options: { name?: string; version?: string } = {}): Promise<FirmwareBuild> {
  return buildFromModdable(await readBuildDir(dir), options);
}
