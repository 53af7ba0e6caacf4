// proto/channel runs on Moddable XS too: its compiled files must use no
// host APIs. A plain text scan of the compiled JavaScript (comments removed).

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

// dist/test/proto/ -> dist/proto/channel/
const dir = fileURLToPath(new URL("../../proto/channel/", import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith(".js"));

function code(file: string): string {
  return readFileSync(dir + file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

const FORBIDDEN: [string, RegExp][] = [
  ["node: import", /["']node:/],
  ["Buffer", /\bBuffer\b/],
  ["process", /\bprocess\b/],
  ["setTimeout", /\bsetTimeout\b/],
  ["setInterval", /\bsetInterval\b/],
  ["setImmediate", /\bsetImmediate\b/],
  ["AbortController", /\bAbortController\b/],
  ["AbortSignal", /\bAbortSignal\b/],
  ["require", /\brequire\s*\(/],
  ["window/document", /\b(window|document)\s*\./],
];

test("the compiled channel files are there", () => {
  for (const f of ["frames.js", "packets.js", "queue.js", "server.js", "client.js", "protobuf-codec.js", "index.js"]) {
    assert.ok(files.includes(f), `${f} missing from ${dir}`);
  }
});

test("no host APIs in proto/channel", () => {
  for (const file of files) {
    const text = code(file);
    for (const [name, re] of FORBIDDEN) assert.doesNotMatch(text, re, `${file} uses ${name}`);
  }
});

test("imports stay inside proto/channel, except the protobuf-es codec", () => {
  for (const file of files) {
    const specs = [
      ...code(file).matchAll(/\b(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(?\s*["']([^"']+)["']/g),
    ].map((m) => m[1] ?? m[2]);
    for (const spec of specs) {
      if (file === "protobuf-codec.js") {
        assert.ok(/^\.\/|^\.\.\/gen\/|^@bufbuild\/protobuf(\/wkt)?$/.test(spec), `${file} imports ${spec}`);
      } else {
        assert.match(spec, /^\.\/[a-z-]+\.js$/, `${file} imports ${spec}`);
        assert.notEqual(spec, "./protobuf-codec.js", `${file} must not pull in protobuf-es`);
      }
    }
  }
});
