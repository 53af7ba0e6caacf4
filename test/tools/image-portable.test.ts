// tools/image/*.ts is shared with the browser flasher page: what it compiles to, and everything it
// imports, must use no Node APIs. tools/image/node/ is the Node-only side. A text scan of the
// compiled JavaScript (comments removed), following imports.
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

// dist/test/tools/ → dist/
const dist = fileURLToPath(new URL("../../", import.meta.url));
const imageDir = join(dist, "tools/image");

function code(file: string): string {
  return readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

function imports(text: string): string[] {
  return [...text.matchAll(/\b(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(?\s*["']([^"']+)["']/g)].map((m) => (m[1] ?? m[2])!);
}

const FORBIDDEN: [string, RegExp][] = [
  ["Buffer", /\bBuffer\b/],
  ["process", /\bprocess\b/],
  ["require", /\brequire\s*\(/],
  ["__dirname", /\b__dirname\b/],
  ["window/document", /\b(window|document)\s*\./],
];

const ALLOWED_PACKAGES = /^@noble\/hashes\/(legacy|sha2)\.js$/;
const builtins = new Set(builtinModules);

test("the shared image modules and what they import use no Node APIs", () => {
  const roots = readdirSync(imageDir)
    .filter((f) => f.endsWith(".js"))
    .map((f) => join(imageDir, f));
  for (const name of ["nvs.js", "crc32.js", "partition-table.js", "app-image.js", "manifest.js", "provisioning.js"]) {
    assert.ok(roots.includes(join(imageDir, name)), `${name} missing from ${imageDir}`);
  }
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const where = relative(dist, file);
    assert.ok(!where.startsWith("tools/image/node/"), `${where} is Node-only but reached from the shared modules`);
    const text = code(file);
    for (const [what, re] of FORBIDDEN) assert.doesNotMatch(text, re, `${where} uses ${what}`);
    for (const spec of imports(text)) {
      if (spec.startsWith(".")) {
        const target = join(dirname(file), spec);
        assert.ok(existsSync(target), `${where} imports ${spec}, which does not exist`);
        queue.push(target);
      } else {
        assert.ok(!spec.startsWith("node:") && !builtins.has(spec), `${where} imports Node's ${spec}`);
        assert.match(spec, ALLOWED_PACKAGES, `${where} imports ${spec}`);
      }
    }
  }
  assert.ok(seen.has(join(dist, "firmware/provisioning/keys.js")), "the key definitions are shared, not copied");
});

test("the key definitions import nothing (they run on XS)", () => {
  const text = code(join(dist, "firmware/provisioning/keys.js"));
  assert.deepEqual(imports(text), []);
});
