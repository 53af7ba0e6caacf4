// What a benchmark is to the runner (run.ts): a named function that measures and returns table rows.

/** Knobs the runner passes to every benchmark (set from the command line). */
export interface BenchOptions {
  /** Measured rounds per cell; each figure reported is the median over rounds. */
  readonly rounds: number;
  /** Wall time of one measured round of one cell. */
  readonly roundMs: number;
  /** Untimed calls per client before measuring. */
  readonly warmupCalls: number;
  /** Progress lines (stderr), so stdout holds just the table. */
  readonly log: (line: string) => void;
}

/**
 * One line of the report: a figure measured against Sprocket beside the same figure against a floor
 * (the least any implementation could do on the same transport), and their ratios (sprocket/floor).
 */
export interface BenchRow {
  readonly benchmark: string;
  readonly transport: string;
  readonly callers: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly callsPerSec: number;
  readonly floorP50Ms: number;
  readonly floorP99Ms: number;
  readonly floorCallsPerSec: number;
  /** sprocket p50 / floor p50: above 1 means slower than the floor. */
  readonly ratioP50: number;
  /** sprocket p99 / floor p99. */
  readonly ratioP99: number;
  /** sprocket calls/s / floor calls/s: below 1 means fewer calls per second than the floor. */
  readonly ratioCallsPerSec: number;
}

export interface Benchmark {
  /** Short, unique; selects the benchmark with `--only NAME`. */
  readonly name: string;
  readonly description: string;
  run(opts: BenchOptions): Promise<BenchRow[]>;
}
