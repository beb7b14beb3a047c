import { eigh } from '../linalg/index.js';
import type { StatsAccumulator } from './accumulator.js';
import { correlationSummary, type CorrSummary } from './correlation.js';
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
  isoScore: number;
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

/** Computes {@link MomentMetrics}; one eigenvalue decomposition of the d x d covariance. */
export function momentMetrics(m: Moments): MomentMetrics {
  const d = m.dims;
  let mn = 0;
  for (const v of m.mean) mn += v * v;
  const values = eigh(m.cov, d).values;
  return {
    meanNorm: Math.sqrt(mn),
    std: stdSummary(dimStds(m.cov, d)),
    corr: correlationSummary(m.cov, d, m.constant),
    constantDims: m.constant.reduce((a, b) => a + b, 0),
    spectrum: spectrumSummary(values),
    isoScore: isoScore(values),
  };
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
