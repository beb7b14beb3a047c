import { addLogSumExp } from '../linalg/index.js';

/** The state of a {@link PartitionSums}, as plain arrays (to send between threads). */
export interface PartitionSumsState {
  maxPos: Float64Array;
  maxNeg: Float64Array;
  sumPos: Float64Array;
  sumNeg: Float64Array;
}

/**
 * Streaming log-partition sums for the isotropy measure I(W) of Mu & Viswanath (ICLR 2018):
 * `Z(c) = sum_i exp(c . w_i)` for the directions `+v_k` and `-v_k`, kept as log-sum-exp so that
 * large projections do not overflow. Sums of disjoint row sets {@link merge}.
 */
export class PartitionSums {
  private readonly maxPos: Float64Array;
  private readonly maxNeg: Float64Array;
  /** sum of exp(p - max) per direction */
  private readonly sumPos: Float64Array;
  private readonly sumNeg: Float64Array;

  /** @param k  number of directions v_k (each also counted as -v_k) */
  constructor(readonly k: number) {
    this.maxPos = new Float64Array(k).fill(-Infinity);
    this.maxNeg = new Float64Array(k).fill(-Infinity);
    this.sumPos = new Float64Array(k);
    this.sumNeg = new Float64Array(k);
  }

  /**
   * Adds a block of projections `proj[r * stride + offset + j] = v_j . w_r`, `rows x k`
   * (by default a dense row-major `rows x k` array).
   */
  add(proj: Float64Array, rows: number, stride = this.k, offset = 0): void {
    addLogSumExp(proj, rows, stride, offset, this.k, this.maxPos, this.maxNeg, this.sumPos, this.sumNeg);
  }

  /** Adds the sums of a disjoint set of rows over the same directions; `other` is unchanged. */
  merge(other: PartitionSums | PartitionSumsState): this {
    const o = other instanceof PartitionSums ? other.state() : other;
    if (o.maxPos.length !== this.k) throw new RangeError(`cannot merge ${o.maxPos.length} directions into ${this.k}`);
    mergeSide(this.maxPos, this.sumPos, o.maxPos, o.sumPos);
    mergeSide(this.maxNeg, this.sumNeg, o.maxNeg, o.sumNeg);
    return this;
  }

  /** The running sums (copies). */
  state(): PartitionSumsState {
    return { maxPos: this.maxPos.slice(), maxNeg: this.maxNeg.slice(), sumPos: this.sumPos.slice(), sumNeg: this.sumNeg.slice() };
  }

  /** log Z for the 2k directions: first the +v_k, then the -v_k. */
  logZ(): Float64Array {
    const out = new Float64Array(2 * this.k);
    for (let j = 0; j < this.k; j++) {
      out[j] = this.maxPos[j] + Math.log(this.sumPos[j]);
      out[this.k + j] = this.maxNeg[j] + Math.log(this.sumNeg[j]);
    }
    return out;
  }
}

function mergeSide(max: Float64Array, sum: Float64Array, omax: Float64Array, osum: Float64Array): void {
  for (let j = 0; j < max.length; j++) {
    if (omax[j] === -Infinity) continue;
    if (max[j] === -Infinity) { max[j] = omax[j]; sum[j] = osum[j]; continue; }
    const m = Math.max(max[j], omax[j]);
    sum[j] = sum[j] * Math.exp(max[j] - m) + osum[j] * Math.exp(omax[j] - m);
    max[j] = m;
  }
}

/**
 * I(W) = min_c Z(c) / max_c Z(c) from log Z values; 1 is perfectly isotropic, values near 0 mean a
 * dominant direction. Computed as exp(min - max) so that neither Z is ever formed.
 */
export function partitionIsotropy(logZ: ArrayLike<number>): number {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < logZ.length; i++) {
    if (logZ[i] < lo) lo = logZ[i];
    if (logZ[i] > hi) hi = logZ[i];
  }
  return Math.exp(lo - hi);
}
