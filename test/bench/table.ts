// Renders benchmark rows as one plain-text table.
import type { BenchRow } from "./bench.js";

interface Column {
  readonly title: string;
  readonly cell: (r: BenchRow) => string;
  readonly alignLeft?: boolean;
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : "-");
const rate = (v: number) => (Number.isFinite(v) ? Math.round(v).toString() : "-");
const ratio = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : "-");

const columns: readonly Column[] = [
  { title: "benchmark", cell: (r) => r.benchmark, alignLeft: true },
  { title: "transport", cell: (r) => r.transport, alignLeft: true },
  { title: "callers", cell: (r) => String(r.callers) },
  { title: "p50 ms", cell: (r) => ms(r.p50Ms) },
  { title: "p99 ms", cell: (r) => ms(r.p99Ms) },
  { title: "calls/s", cell: (r) => rate(r.callsPerSec) },
  { title: "floor p50", cell: (r) => ms(r.floorP50Ms) },
  { title: "floor p99", cell: (r) => ms(r.floorP99Ms) },
  { title: "floor calls/s", cell: (r) => rate(r.floorCallsPerSec) },
  { title: "ratio p50", cell: (r) => ratio(r.ratioP50) },
  { title: "ratio p99", cell: (r) => ratio(r.ratioP99) },
  { title: "ratio calls/s", cell: (r) => ratio(r.ratioCallsPerSec) },
];

export function formatTable(rows: readonly BenchRow[]): string {
  const cells = rows.map((r) => columns.map((c) => c.cell(r)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i].length)));
  const line = (values: readonly string[]) =>
    values.map((v, i) => (columns[i].alignLeft ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ").trimEnd();
  return [line(columns.map((c) => c.title)), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}
