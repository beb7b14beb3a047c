/** Off-diagonal size of the Pearson correlations (the IsoBN paper's Figure 2 in two numbers). */
export interface CorrSummary {
  /** mean of |rho_ij| over i != j among non-constant dimensions; null when fewer than two vary */
  meanAbs: number | null;
  /** max of |rho_ij| over i != j among non-constant dimensions; null when fewer than two vary */
  maxAbs: number | null;
}

/** Per-dimension stds sqrt(cov_ii) (0 for a negative rounding residue). */
function diagStds(cov: Float64Array, d: number): Float64Array {
  return Float64Array.from({ length: d }, (_, i) => Math.sqrt(Math.max(0, cov[i * d + i])));
}

/**
 * Pearson correlation `rho_ij = cov_ij / (s_i s_j)`, clipped to [-1, 1] against rounding.
 * Constant dimensions (mask 1) have no correlation: their off-diagonal entries are 0 and their
 * diagonal entry 1, the convention IsoBN's scale uses as well.
 */
export function correlationMatrix(cov: Float64Array, d: number, constant: Uint8Array): Float64Array {
  const rho = new Float64Array(d * d);
  forEachCorrelation(cov, d, constant, (i, j, r) => { rho[i * d + j] = r; rho[j * d + i] = r; });
  for (let i = 0; i < d; i++) rho[i * d + i] = 1;
  return rho;
}

/**
 * Calls `fn(i, j, rho_ij)` for every pair i < j of non-constant dimensions (rho clipped to
 * [-1, 1]), without forming the `d x d` correlation matrix (128 MiB at d = 4096).
 */
export function forEachCorrelation(cov: Float64Array, d: number, constant: Uint8Array, fn: (i: number, j: number, rho: number) => void): void {
  const s = diagStds(cov, d);
  for (let i = 0; i < d; i++) {
    if (constant[i] || s[i] === 0) continue;
    const o = i * d;
    for (let j = i + 1; j < d; j++) {
      if (constant[j] || s[j] === 0) continue;
      fn(i, j, Math.min(1, Math.max(-1, cov[o + j] / (s[i] * s[j]))));
    }
  }
}

/**
 * {@link CorrSummary} from a covariance; constant dimensions are left out. Both values are null
 * when fewer than two dimensions vary: there is no pair to correlate (0 would read as "perfectly
 * uncorrelated", the isotropic value).
 */
export function correlationSummary(cov: Float64Array, d: number, constant: Uint8Array): CorrSummary {
  let sum = 0, max = 0, pairs = 0;
  forEachCorrelation(cov, d, constant, (_i, _j, r) => {
    const a = Math.abs(r);
    sum += a;
    if (a > max) max = a;
    pairs++;
  });
  return pairs ? { meanAbs: sum / pairs, maxAbs: max } : { meanAbs: null, maxAbs: null };
}
