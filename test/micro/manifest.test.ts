// manifest.json, the Moddable manifest for `mcconfig -m -p esp32`, checked as data: every module
// the firmware imports is listed or comes from an included Moddable manifest, every firmware
// source is listed, relative imports resolve the way XS resolves them, the compiled files exist,
// the creation sizes are a classic ESP32's, and the sdkconfig leaves room for the RPC server's
// sockets.
//
// Modules come from the compiled JavaScript in dist/ (`npm run build` first), not the .ts sources:
// the project's own tsc (with its tsconfig and checks) produces exactly what the Node tests run,
// and mcconfig's generated tsconfig would differ (ES2022 target, its own `paths`).
import "../../tools/sim/register.js";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseSdkconfig } from "../../tools/sim/sdkconfig.js";

const root = fileURLToPath(new URL("../../../", import.meta.url)); // dist/test/micro → repository

interface Manifest {
  include: string[];
  creation: { static: number; chunk: { initial: number; incremental: number }; heap: { initial: number; incremental: number }; stack: number; main: string };
  modules: Record<string, string>;
  preload: string[];
  platforms: Record<string, { build?: Record<string, string>; error?: string }>;
}

const manifest = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8")) as Manifest;

/**
 * What each included Moddable manifest provides on ESP32, from shared/specs/esp32-moddable-flashing.md
 * (§1.1 module groups, §2.1 stock manifests, §3 networking and storage) for SDK 5.6.0.
 */
const PROVIDED_BY: Record<string, string[]> = {
  // creation keys, resource, timer (via build/devices/esp32/manifest.json), time, instrumentation.
  "$(MODDABLE)/examples/manifest_base.json": ["timer", "time", "Resource", "instrumentation"],
  // net, socket, sntp, wifi + setup/network, which joins config.ssid before main runs.
  "$(MODDABLE)/examples/manifest_net.json": ["net", "socket", "sntp", "wifi", "setup/network"],
  // ECMA-419 IO, the builtin provider and the lwIP sockets on ESP32.
  "$(MODDABLE)/modules/io/manifest.json": [
    "embedded:io/analog",
    "embedded:io/digital",
    "embedded:io/digitalbank",
    "embedded:io/i2c",
    "embedded:io/pwm",
    "embedded:io/serial",
    "embedded:io/spi",
    "embedded:io/smbus",
    "embedded:io/pulsecount",
    "embedded:io/system",
    "embedded:io/socket/tcp",
    "embedded:io/socket/udp",
    "embedded:io/socket/listener",
    "embedded:provider/builtin",
  ],
  // The legacy `wifi` module itself (newer SDKs' manifest_net includes only the ECMA-419 interface).
  "$(MODDABLE)/modules/network/wifi/manifest.json": ["wifi"],
  "$(MODDABLE)/modules/network/mdns/manifest.json": ["mdns", "dns", "dns/parser", "dns/serializer"],
  "$(MODDABLE)/modules/files/preference/manifest.json": ["preference"],
  "$(MODDABLE)/modules/base/instrumentation/manifest.json": ["instrumentation"],
};

function files(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(suffix) && !name.endsWith(".d.ts"))
    .map((name) => join(dir, name));
}

/** Every import/export specifier of a source (type-only imports included: they must resolve too). */
function specifiers(source: string): string[] {
  return [
    ...source.matchAll(/\b(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/g),
    ...source.matchAll(/\bimport\s*["']([^"']+)["']/g),
    ...source.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]);
}

/** XS's resolution of a relative specifier (xsHosts.c fxFindModule): strip ".js", join with the referrer's directory. */
function resolveLikeXS(referrer: string, specifier: string): string {
  return posix.normalize(posix.join(posix.dirname(referrer), specifier.replace(/\.m?js$/, "")));
}

function provided(): Set<string> {
  const names = new Set(Object.keys(manifest.modules));
  for (const include of manifest.include) for (const name of PROVIDED_BY[include] ?? []) names.add(name);
  return names;
}

test("includes Moddable's base, io, network, mdns, preference and instrumentation manifests, all known to this test", () => {
  for (const include of manifest.include) assert.ok(include in PROVIDED_BY, "unknown include " + include);
  for (const needed of [
    "$(MODDABLE)/examples/manifest_base.json",
    "$(MODDABLE)/examples/manifest_net.json",
    "$(MODDABLE)/modules/io/manifest.json",
    "$(MODDABLE)/modules/files/preference/manifest.json",
  ]) {
    assert.ok(manifest.include.includes(needed), needed);
  }
});

test("creation: a classic ESP32's fixed pools (chunk 78848, heap 4928 slots, stack 512), main is the firmware's entry", () => {
  const c = manifest.creation;
  assert.equal(c.static, 0);
  assert.deepEqual(c.chunk, { initial: 78848, incremental: 0 });
  assert.deepEqual(c.heap, { initial: 4928, incremental: 0 });
  assert.equal(c.stack, 512);
  assert.equal(c.main, "firmware/main");
  assert.ok(c.main in manifest.modules);
});

test("every firmware source is listed, under its path, from the compiled output in dist/", () => {
  const sources = files(join(root, "firmware"), ".ts").map((f) => relative(root, f).replace(/\\/g, "/").replace(/\.ts$/, ""));
  assert.ok(sources.length > 40);
  const missing = sources.filter((name) => manifest.modules[name] !== "./dist/" + name);
  assert.deepEqual(missing, []);
  for (const [name, path] of Object.entries(manifest.modules)) {
    assert.equal(path, "./dist/" + name, name);
    assert.ok(existsSync(join(root, path + ".js")), path + ".js missing: run npm run build");
  }
});

test("every bare import of firmware/ is provided by the manifest or an included Moddable manifest", () => {
  const names = provided();
  const problems: string[] = [];
  for (const file of files(join(root, "firmware"), ".ts")) {
    for (const s of specifiers(readFileSync(file, "utf8"))) {
      if (s.startsWith("./") || s.startsWith("../")) continue;
      if (!names.has(s)) problems.push(relative(root, file) + ": " + s);
    }
  }
  assert.deepEqual(problems, []);
});

test("relative imports of every listed module resolve, as XS resolves them, to listed modules", () => {
  const problems: string[] = [];
  for (const name of Object.keys(manifest.modules)) {
    const source = join(root, name + ".ts");
    assert.ok(existsSync(source), source);
    for (const s of specifiers(readFileSync(source, "utf8"))) {
      if (!s.startsWith("./") && !s.startsWith("../")) {
        if (!provided().has(s)) problems.push(name + ": bare " + s);
        continue;
      }
      const target = resolveLikeXS(name, s);
      if (!(target in manifest.modules)) problems.push(name + ": " + s + " → " + target + " is not listed");
    }
  }
  assert.deepEqual(problems, []);
});

test("nothing listed is unreachable from main, and everything but main is preloaded", () => {
  const reached = new Set<string>();
  const visit = (name: string) => {
    if (reached.has(name)) return;
    reached.add(name);
    for (const s of specifiers(readFileSync(join(root, name + ".ts"), "utf8"))) {
      if (s.startsWith("./") || s.startsWith("../")) visit(resolveLikeXS(name, s));
    }
  };
  visit(manifest.creation.main);
  const firmwareFiles = new Set(files(join(root, "firmware"), ".ts").map((f) => relative(root, f).replace(/\\/g, "/").replace(/\.ts$/, "")));
  const stray = Object.keys(manifest.modules).filter((m) => !reached.has(m) && !firmwareFiles.has(m));
  assert.deepEqual(stray, []);
  assert.deepEqual([...manifest.preload].sort(), Object.keys(manifest.modules).filter((m) => m !== manifest.creation.main).sort());
});

test("SDKCONFIGPATH holds an sdkconfig.defaults with sockets for the listener, 4 clients and a refusal", async () => {
  const dir = manifest.platforms.esp32?.build?.SDKCONFIGPATH;
  assert.equal(dir, "./firmware/sdkconfig");
  const options = parseSdkconfig(readFileSync(join(root, dir, "sdkconfig.defaults"), "utf8"));
  const sockets = Number(options.get("CONFIG_LWIP_MAX_SOCKETS"));
  const { MAX_CONNECTIONS } = await import("../../firmware/rpc/tcp-server.js");
  assert.ok(sockets >= 1 + MAX_CONNECTIONS + 1, "CONFIG_LWIP_MAX_SOCKETS=" + sockets);
  assert.ok(sockets <= 16, "lwIP allows at most 16");
  assert.ok(existsSync(join(dirname(join(root, "manifest.json")), dir)));
});
