// `npm run build:web`: the flasher page as static files in dist/web/flash/ (index.html, flash.css,
// main.js with its source map), which the host serves at /flash and which can be hosted anywhere
// (Web Serial needs https or localhost). esbuild bundles tools/web/flash/main.ts straight from the
// TypeScript sources with esptool-js (its flasher stubs included) for browsers with Web Serial;
// platform "browser" makes any Node module in the page's imports a build error.
//
// Also importable: `buildWebFlasher({ outDir })` (the flasher test builds the page it serves).
import { copyFile, mkdir, rm, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../../", import.meta.url));
const source = join(root, "tools/web/flash");
export const defaultOutDir = join(root, "dist/web/flash");

/** Builds the page into `outDir` (replacing what is there); returns the files and their sizes. */
export async function buildWebFlasher({ outDir = defaultOutDir, minify = true } = {}) {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(source, "main.ts")],
    outfile: join(outDir, "main.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    // Web Serial arrived in Chrome/Edge 89 and Opera 75.
    target: ["chrome89", "edge89", "opera75"],
    minify,
    sourcemap: "linked",
    legalComments: "eof",
    logLevel: "silent",
  });
  if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.text).join("\n"));
  await copyFile(join(source, "index.html"), join(outDir, "index.html"));
  await copyFile(join(source, "flash.css"), join(outDir, "flash.css"));
  const files = {};
  for (const name of ["index.html", "flash.css", "main.js", "main.js.map"]) files[name] = (await stat(join(outDir, name))).size;
  return { outDir, files };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now();
  const { outDir, files } = await buildWebFlasher();
  const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
  console.log(
    `built the flasher page into ${relative(process.cwd(), outDir) || "."} in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
      `(main.js ${kb(files["main.js"])}); the host serves it at /flash`,
  );
}
