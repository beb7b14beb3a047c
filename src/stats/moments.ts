import type { StatsAccumulator } from './accumulator.js';
import { correlationSummary, type CorrSummary } from './correlation.js';
import { covEigen } from './eigen.js';
import { isoScore } from './iso-score.js';
import { spectrumSummary, type SpectrumSummary } from './spectrum.js';
import { dimStds, stdSummary, type StdSummary } from './std.js';

/**
 * First and second moments of a set of rows: everything the one-pass metrics need. The moments of
 * transformed rows are derived from these algebraically (see transforms), never by rereading data.
 */
export interface Moments {
  /** number of rows */
  n: number;
  dims: number;
  mean: Float64Array;
  /** biased covariance, `dims x dims`, full and symmetric */
  cov: Float64Array;
  /** 1 for dimensions with zero variance */
  constant: Uint8Array;
}

/** The metrics that follow from {@link Moments} alone (no second pass over the rows). */
export interface MomentMetrics {
  meanNorm: number;
  std: StdSummary;
  corr: CorrSummary;
  constantDims: number;
  spectrum: SpectrumSummary;
  /** null when undefined for the data (no variance, d < 2) */
  isoScore: number | null;
}

/** {@link Moments} of the rows an accumulator has seen. */
export function momentsOf(acc: StatsAccumulator): Moments {
  return { n: acc.count, dims: acc.dims, mean: Float64Array.from(acc.mean), cov: acc.covariance(), constant: acc.constantMask() };
}

/**
 * Mask of dimensions whose variance is zero up to rounding, for covariances derived through a
 * transform (where min/max are unknown): variance below (64 eps)^2 of the largest one.
 */
export function negligibleVarianceMask(cov: Float64Array, d: number): Uint8Array {
  let maxVar = 0;
  for (let i = 0; i < d; i++) maxVar = Math.max(maxVar, cov[i * d + i]);
  const tol = (64 * Number.EPSILON) ** 2 * maxVar;
  return Uint8Array.from({ length: d }, (_, i) => (cov[i * d + i] <= tol ? 1 : 0));
}

/**
 * Computes {@link MomentMetrics}. A metric that is undefined for the data is null, never NaN and
 * never the isotropic value: see {@link momentNullReasons} for the rules.
 *
 * @param values  the covariance's eigenvalues, descending, when already computed (see covEigen);
 *                else one eigenvalue decomposition of the d x d covariance is made here
 */
export function momentMetrics(m: Moments, values?: Float64Array): MomentMetrics {
  const d = m.dims;
  let mn = 0;
  for (const v of m.mean) mn += v * v;
  const constantDims = m.constant.reduce((a, b) => a + b, 0);
  const eig = values ?? covEigen(m).values;
  const spectrum = spectrumSummary(eig);
  let iso = isoScore(eig);
  if (constantDims === d) {
    // No dimension varies: whatever rounding left in a derived covariance is not a spectrum.
    spectrum.top1 = spectrum.top10 = spectrum.effectiveRank = spectrum.condition = null;
    iso = null;
  }
  return {
    meanNorm: Math.sqrt(mn),
    std: stdSummary(dimStds(m.cov, d)),
    corr: correlationSummary(m.cov, d, m.constant),
    constantDims,
    spectrum,
    isoScore: iso,
  };
}

/**
 * Why each null metric of {@link momentMetrics} is null, keyed by its path (`TransformResult.nullReasons`):
 * - `std.cv`: every dimension is constant (the mean std is 0);
 * - `corr.meanAbs`, `corr.maxAbs`: fewer than two dimensions vary (no pair to correlate);
 * - `spectrum.top1`, `top10`, `effectiveRank`, `isoScore`: no variance (every row the same), or,
 *   for isoScore, a single dimension;
 * - `spectrum.condition`: the covariance is singular (numerical rank below d).
 */
export function momentNullReasons(r: MomentMetrics, dims: number): Record<string, string> {
  const out: Record<string, string> = {};
  const varying = dims - r.constantDims;
  const still = 'no variance: every row is the same';
  if (r.std.cv === null) out['std.cv'] = 'every dimension is constant, so the mean std is 0';
  if (r.corr.meanAbs === null) {
    const why = `${varying === 0 ? 'no dimension varies' : `only ${varying} dimension varies`}: there is no pair of varying dimensions to correlate`;
    out['corr.meanAbs'] = why;
    out['corr.maxAbs'] = why;
  }
  if (r.spectrum.top1 === null) for (const k of ['top1', 'top10', 'effectiveRank']) out[`spectrum.${k}`] = still;
  if (r.isoScore === null) out.isoScore = dims < 2 ? 'needs at least 2 dimensions' : still;
  if (r.spectrum.condition === null) {
    const ev = r.spectrum.eigenvalues;
    const tol = dims * Number.EPSILON * (ev[0] ?? 0);
    const rank = ev.filter((v) => v > tol).length;
    out['spectrum.condition'] = `the covariance is singular (numerical rank ${rank} of ${dims}): its condition number is infinite`;
  }
  return out;
}

/** Second moment `W^T W = n (cov + mean mean^T)` about the origin, `dims x dims`. */
export function secondMoment(m: Moments): Float64Array {
  const d = m.dims;
  const s = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) s[i * d + j] = m.n * (m.cov[i * d + j] + m.mean[i] * m.mean[j]);
  }
  return s;
}
