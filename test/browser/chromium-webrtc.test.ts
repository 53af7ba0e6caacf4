// Issue 3, end to end in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) loads a page bundled with the official Viam SDK, served from a different origin
// than the host, so the host's grpc-web signaling answers CORS preflights. The SDK dials the host
// over browser WebRTC with the host as its own signaler (spec §1.2) and reads the fake sensor; the
// host side checks that GetReadings never came over HTTP, i.e. it came over the data channel.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium, type BrowserContext } from "playwright-core";
import type { Host } from "../../host/host.js";
import { allFakesConfig, startTestHost, testKeyId, testKeySecret, withApiKey, type ObservedRequest } from "../support/host.js";
import type { PageResult } from "./page/main.js";

const chromiumPath = "/usr/bin/chromium";
/** node.md: what this machine's headless Chromium needs (its closed network refuses background traffic). */
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // No name lookups leave the machine: the page and the host are on 127.0.0.1.
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];
/** A guard against a hung browser, not a timing assertion: the dial itself gives up after 10 s. */
const pageResultWaitMs = 60_000;
const getReadingsPath = "/viam.component.sensor.v1.SensorService/GetReadings";

const indexHtml = `<!doctype html>
<html>
  <head><meta charset="utf-8"><title>Sprocket: the Viam SDK over browser WebRTC</title></head>
  <body>
    <pre id="result"></pre>
    <script type="module" src="./main.js"></script>
  </body>
</html>
`;

/** Bundles the page (the compiled main.js next to this file) with the SDK into `dir`, with index.html. */
async function bundlePage(dir: string): Promise<void> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./page/main.js", import.meta.url))],
    outfile: join(dir, "main.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    logLevel: "silent",
  });
  assert.deepEqual(result.errors, []);
  await writeFile(join(dir, "index.html"), indexHtml);
}

/** Serves `dir`'s index.html and main.js on a loopback port of its own (a second origin). */
async function serveStatic(dir: string): Promise<http.Server> {
  const files: Record<string, { file: string; type: string }> = {
    "/": { file: "index.html", type: "text/html; charset=utf-8" },
    "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
    "/main.js": { file: "main.js", type: "text/javascript; charset=utf-8" },
  };
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    const entry = files[path];
    if (req.method !== "GET" || !entry) {
      res.writeHead(404).end();
      return;
    }
    readFile(join(dir, entry.file)).then(
      (body) => res.writeHead(200, { "content-type": entry.type, "cache-control": "no-store" }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return server;
}

describe("the Viam SDK in headless Chromium over WebRTC", { timeout: 120_000 }, () => {
  let host: Host | undefined;
  let staticServer: http.Server | undefined;
  let context: BrowserContext | undefined;
  const tempDirs: string[] = [];
  const requests: ObservedRequest[] = [];
  const consoleLines: string[] = [];
  let pageOrigin = "";
  let result: PageResult;

  before(async () => {
    if (!existsSync(chromiumPath)) {
      throw new Error(
        `Chromium is not installed at ${chromiumPath}: this test needs Debian's chromium package ` +
          `(apt-get install -y chromium; .ci/run installs it). It does not skip without it.`,
      );
    }
    host = await startTestHost(withApiKey(allFakesConfig()), { onRequest: (r) => requests.push(r) });
    const hostUrl = new URL(host.url);
    assert.equal(hostUrl.hostname, "127.0.0.1", "the test host binds 127.0.0.1");
    const rpcHost = `127.0.0.1:${hostUrl.port}`;
    assert.ok(host.signalingHosts.includes(rpcHost), `${rpcHost} among ${host.signalingHosts.join(", ")}`);

    const pageDir = await mkdtemp(join(tmpdir(), "sprocket-page-"));
    tempDirs.push(pageDir);
    await bundlePage(pageDir);
    staticServer = await serveStatic(pageDir);
    pageOrigin = `http://127.0.0.1:${(staticServer.address() as AddressInfo).port}`;

    const userDataDir = await mkdtemp(join(tmpdir(), "sprocket-chromium-"));
    tempDirs.push(userDataDir);
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (err) => consoleLines.push(`pageerror: ${err.message}`));

    const query = new URLSearchParams({
      host: rpcHost,
      signaling: `http://${rpcHost}`,
      keyId: testKeyId,
      keySecret: testKeySecret,
      sensor: "sensor1",
    });
    await page.goto(`${pageOrigin}/?${query}`);
    await page.waitForFunction("window.__result !== undefined", undefined, { timeout: pageResultWaitMs });
    result = (await page.evaluate("window.__result")) as PageResult;
  });

  after(async () => {
    await context?.close();
    if (staticServer) {
      staticServer.closeAllConnections();
      await new Promise<void>((resolve) => staticServer!.close(() => resolve()));
    }
    await host?.close();
    for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  });

  /** The page's result and console, for a failing assertion's message. */
  const details = () => `page result ${JSON.stringify(result)}\npage console:\n${consoleLines.slice(-40).join("\n")}`;

  test("the page connects over real browser WebRTC", (t) => {
    assert.equal(result.ok, true, details());
    assert.equal(result.connectionState, "connected", details());
    assert.equal(result.dataChannelState, "open", details());
    if (result.via === "dial") {
      // createRobotClient may lose the SDK's iceConnectionState race (spec §6.7); that is the only
      // failure the page tolerates, and the connection it raced on must have been up.
      assert.match(result.createRobotClientError ?? "", /Failed to connect to robot/);
      assert.equal(result.racedConnectionState, "connected", details());
    } else {
      assert.equal(result.via, "createRobotClient", details());
      assert.equal(result.iceConnectionState, "connected", details());
    }
    t.diagnostic(
      `connected via ${result.via}${result.createRobotClientError ? ` (createRobotClient: ${result.createRobotClientError})` : ""}; ` +
        `page result after ${result.elapsedMs} ms`,
    );
  });

  test("the page reads the fake sensor's readings", () => {
    assert.equal(result.ok, true, details());
    const readings = result.readings ?? {};
    for (const key of ["a", "b", "c"]) assert.ok(key in readings, `reading "${key}" in ${JSON.stringify(readings)}`);
    assert.deepEqual([readings.a, readings.b, readings.c], [1, 2, 3]);
  });

  test("at the host: signaling over cross-origin grpc-web, GetReadings over the data channel", () => {
    assert.equal(result.ok, true, details());
    assert.ok(host!.signaling.peerCount >= 1, "the host's signaler holds the browser's peer connection");
    if (result.via === "createRobotClient") assert.equal(host!.signaling.peerCount, 1);

    const paths = requests.map((r) => `${r.method} ${r.path}`);
    assert.ok(!requests.some((r) => r.path.startsWith(getReadingsPath)), `GetReadings never came over HTTP: ${paths.join(", ")}`);

    const call = requests.find((r) => r.method === "POST" && r.path === "/proto.rpc.webrtc.v1.SignalingService/Call");
    assert.ok(call, `the browser called SignalingService/Call: ${paths.join(", ")}`);
    assert.match(call.contentType, /^application\/grpc-web/);
    assert.equal(call.headers.origin, pageOrigin, "the page is a different origin than the host");
    assert.ok(
      requests.some((r) => r.method === "OPTIONS" && r.path === "/proto.rpc.webrtc.v1.SignalingService/Call"),
      `the browser sent a CORS preflight for Call: ${paths.join(", ")}`,
    );
    assert.ok(requests.some((r) => r.method === "POST" && r.path === "/proto.rpc.v1.AuthService/Authenticate"));
  });
});
