import { eigh, eighLowRank } from '../linalg/index.js';
import type { Moments } from './moments.js';

/** Eigenvalues and (leading) eigenvectors of a symmetric positive semi-definite matrix. */
export interface PsdEigen {
  /** all d eigenvalues, descending */
  values: Float64Array;
  /**
   * `d x cols` row-major, column j the unit eigenvector of `values[j]` (linalg's sign convention),
   * or null when not asked for. With a rank bound below d the columns stop at the numerical rank:
   * the remaining eigenvalues are 0 and their eigenvectors any basis of the null space.
   */
  vectors: Float64Array | null;
  cols: number;
  /** true when `vectors` holds every eigenvector of a non-zero eigenvalue (no `top` cut them) */
  complete: boolean;
}

/**
 * Rank bounds up to this share of d take the low-rank solver (O(d r^2)); above, a dense solver
 * (O(d^3), LAPACK's when the native backend runs) is as fast.
 */
export const LOW_RANK_SHARE = 1 / 8;
/** Below this order a dense solver is instantaneous anyway. */
const LOW_RANK_MIN_DIMS = 64;

/**
 * Eigendecomposition of a PSD `d x d` matrix (upper triangle read) whose rank is at most
 * `rankBound`: the low-rank solver when the bound is small against d (a covariance of n << d rows),
 * else the dense one (`eigh`, the backend's solver inside `withEighSolver`).
 *
 * @param opts.top  with `vectors`, the leading columns wanted (default all d)
 */
export function psdEigen(m: Float64Array, d: number, rankBound: number, opts: { vectors?: boolean; top?: number } = {}): PsdEigen {
  if (d >= LOW_RANK_MIN_DIMS && rankBound <= d * LOW_RANK_SHARE) {
    const r = eighLowRank(m, d, rankBound, opts);
    return { values: r.values, vectors: r.vectors ?? null, cols: r.cols, complete: Boolean(r.vectors) && opts.top === undefined };
  }
  if (!opts.vectors) return { values: eigh(m, d).values, vectors: null, cols: 0, complete: false };
  const top = Math.min(d, opts.top ?? d);
  const r = top < d ? eigh(m, d, { vectors: true, top }) : eigh(m, d, { vectors: true });
  return { values: r.values, vectors: r.vectors!, cols: top, complete: top === d };
}

/** Most non-zero eigenvalues the covariance of `m` can have: n - 1 rows' worth, and its varying dims. */
export function covRankBound(m: Moments): number {
  let varying = 0;
  for (const c of m.constant) if (!c) varying++;
  return Math.min(m.n - 1, varying);
}

/** {@link psdEigen} of the covariance of `m`. */
export function covEigen(m: Moments, opts: { vectors?: boolean; top?: number } = {}): PsdEigen {
  return psdEigen(m.cov, m.dims, covRankBound(m), opts);
}
