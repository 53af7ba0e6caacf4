// A closed-loop load generator: N callers, each issuing its next call as soon as the previous one returns.
import { summarize, type RunSummary } from "./stats.js";

export type Call = () => Promise<unknown>;

/** Makes `calls` calls spread over `callers` concurrent callers, discarding timings. */
export async function warmUp(call: Call, calls: number, callers: number): Promise<void> {
  let left = calls;
  const worker = async () => {
    while (left > 0) {
      left -= 1;
      await call();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, callers) }, worker));
}

/**
 * Runs `callers` concurrent callers for `durationMs` of wall time and times every call.
 * Callers stop starting new calls at the deadline; calls in flight then finish and count.
 */
export async function measure(call: Call, callers: number, durationMs: number): Promise<RunSummary> {
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  const record = (ms: number) => {
    if (n === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[n++] = ms;
  };
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await call();
      record(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, callers) }, worker));
  const elapsed = performance.now() - start;
  return summarize(latencies.subarray(0, n), elapsed);
}
