/**
 * Streaming log-partition sums for the isotropy measure I(W) of Mu & Viswanath (ICLR 2018):
 * `Z(c) = sum_i exp(c . w_i)` for the directions `+v_k` and `-v_k`, kept as log-sum-exp so that
 * large projections do not overflow.
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

  /** Adds a block of projections `proj[r * k + j] = v_j . w_r`, `rows x k`, row-major. */
  add(proj: Float64Array, rows: number): void {
    if (rows === 0) return;
    const k = this.k;
    for (let j = 0; j < k; j++) {
      let hi = -Infinity, lo = Infinity;
      for (let r = 0; r < rows; r++) {
        const p = proj[r * k + j];
        if (p > hi) hi = p;
        if (p < lo) lo = p;
      }
      // Rescale the running sums once per block when the maximum moves, not once per row.
      const mp = Math.max(this.maxPos[j], hi);
      const mn = Math.max(this.maxNeg[j], -lo);
      let sp = this.sumPos[j] * Math.exp(this.maxPos[j] - mp);
      let sn = this.sumNeg[j] * Math.exp(this.maxNeg[j] - mn);
      for (let r = 0; r < rows; r++) {
        const p = proj[r * k + j];
        sp += Math.exp(p - mp);
        sn += Math.exp(-p - mn);
      }
      this.maxPos[j] = mp; this.sumPos[j] = sp;
      this.maxNeg[j] = mn; this.sumNeg[j] = sn;
    }
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
