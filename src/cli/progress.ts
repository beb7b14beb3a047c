import cliProgress from 'cli-progress';

/**
 * Progress of a long pass on stderr: a live bar on a terminal, plain lines otherwise (logs, CI).
 * Stays silent for the first second so that small inputs print nothing.
 */
export class Progress {
  private readonly start = Date.now();
  private bar: cliProgress.SingleBar | null = null;
  private label = '';
  private lastLine = 0;
  private lastPct = -1;

  /**
   * @param enabled  false for --quiet
   * @param delayMs  quiet period before the first report (default 1000)
   */
  constructor(
    private readonly enabled: boolean,
    private readonly stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY'> = process.stderr,
    private readonly delayMs = 1000,
  ) {}

  /** Reports `done` of `total` rows for the phase named by `label`. */
  update(label: string, done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.start < this.delayMs) return;
    if (label !== this.label) { this.stopBar(); this.label = label; this.lastPct = -1; }
    if (this.stream.isTTY) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar(
          { format: `${label} [{bar}] {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {eta_formatted}`, stream: this.stream as NodeJS.WriteStream, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(total, done, { rate: '-' });
        this.phaseStart = now;
        this.phaseStartRows = done;
      }
      const secs = (now - this.phaseStart) / 1000;
      this.bar.update(done, { rate: secs > 0 ? Math.round((done - this.phaseStartRows) / secs) : '-' });
      return;
    }
    const pct = Math.floor((100 * done) / total);
    // Plain lines at most every 5 s or each 25%, so a log stays readable.
    if (pct === this.lastPct || (now - this.lastLine < 5000 && Math.floor(pct / 25) === Math.floor(this.lastPct / 25) && done < total)) return;
    this.lastPct = pct;
    this.lastLine = now;
    this.stream.write(`${label}: ${done}/${total} rows (${pct}%), ${((now - this.start) / 1000).toFixed(1)} s\n`);
  }

  private phaseStart = 0;
  private phaseStartRows = 0;

  /** Ends the live bar, if any (call before printing results or errors). */
  done(): void {
    this.stopBar();
  }

  private stopBar(): void {
    if (this.bar) { this.bar.stop(); this.bar = null; }
  }
}
