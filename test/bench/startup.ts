// Machine lifecycle timings, each beside its floor, against the real CLI (`node dist/host/cli.js serve`):
//
// * startup: from spawning the process to `GET /` answering, and to the start banner (printed once
//   every resource has been built), with 200 fake components over 10 dependency levels; the floor is
//   the same process with an empty config.
// * reconfigure: from an atomic write of the config file (one sensor added to the 200) to that sensor
//   being in ResourceNames (polled over h2c gRPC); the floor is the watcher's 500 ms debounce.
//
// Each round is one process start or one file write; p50 is the median and p99 the nearest-rank 99th
// percentile of the rounds (with few rounds, the slowest). There is no calls/s for these rows.
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { RobotService } from "../../proto/gen/robot/v1/robot_pb.js";
import { CONFIG_WATCH_DEBOUNCE_MS } from "../../host/config/watch.js";
import type { Benchmark, BenchOptions, BenchRow } from "./bench.js";
import { median, percentile } from "./stats.js";

const cli = fileURLToPath(new URL("../../host/cli.js", import.meta.url));
const LEVELS = 10;
const PER_LEVEL = 20;
/** Startup rounds at least this many (each is a process start, about a second). */
const MIN_ROUNDS = 5;

const fakeApis = ["sensor", "generic", "servo", "power_sensor", "movement_sensor", "encoder", "board", "motor"] as const;

/** 200 fakes: level 0 has no dependencies, each later component depends on two of the level before. */
export function layeredComponents(levels = LEVELS, perLevel = PER_LEVEL): object[] {
  const out: object[] = [];
  for (let level = 0; level < levels; level++) {
    for (let i = 0; i < perLevel; i++) {
      const api = fakeApis[(level * perLevel + i) % fakeApis.length]!;
      const entry: Record<string, unknown> = { name: `c${level}_${i}`, api: `rdk:component:${api}`, model: "fake" };
      if (api === "motor") entry.attributes = { max_rpm: 100 };
      if (level > 0) entry.depends_on = [`c${level - 1}_${i}`, `c${level - 1}_${(i + 1) % perLevel}`];
      out.push(entry);
    }
  }
  return out;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}

const configText = (port: number, components: object[]) =>
  `${JSON.stringify({ network: { bind_address: `127.0.0.1:${port}` }, components }, null, 2)}\n`;

function getRoot(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/", method: "GET", agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode === 200));
    });
    req.on("error", () => resolve(false));
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Started {
  child: ChildProcess;
  servingMs: number;
  readyMs: number;
}

/** Spawns the CLI and times GET / answering and the start banner, from just before spawn. */
async function startServer(path: string, port: number): Promise<Started> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, "serve", "--config", path], { stdio: ["ignore", "pipe", "pipe"] });
  let readyMs = Number.NaN;
  let output = "";
  const banner = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (Number.isNaN(readyMs) && /^Sprocket .* serving /m.test(output)) {
        readyMs = performance.now() - t0;
        resolve();
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.once("exit", (code) => reject(new Error(`sprocket exited (${code}) before serving:\n${output}`)));
  });
  banner.catch(() => undefined);
  let servingMs = Number.NaN;
  for (;;) {
    if (await getRoot(port)) {
      servingMs = performance.now() - t0;
      break;
    }
    if (child.exitCode !== null) break;
    await sleep(2);
  }
  await banner;
  return { child, servingMs, readyMs };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

function row(benchmark: string, transport: string, samples: number[], floor: number[]): BenchRow {
  const s = [...samples].sort((a, b) => a - b);
  const f = [...floor].sort((a, b) => a - b);
  const p50Ms = median(s);
  const p99Ms = percentile(s, 99);
  const floorP50Ms = median(f);
  const floorP99Ms = percentile(f, 99);
  return {
    benchmark,
    transport,
    callers: 1,
    p50Ms,
    p99Ms,
    callsPerSec: Number.NaN,
    floorP50Ms,
    floorP99Ms,
    floorCallsPerSec: Number.NaN,
    ratioP50: p50Ms / floorP50Ms,
    ratioP99: p99Ms / floorP99Ms,
    ratioCallsPerSec: Number.NaN,
  };
}

export const startupBenchmark: Benchmark = {
  name: "startup",
  description: "process start to serving and to all resources ready (200 fakes, 10 levels), and config write to live",
  async run(opts: BenchOptions): Promise<BenchRow[]> {
    const dir = await mkdtemp(join(tmpdir(), "sprocket-bench-startup-"));
    const rounds = Math.max(MIN_ROUNDS, opts.rounds);
    const components = layeredComponents();
    try {
      const serving = { full: [] as number[], empty: [] as number[] };
      const ready = { full: [] as number[], empty: [] as number[] };
      for (let round = 0; round < rounds; round++) {
        // Alternate which goes first, so drift spreads over both.
        const order = round % 2 === 0 ? (["full", "empty"] as const) : (["empty", "full"] as const);
        for (const which of order) {
          const port = await freePort();
          const path = join(dir, `${which}-${round}.json`);
          await writeFile(path, configText(port, which === "full" ? components : []));
          const started = await startServer(path, port);
          serving[which].push(started.servingMs);
          ready[which].push(started.readyMs);
          await stopServer(started.child);
        }
        opts.log(`startup: round ${round + 1}/${rounds}: serving ${serving.full.at(-1)!.toFixed(0)} ms (empty ${serving.empty.at(-1)!.toFixed(0)} ms), ready ${ready.full.at(-1)!.toFixed(0)} ms`);
      }

      // Config write -> live, on one running process with the 200 fakes.
      const port = await freePort();
      const path = join(dir, "live.json");
      await writeFile(path, configText(port, components));
      const started = await startServer(path, port);
      const sessionManager = new Http2SessionManager(`http://127.0.0.1:${port}`);
      const client = createClient(RobotService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}`, sessionManager }));
      const live: number[] = [];
      try {
        for (let round = 0; round < rounds; round++) {
          const name = `added_${round}`;
          const text = configText(port, [...components, { name, api: "rdk:component:sensor", model: "fake" }]);
          await writeFile(`${path}.tmp`, text);
          const t0 = performance.now();
          await rename(`${path}.tmp`, path);
          for (;;) {
            const { resources } = await client.resourceNames({});
            if (resources.some((r) => r.name === name)) break;
            await sleep(2);
          }
          live.push(performance.now() - t0);
          opts.log(`startup: config write to live ${live.at(-1)!.toFixed(0)} ms`);
          await sleep(100);
        }
      } finally {
        sessionManager.abort();
        await stopServer(started.child);
      }

      const debounce = Array.from({ length: rounds }, () => CONFIG_WATCH_DEBOUNCE_MS);
      return [
        row("startup: spawn -> GET / answers", "200 fakes/10 levels vs empty", serving.full, serving.empty),
        row("startup: spawn -> all resources ready", "200 fakes/10 levels vs empty", ready.full, ready.empty),
        row("reconfigure: file write -> live", "200 fakes + 1 vs 500 ms debounce", live, debounce),
      ];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
