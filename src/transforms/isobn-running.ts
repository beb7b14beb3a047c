import { symmetrizeUpper } from '../linalg/index.js';
import { TransformError } from './errors.js';
import { isobnFactors, type IsoBNOptions } from './isobn.js';
import { isobnRunningUpdate } from './isobn-update.js';

/** The training-time estimator's settings, with the official code's defaults. */
export interface RunningIsoBNOptions {
  /** rows per batch; default 16 (the paper's fine-tuning batch size) */
  batchSize?: number;
  /** weight of each new batch in the running averages; default 0.05 */
  momentum?: number;
}

export const RUNNING_DEFAULTS = { batchSize: 16, momentum: 0.05 } as const;

/**
 * The running covariance and std that IsoBN's official code keeps during fine-tuning, replayed
 * over the rows in their order, in batches.
 *
 * Both estimates start at zero and move by `momentum` towards each batch's biased covariance and
 * std, before that batch is scaled: C += m (C_batch - C), s += m (s_batch - s). This is the code's
 * behaviour, start-up bias included: after t batches the estimates carry a factor 1 - (1 - m)^t
 * (0.54 after 15 batches, 0.92 after 50), and are not corrected here, because the point is to see
 * what the trained layer would use. The last batch may be shorter; a batch of one row contributes
 * zero covariance and zero std, as it would in training.
 */
export class RunningIsoBN {
  readonly batchSize: number;
  readonly momentum: number;
  /** `d x d`, row-major, symmetric */
  readonly cov: Float64Array;
  readonly std: Float64Array;
  batches = 0;
  private readonly buf: Float64Array;
  private filled = 0;
  private readonly scratch: Float64Array;
  private finished = false;

  constructor(readonly dims: number, opts: RunningIsoBNOptions = {}) {
    this.batchSize = opts.batchSize ?? RUNNING_DEFAULTS.batchSize;
    this.momentum = opts.momentum ?? RUNNING_DEFAULTS.momentum;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new TransformError(`--batch-size must be a whole number >= 1, got ${this.batchSize}`);
    }
    if (!(this.momentum > 0 && this.momentum <= 1)) {
      throw new TransformError(`--momentum must be in (0, 1], got ${this.momentum}`);
    }
    this.cov = new Float64Array(dims * dims);
    this.std = new Float64Array(dims);
    this.buf = new Float64Array(this.batchSize * dims);
    this.scratch = new Float64Array(dims * dims);
  }

  /** Feeds rows in order (`rows x dims`, row-major, finite); batches may span calls. */
  push(data: Float64Array, rows: number): void {
    const d = this.dims;
    let r = 0;
    while (r < rows) {
      const take = Math.min(this.batchSize - this.filled, rows - r);
      this.buf.set(data.subarray(r * d, (r + take) * d), this.filled * d);
      this.filled += take;
      r += take;
      if (this.filled === this.batchSize) this.step();
    }
  }

  /** Rows waiting in the batch being filled (fewer than batchSize), a copy: `pendingRows x dims`. */
  pendingRows(): { data: Float64Array; rows: number } {
    return { data: this.buf.slice(0, this.filled * this.dims), rows: this.filled };
  }

  /**
   * Starts a fresh estimator from saved running estimates (upper triangle of `cov` used) after
   * `batches` batches, as if it had seen them: how the estimates of shards replayed one after
   * the other are put together (analyze/shard-running.ts).
   */
  restore(state: { cov: Float64Array; std: Float64Array; batches: number }): void {
    if (this.batches || this.filled || this.finished) throw new TransformError('restore() is for a fresh estimator');
    this.cov.set(state.cov);
    this.std.set(state.std);
    this.batches = state.batches;
  }

  /** Flushes the last, shorter batch and returns the final running estimates. */
  finish(): { cov: Float64Array; std: Float64Array } {
    if (!this.finished) {
      if (this.filled > 0) this.step();
      symmetrizeUpper(this.cov, this.dims);
      this.finished = true;
    }
    return { cov: this.cov, std: this.std };
  }

  /** The scale the trained layer would apply: IsoBN's formula on the running estimates. */
  scale(opts: IsoBNOptions = {}): Float64Array {
    return this.factors(opts).scale;
  }

  /** {@link scale} with its ingredients: the running std s_i and gamma_i it was computed from. */
  factors(opts: IsoBNOptions = {}): { std: Float64Array; gamma: Float64Array; scale: Float64Array } {
    const { cov, std } = this.finish();
    return { std, ...isobnFactors(cov, std, opts) };
  }

  private step(): void {
    isobnRunningUpdate(this.cov, this.std, this.buf, this.filled, this.dims, this.momentum, this.scratch);
    this.batches++;
    this.filled = 0;
  }
}
