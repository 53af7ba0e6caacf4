// The simulator core (tools/sim/esp32, all but pty.ts and run-app.ts), the flashing session
// (tools/flash/ session.ts, plan.ts, progress.ts, flow.ts, firmware-source.ts) and the flasher
// page (tools/web/flash) run in a browser: no Node APIs in them or in anything they import. A text
// scan of the compiled JavaScript, following relative imports.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../../", import.meta.url));
const builtins = new Set(builtinModules);
const ALLOWED_PACKAGES = new Set(["@noble/hashes/legacy.js", "@noble/hashes/sha2.js", "pako", "esptool-js"]);

function code(file: string): string {
  return readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

test("the simulator core and the flashing session use no Node APIs", () => {
  const roots = [
    "tools/sim/esp32/esp32-sim.js",
    "tools/sim/esp32/web-serial-port.js",
    "tools/flash/session.js",
    "tools/flash/plan.js",
    "tools/flash/progress.js",
    "tools/flash/flow.js",
    "tools/flash/firmware-source.js",
    "tools/web/flash/flasher.js",
    "tools/web/flash/main.js",
  ].map((f) => join(dist, f));
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = code(file);
    const where = relative(dist, file);
    for (const [name, pattern] of [["Buffer", /\bBuffer\b/], ["process", /\bprocess\b/], ["require", /\brequire\s*\(/]] as const) {
      assert.ok(!pattern.test(text), `${where} uses ${name}`);
    }
    for (const m of text.matchAll(/\b(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(?\s*["']([^"']+)["']/g)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith(".")) queue.push(join(dirname(file), spec));
      else {
        assert.ok(!spec.startsWith("node:") && !builtins.has(spec), `${where} imports ${spec}`);
        assert.ok(ALLOWED_PACKAGES.has(spec), `${where} imports package ${spec}`);
      }
    }
  }
  assert.ok(seen.size > roots.length);
});
