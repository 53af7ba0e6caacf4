// Firmware sources for plan.ts from wherever the bytes come from: an esp-web-tools manifest with
// its part files (read from disk by the CLI, fetched relative to the manifest's URL or picked by
// the user in the flasher page), or the files of a Moddable build picked in the page. Portable;
// tools/flash/firmware-files.ts is the CLI's reader on top of it.
import { ImageError } from "../image/bytes.js";
import { MODDABLE_BUILD_FILES } from "../image/manifest.js";
import { readManifestText, type FirmwareSource } from "./plan.js";

/** Reads one part of a manifest by its `path`. An ImageError passes through as is; other errors are worded "cannot read part". */
export type PartLoader = (path: string) => Promise<Uint8Array>;

/** A manifest (JSON text) with the parts of all its builds, each read once. Errors name the manifest. */
export async function manifestSource(name: string, text: string, load: PartLoader): Promise<FirmwareSource> {
  const manifest = readManifestText(name, text);
  const files = new Map<string, Uint8Array>();
  for (const build of manifest.builds) {
    for (const part of build.parts) {
      if (files.has(part.path)) continue;
      try {
        files.set(part.path, await load(part.path));
      } catch (err) {
        if (err instanceof ImageError) throw err;
        throw new ImageError(`${name}: cannot read part ${part.path}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  return { kind: "manifest", name, manifest, files };
}

export interface PickedFile {
  /** The file's name (a file picker gives no directories). */
  name: string;
  bytes: Uint8Array;
}

const baseName = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/**
 * Files a user picked: a manifest (a `.json` file) with its parts among the other files, matched
 * by file name; or else the files of a Moddable build directory (`xs_esp32.bin`, `bootloader.bin`,
 * `partition-table.bin`, optional `ota_data_initial.bin`; other files of the directory, such as
 * `xs_esp32.elf`, are ignored).
 */
export async function pickedFilesSource(picked: readonly PickedFile[]): Promise<FirmwareSource> {
  if (picked.length === 0) throw new ImageError(`no files chosen: pick a Moddable build's files (xs_esp32.bin, bootloader.bin, partition-table.bin) or a manifest.json with its parts`);
  const manifests = picked.filter((f) => f.name.toLowerCase().endsWith(".json"));
  if (manifests.length > 1) throw new ImageError(`${manifests.length} JSON files chosen (${manifests.map((f) => f.name).join(", ")}): pick one manifest with its parts`);
  const byName = new Map(picked.map((f) => [f.name, f.bytes]));
  if (manifests.length === 1) {
    const manifest = manifests[0]!;
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(manifest.bytes);
    } catch {
      throw new ImageError(`${manifest.name}: manifest is not UTF-8 text`);
    }
    return manifestSource(manifest.name, text, async (path) => {
      const bytes = byName.get(path) ?? byName.get(baseName(path));
      if (bytes === undefined) throw new ImageError(`${manifest.name}: part ${path} was not chosen: pick it together with the manifest`);
      return bytes;
    });
  }
  const files = new Map<string, Uint8Array>();
  for (const name of MODDABLE_BUILD_FILES) {
    const bytes = byName.get(name);
    if (bytes !== undefined) files.set(name, bytes);
  }
  return { kind: "build", name: "the chosen build files", build: { files } };
}

/** Fetches bytes (the page passes a wrapper around fetch). Throws with a short reason, e.g. "HTTP 404". */
export type FetchBytes = (url: string) => Promise<Uint8Array>;

/** A manifest at a URL with its parts, whose paths are relative to the manifest's URL. */
export async function manifestUrlSource(url: string, fetchBytes: FetchBytes): Promise<FirmwareSource> {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new ImageError(`${JSON.stringify(url)} is not a URL`);
  }
  const name = baseName(base.pathname) || base.href;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(await fetchBytes(base.href));
  } catch (err) {
    throw new ImageError(`cannot fetch the manifest ${base.href}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return manifestSource(name, text, (path) => fetchBytes(new URL(path, base).href));
}
