// The benchmark runner (`npm run bench`): runs every benchmark in `benchmarks` in turn, prints their rows
// as one table on stdout, and with `--json [FILE]` also writes the rows to FILE (default bench-results.json).
// Measurements are against loopback only, and nothing here asserts on timings.
//
//   node dist/test/bench/run.js [--json [FILE]] [--only NAME[,NAME]] [--rounds N] [--round-ms MS] [--warmup N]
//
// To add a benchmark, write a module beside this one exporting a `Benchmark` (bench.ts) and list it below.
import { writeFile } from "node:fs/promises";
import type { Benchmark, BenchOptions, BenchRow } from "./bench.js";
import { getReadingsBenchmark } from "./getreadings.js";
import { startupBenchmark } from "./startup.js";
import { flashBenchmark } from "./flash.js";
import { microBenchmark, microCodecBenchmark } from "./micro.js";
import { remoteBenchmark } from "./remote.js";
import { formatTable } from "./table.js";

export const benchmarks: readonly Benchmark[] = [getReadingsBenchmark, startupBenchmark, flashBenchmark, microCodecBenchmark, microBenchmark, remoteBenchmark];

interface Args {
  json?: string;
  only?: string[];
  rounds: number;
  roundMs: number;
  warmupCalls: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { rounds: 3, roundMs: 1000, warmupCalls: 500 };
  const positive = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} wants a positive integer, got ${v ?? "nothing"}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    const hasValue = next !== undefined && !next.startsWith("--");
    switch (a) {
      case "--json":
        args.json = hasValue ? next : "bench-results.json";
        if (hasValue) i++;
        break;
      case "--only":
        if (!hasValue) throw new Error("--only wants benchmark names");
        args.only = next.split(",");
        i++;
        break;
      case "--rounds":
        args.rounds = positive(a, next);
        i++;
        break;
      case "--round-ms":
        args.roundMs = positive(a, next);
        i++;
        break;
      case "--warmup":
        args.warmupCalls = positive(a, next);
        i++;
        break;
      default:
        throw new Error(`unknown argument ${a}; known: --json [FILE], --only NAMES, --rounds N, --round-ms MS, --warmup N`);
    }
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const unknown = (args.only ?? []).filter((n) => !benchmarks.some((b) => b.name === n));
  if (unknown.length > 0) throw new Error(`no benchmark named ${unknown.join(", ")}; have ${benchmarks.map((b) => b.name).join(", ")}`);
  const selected = benchmarks.filter((b) => args.only === undefined || args.only.includes(b.name));

  const opts: BenchOptions = {
    rounds: args.rounds,
    roundMs: args.roundMs,
    warmupCalls: args.warmupCalls,
    log: (line) => process.stderr.write(`${line}\n`),
  };
  const rows: BenchRow[] = [];
  const started = performance.now();
  for (const b of selected) {
    opts.log(`${b.name}: ${b.description}`);
    rows.push(...(await b.run(opts)));
  }
  opts.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s (node ${process.version}, ${args.rounds} rounds x ${args.roundMs} ms per cell, median of rounds)`);

  process.stdout.write(`${formatTable(rows)}\n`);
  if (args.json !== undefined) {
    const doc = {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      date: new Date().toISOString(),
      rounds: args.rounds,
      roundMs: args.roundMs,
      warmupCalls: args.warmupCalls,
      rows,
    };
    await writeFile(args.json, `${JSON.stringify(doc, null, 2)}\n`);
    opts.log(`wrote ${args.json}`);
  }
}

// `node --test dist/test/` runs every file under a test/ directory; the benchmark is not a test.
if (process.env.NODE_TEST_CONTEXT === undefined) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
