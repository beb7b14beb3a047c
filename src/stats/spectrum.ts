/** How the variance spreads over principal components. */
export interface SpectrumSummary {
  /** largest eigenvalue / sum */
  top1: number;
  /** sum of the 10 largest / sum (all of them when d < 10) */
  top10: number;
  /** exp of the Shannon entropy of p = l / sum over l > 0; d for a perfectly isotropic cloud */
  effectiveRank: number;
  /**
   * lmax / lmin; null when the covariance is rank-deficient to working precision:
   * lmin <= d * eps * lmax, numpy's `matrix_rank` rule (an exact zero computes as +-1e-17 noise,
   * whose ratio would be a meaningless 1e16)
   */
  condition: number | null;
  /** all d covariance eigenvalues, descending */
  eigenvalues: number[];
}

/** {@link SpectrumSummary} of covariance eigenvalues sorted descending. */
export function spectrumSummary(values: Float64Array): SpectrumSummary {
  const d = values.length;
  let total = 0;
  for (const v of values) total += v;
  let top10 = 0;
  for (let k = 0; k < Math.min(10, d); k++) top10 += values[k];
  let h = 0;
  for (const v of values) {
    if (v <= 0) continue;
    const p = v / total;
    h -= p * Math.log(p);
  }
  const lmin = values[d - 1];
  const rankTol = d * Number.EPSILON * values[0];
  return {
    top1: values[0] / total,
    top10: top10 / total,
    effectiveRank: Math.exp(h),
    condition: lmin > rankTol ? values[0] / lmin : null,
    eigenvalues: Array.from(values),
  };
}
