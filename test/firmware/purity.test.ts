// firmware/ must run on XS as it is: it may import only relative modules and the modules a Moddable
// manifest provides (those @moddable/typings declares), never Node built-ins, and may not use Node
// or DOM globals. Also, `npm run check:firmware` (tsc against the typings alone) must pass.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url)); // dist/test/firmware → repository
const firmware = join(root, "firmware");
const typings = join(root, "node_modules", "@moddable", "typings");

/** Globals a board does not have (Node's, the browser's, and timers Moddable offers only as `timer`). */
const FORBIDDEN_GLOBALS = [
  "Buffer", "process", "require", "module", "exports", "__dirname", "__filename", "global",
  "setTimeout", "setInterval", "setImmediate", "clearTimeout", "clearInterval", "clearImmediate", "queueMicrotask",
  "window", "document", "navigator", "localStorage", "fetch", "XMLHttpRequest", "WebSocket", "console",
];

function files(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(suffix))
    .map((name) => join(dir, name));
}

/** The module names @moddable/typings declares (`declare module "…"`). */
function moddableModules(): Set<string> {
  const names = new Set<string>();
  for (const file of files(typings, ".d.ts")) {
    for (const match of readFileSync(file, "utf8").matchAll(/declare\s+module\s+["']([^"']+)["']/g)) names.add(match[1]);
  }
  return names;
}

/** The source with comments and the contents of string and template literals blanked out. */
function code(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`/g, (m) =>
    m.startsWith("/") ? " " : m[0] + m[m.length - 1],
  );
}

/** What a firmware source does that a board cannot, one line per finding. */
export function findings(source: string, allowed: Set<string>): string[] {
  const found: string[] = [];
  const specifiers = [
    ...source.matchAll(/\b(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/g),
    ...source.matchAll(/\bimport\s*["']([^"']+)["']/g),
    ...source.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
    ...source.matchAll(/\brequire\s*\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]);
  for (const specifier of specifiers) {
    if (specifier.startsWith("./") || specifier.startsWith("../")) continue;
    if (specifier.startsWith("node:")) found.push(`imports Node built-in "${specifier}"`);
    else if (!allowed.has(specifier)) found.push(`imports "${specifier}", which no Moddable manifest provides`);
  }
  const stripped = code(source);
  for (const name of FORBIDDEN_GLOBALS) {
    // A use of the global: not a property (`.name`), not a declaration or key of our own.
    if (new RegExp(`(?<![.\\w$#])${name}(?![\\w$])(?!\\s*:)`).test(stripped)) found.push(`uses ${name}`);
  }
  if (/\blib\s*=\s*["']dom|reference\s+lib=["']dom/.test(source)) found.push("references the DOM library");
  return found;
}

test("the scanner catches Node and DOM use", () => {
  const allowed = new Set(["timer", "embedded:io/i2c"]);
  const bad = [
    'import fs from "fs";',
    'import { join } from "node:path";',
    'const b = Buffer.from("x");',
    "if (process.env.X) {}",
    "setTimeout(() => {}, 1);",
    "document.title = 'x';",
    'const m = await import("os");',
  ].join("\n");
  assert.deepEqual(findings(bad, allowed).sort(), [
    'imports "fs", which no Moddable manifest provides',
    'imports "os", which no Moddable manifest provides',
    'imports Node built-in "node:path"',
    "uses Buffer",
    "uses document",
    "uses process",
    "uses setTimeout",
  ]);
  const good = [
    'import Timer from "timer";',
    'import type I2C from "embedded:io/i2c";',
    'import { x } from "./registers.js";',
    '// setTimeout and Buffer in a comment are fine, and "process" in a string',
    "const o = { process: 1 }; o.process; this.#buffer;",
  ].join("\n");
  assert.deepEqual(findings(good, allowed), []);
});

test("firmware/ imports only Moddable modules and uses no Node or DOM globals", () => {
  const allowed = moddableModules();
  assert.ok(allowed.has("embedded:io/i2c") && allowed.has("timer") && allowed.has("preference"));
  const sources = files(firmware, ".ts");
  assert.ok(sources.length > 0);
  const problems = sources.flatMap((file) => findings(readFileSync(file, "utf8"), allowed).map((f) => `${relative(root, file)}: ${f}`));
  assert.deepEqual(problems, []);
});

test("npm run check:firmware: firmware type-checks against @moddable/typings alone", () => {
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", join(firmware, "tsconfig.json"), "--noEmit", "--pretty", "false"], {
    cwd: root,
    encoding: "utf8",
  });
  assert.equal(result.status, 0, result.stdout + result.stderr);
  const config = readFileSync(join(firmware, "tsconfig.json"), "utf8");
  assert.doesNotMatch(config, /"node"|"dom"/i, "firmware/tsconfig.json must not load Node or DOM types");
});
