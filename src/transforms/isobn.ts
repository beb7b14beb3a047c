import { StatsAccumulator } from '../stats/index.js';
import { applyMap } from './affine-map.js';
import { TransformError } from './errors.js';

/** IsoBN's two knobs, with the paper's defaults. */
export interface IsoBNOptions {
  /** added to gamma_i s_i before the power, and to the energy denominator; default 1e-3 */
  eps?: number;
  /** exponent: a_i = (gamma_i s_i + eps)^(-beta); default 0.5 */
  beta?: number;
}

export const ISOBN_DEFAULTS = { eps: 1e-3, beta: 0.5 } as const;

/** Validated IsoBN options with defaults filled in. */
export function isobnOptions(opts: IsoBNOptions = {}): Required<IsoBNOptions> {
  const eps = opts.eps ?? ISOBN_DEFAULTS.eps;
  const beta = opts.beta ?? ISOBN_DEFAULTS.beta;
  if (!Number.isFinite(eps) || eps < 0) throw new TransformError(`\`eps\` must be a finite number >= 0, got ${eps}`);
  if (!Number.isFinite(beta)) throw new TransformError(`\`beta\` must be a finite number, got ${beta}`);
  return { eps, beta };
}

/**
 * IsoBN's per-dimension scale (Zhou, Lin & Ren, AAAI 2021; official code INK-USC/IsoBN):
 * rho = clip(cov / (s s^T), -1, 1); gamma_i = mean_j rho_ij^2 (diagonal included);
 * a_i = (gamma_i s_i + eps)^(-beta); then a is rescaled so that the total variance is kept:
 * a <- a * sqrt(trace(cov) / (sum_i cov_ii a_i^2 + eps)).
 *
 * A dimension with s_i = 0 has no correlation: rho_ij = 0 for j != i and rho_ii = 1 (the official
 * code would produce NaN there). Its factor is eps^(-beta), harmless on a constant column.
 *
 * @param cov  `d x d` covariance (biased), row-major
 * @param std  per-dimension stds; sqrt(diag cov) for the whole-input IsoBN, the running mean of
 *             batch stds for the training-time estimator
 */
export function isobnScale(cov: Float64Array, std: Float64Array, opts: IsoBNOptions = {}): Float64Array {
  return isobnFactors(cov, std, opts).scale;
}

/**
 * {@link isobnScale} with its ingredient: `gamma_i = mean_j rho_ij^2` (diagonal included, so
 * 1/d <= gamma_i <= 1; 1 means dimension i is fully correlated with all others).
 */
export function isobnFactors(cov: Float64Array, std: Float64Array, opts: IsoBNOptions = {}): { gamma: Float64Array; scale: Float64Array } {
  const { eps, beta } = isobnOptions(opts);
  const d = std.length;
  const gamma = new Float64Array(d);
  const a = new Float64Array(d);
  let energy = 0, newEnergy = 0;
  for (let i = 0; i < d; i++) {
    let g = 0;
    const si = std[i];
    for (let j = 0; j < d; j++) {
      let r: number;
      if (si === 0 || std[j] === 0) r = i === j ? 1 : 0;
      else r = Math.min(1, Math.max(-1, cov[i * d + j] / (si * std[j])));
      g += r * r;
    }
    g /= d;
    gamma[i] = g;
    a[i] = Math.pow(g * si + eps, -beta);
    const cii = cov[i * d + i];
    energy += cii;
    newEnergy += cii * a[i] * a[i];
  }
  const m = Math.sqrt(energy / (newEnergy + eps));
  for (let i = 0; i < d; i++) a[i] *= m;
  return { gamma, scale: a };
}

/**
 * IsoBN with the statistics of the whole input (the running estimates of training, converged):
 * returns x * a for every row, without centering, and the scale a.
 *
 * @param data  `rows x dims` row-major; rows must be finite
 */
export function isobn(data: Float64Array, rows: number, dims: number, opts: IsoBNOptions = {}): { output: Float64Array; scale: Float64Array } {
  const acc = new StatsAccumulator(dims);
  acc.push(data, rows);
  const cov = acc.covariance();
  const std = Float64Array.from({ length: dims }, (_, i) => Math.sqrt(cov[i * dims + i]));
  const scale = isobnScale(cov, std, opts);
  return { output: applyMap({ kind: 'diagonal', scale }, data, rows, dims), scale };
}
