/** Summary of the per-dimension standard deviations (the spread the IsoBN paper's Figure 1 shows). */
export interface StdSummary {
  /** mean of the s_i */
  mean: number;
  /** population standard deviation (divide by d) of the s_i */
  std: number;
  min: number;
  max: number;
  /** coefficient of variation std / mean; null when every dimension is constant (mean 0) */
  cv: number | null;
}

/** Per-dimension biased standard deviations `sqrt(cov_ii)` of a `d x d` covariance. */
export function dimStds(cov: Float64Array, d: number): Float64Array {
  // max(0, .) because a derived (transformed) covariance can carry a -1e-20 on its diagonal.
  return Float64Array.from({ length: d }, (_, i) => Math.sqrt(Math.max(0, cov[i * d + i])));
}

/** {@link StdSummary} of the stds `s` (any length >= 1). */
export function stdSummary(s: Float64Array): StdSummary {
  const d = s.length;
  let sum = 0, min = Infinity, max = -Infinity;
  for (const v of s) { sum += v; if (v < min) min = v; if (v > max) max = v; }
  const mean = sum / d;
  let ss = 0;
  for (const v of s) ss += (v - mean) * (v - mean);
  const std = Math.sqrt(ss / d);
  return { mean, std, min, max, cv: mean > 0 ? std / mean : null };
}
