/** Off-diagonal size of the Pearson correlations (the IsoBN paper's Figure 2 in two numbers). */
export interface CorrSummary {
  /** mean of |rho_ij| over i != j among non-constant dimensions; 0 when fewer than two */
  meanAbs: number;
  /** max of |rho_ij| over i != j among non-constant dimensions; 0 when fewer than two */
  maxAbs: number;
}

/**
 * Pearson correlation `rho_ij = cov_ij / (s_i s_j)`, clipped to [-1, 1] against rounding.
 * Constant dimensions (mask 1) have no correlation: their off-diagonal entries are 0 and their
 * diagonal entry 1, the convention IsoBN's scale uses as well.
 */
export function correlationMatrix(cov: Float64Array, d: number, constant: Uint8Array): Float64Array {
  const s = Float64Array.from({ length: d }, (_, i) => Math.sqrt(Math.max(0, cov[i * d + i])));
  const rho = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let r: number;
      if (i === j) r = 1;
      else if (constant[i] || constant[j] || s[i] === 0 || s[j] === 0) r = 0;
      else r = Math.min(1, Math.max(-1, cov[i * d + j] / (s[i] * s[j])));
      rho[i * d + j] = r;
    }
  }
  return rho;
}

/** {@link CorrSummary} from a covariance; constant dimensions are left out. */
export function correlationSummary(cov: Float64Array, d: number, constant: Uint8Array): CorrSummary {
  const rho = correlationMatrix(cov, d, constant);
  let sum = 0, max = 0, pairs = 0;
  for (let i = 0; i < d; i++) {
    if (constant[i]) continue;
    for (let j = i + 1; j < d; j++) {
      if (constant[j]) continue;
      const a = Math.abs(rho[i * d + j]);
      sum += a;
      if (a > max) max = a;
      pairs++;
    }
  }
  return { meanAbs: pairs ? sum / pairs : 0, maxAbs: max };
}
