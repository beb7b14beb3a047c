/** How the variance spreads over principal components. */
export interface SpectrumSummary {
  /** largest eigenvalue / sum; null when there is no variance (sum 0) */
  top1: number | null;
  /** sum of the 10 largest / sum (all of them when d < 10); null when there is no variance */
  top10: number | null;
  /** exp of the Shannon entropy of p = l / sum over l > 0; d for a perfectly isotropic cloud; null when there is no variance */
  effectiveRank: number | null;
  /**
   * lmax / lmin; null when the covariance is rank-deficient to working precision:
   * lmin <= d * eps * lmax, numpy's `matrix_rank` rule (an exact zero computes as +-1e-17 noise,
   * whose ratio would be a meaningless 1e16)
   */
  condition: number | null;
  /** all d covariance eigenvalues, descending */
  eigenvalues: number[];
}

/**
 * {@link SpectrumSummary} of covariance eigenvalues sorted descending. Without variance (every
 * eigenvalue 0, or a sum that is not a positive finite number) the shares and the effective rank
 * are null, never NaN.
 */
export function spectrumSummary(values: Float64Array): SpectrumSummary {
  const d = values.length;
  let total = 0;
  for (const v of values) total += v;
  const lmin = values[d - 1];
  const rankTol = d * Number.EPSILON * values[0];
  const condition = values[0] > 0 && lmin > rankTol && Number.isFinite(values[0]) ? values[0] / lmin : null;
  if (!(total > 0 && Number.isFinite(total))) {
    return { top1: null, top10: null, effectiveRank: null, condition, eigenvalues: Array.from(values) };
  }
  let top10 = 0;
  for (let k = 0; k < Math.min(10, d); k++) top10 += values[k];
  let h = 0;
  for (const v of values) {
    if (v <= 0) continue;
    const p = v / total;
    h -= p * Math.log(p);
  }
  return {
    top1: values[0] / total,
    top10: top10 / total,
    effectiveRank: Math.exp(h),
    condition,
    eigenvalues: Array.from(values),
  };
}
