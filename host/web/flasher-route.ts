// The flasher page at /flash: the static files `npm run build:web` writes to dist/web/flash/
// (tools/web/build.mjs). `/flash` redirects to `/flash/` so the page's relative URLs resolve;
// only plain file names directly in that directory are served. When the page has not been built,
// /flash answers 404 with a text that says how to build it.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HttpRoute } from "../server/server.js";

/** dist/web/flash/, next to the compiled host (dist/host/web/ → dist/web/flash/). */
export const flasherDir = fileURLToPath(new URL("../../web/flash/", import.meta.url));

export const FLASHER_PATH = "/flash";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

export function notBuiltText(dir: string): string {
  return `The flasher page is not built: ${join(dir, "index.html")} is missing.\nRun \`npm run build:web\` (or \`npm run build\`) and reload.\n`;
}

/** Serves the flasher page's files from `dir` (default dist/web/flash/) under /flash/. */
export function flasherRoute(dir: string = flasherDir): HttpRoute {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://host");
    const path = url.pathname;
    if (path !== FLASHER_PATH && !path.startsWith(`${FLASHER_PATH}/`)) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
      res.end("the flasher page is read with GET\n");
      return true;
    }
    if (path === FLASHER_PATH) {
      res.writeHead(308, { location: `${FLASHER_PATH}/${url.search}` });
      res.end();
      return true;
    }
    const name = path.slice(FLASHER_PATH.length + 1) || "index.html";
    const type = CONTENT_TYPES[name.slice(name.lastIndexOf("."))];
    if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(name) || type === undefined) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end(`no such file in the flasher page: ${name}\n`);
      return true;
    }
    readFile(join(dir, name)).then(
      (body) => {
        res.writeHead(200, { "content-type": type, "content-length": String(body.length), "cache-control": "no-cache" });
        if (req.method === "HEAD") res.end();
        else res.end(body);
      },
      (err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT" && err.code !== "ENOTDIR") {
          res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
          res.end(`cannot read ${name}: ${err.message}\n`);
          return;
        }
        res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
        res.end(name === "index.html" ? notBuiltText(dir) : `no such file in the flasher page: ${name}\n`);
      },
    );
    return true;
  };
}
