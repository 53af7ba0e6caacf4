// A progress bar per image for the CLI: redrawn in place on a terminal, a line per quarter when
// the output is a file or a pipe (CI logs stay short).
import { formatSize } from "../image/bytes.js";

export interface ProgressSink {
  write(text: string): void;
  isTTY?: boolean | undefined;
}

export class ProgressBar {
  private lastQuarter = -1;
  private lastDraw = 0;
  private done = false;
  private readonly started = performance.now();

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly width = 30,
  ) {}

  update(sent: number, total: number): void {
    if (this.done) return;
    const fraction = total === 0 ? 1 : Math.min(1, sent / total);
    const finished = fraction >= 1;
    if (this.sink.isTTY) {
      const now = performance.now();
      if (!finished && now - this.lastDraw < 80) return;
      this.lastDraw = now;
      const filled = Math.round(fraction * this.width);
      const bar = `${"█".repeat(filled)}${"░".repeat(this.width - filled)}`;
      this.sink.write(`\r  ${this.label} ${bar} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatSize(sent)} / ${formatSize(total)}${finished ? "\n" : ""}`);
    } else {
      const quarter = Math.floor(fraction * 4);
      if (quarter === this.lastQuarter) return;
      this.lastQuarter = quarter;
      this.sink.write(`  ${this.label} ${String(quarter * 25).padStart(3)}%  ${formatSize(sent)} / ${formatSize(total)}\n`);
    }
    if (finished) this.done = true;
  }

  /** Seconds since the bar was made. */
  get elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }
}
