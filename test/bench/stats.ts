// Small statistics helpers for the benchmarks: percentiles of latency samples and medians across rounds.

/** The p-th percentile (0..100) of ascending-sorted values, nearest-rank; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))];
}

/** The median of values (mean of the middle two when even); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** What one measured run of a cell gives. */
export interface RunSummary {
  readonly calls: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly callsPerSec: number;
}

/** Summarizes per-call latencies (ms) of a run that took `elapsedMs` of wall time. */
export function summarize(latenciesMs: Float64Array, elapsedMs: number): RunSummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    calls: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    callsPerSec: elapsedMs > 0 ? (sorted.length * 1000) / elapsedMs : Number.NaN,
  };
}

/** The median of each figure over repeated runs of the same cell. */
export function medianOf(runs: readonly RunSummary[]): RunSummary {
  return {
    calls: median(runs.map((r) => r.calls)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    callsPerSec: median(runs.map((r) => r.callsPerSec)),
  };
}
