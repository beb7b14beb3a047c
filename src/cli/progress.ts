import cliProgress from 'cli-progress';

/**
 * Progress of a long job on stderr: a live bar on a terminal, plain lines otherwise (logs, CI),
 * each with the rate and the time left. Stays silent for the first second so that small inputs
 * print nothing.
 */
export class Progress {
  private readonly start: number;
  private bar: cliProgress.SingleBar | null = null;
  private label = '';
  /** when the current phase (label) was first reported, and how far it was then */
  private phaseStart = 0;
  private phaseStartDone = 0;
  private lastLine = 0;
  private lastPct = -1;

  /**
   * @param enabled  false for --quiet
   * @param delayMs  quiet period before the first report (default 1000)
   * @param unit     what is counted, e.g. 'rows' or 'sentences'
   * @param clock    milliseconds now (tests pass their own, so that no assertion depends on timing)
   */
  constructor(
    private readonly enabled: boolean,
    private readonly stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY'> = process.stderr,
    private readonly delayMs = 1000,
    private readonly unit = 'rows',
    private readonly clock: () => number = Date.now,
  ) {
    this.start = clock();
  }

  /** Reports `done` of `total` units for the phase named by `label`. */
  update(label: string, done: number, total: number): void {
    if (!this.enabled) return;
    const now = this.clock();
    if (now - this.start < this.delayMs) return;
    if (label !== this.label) {
      this.stopBar();
      this.label = label;
      this.lastPct = -1;
      this.phaseStart = now;
      this.phaseStartDone = done;
    }
    const secs = (now - this.phaseStart) / 1000;
    const rate = secs > 0 ? (done - this.phaseStartDone) / secs : 0;
    if (this.stream.isTTY) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar(
          { format: `${label} [{bar}] {percentage}% | {value}/{total} ${this.unit} | {rate} ${this.unit}/s | ETA {eta_formatted}`, stream: this.stream as NodeJS.WriteStream, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(total, done, { rate: '-' });
      }
      this.bar.update(done, { rate: rate > 0 ? formatRate(rate) : '-' });
      return;
    }
    const pct = Math.floor((100 * done) / total);
    // Plain lines at most every 5 s or each 25%, so a log stays readable.
    if (pct === this.lastPct || (now - this.lastLine < 5000 && Math.floor(pct / 25) === Math.floor(this.lastPct / 25) && done < total)) return;
    this.lastPct = pct;
    this.lastLine = now;
    const speed = rate > 0 ? `, ${formatRate(rate)} ${this.unit}/s` : '';
    const eta = rate > 0 && done < total ? `, ETA ${Math.ceil((total - done) / rate)} s` : '';
    this.stream.write(`${label}: ${done}/${total} ${this.unit} (${pct}%), ${((now - this.start) / 1000).toFixed(1)} s${speed}${eta}\n`);
  }

  /** Ends the live bar, if any (call before printing results or errors). */
  done(): void {
    this.stopBar();
  }

  private stopBar(): void {
    if (this.bar) { this.bar.stop(); this.bar = null; }
  }
}

function formatRate(r: number): string {
  return r >= 10 ? String(Math.round(r)) : r.toFixed(1);
}
