import { covEigen, type Moments, type PsdEigen } from '../stats/index.js';
import type { AffineMap } from './affine-map.js';
import { TransformError } from './errors.js';

/** Components with eigenvalue at or below this fraction of the largest are noise, not signal. */
const RANK_TOL = 1e-10;

/**
 * PCA whitening as in BERT-whitening (Su et al. 2021): x' = (x - mean) V_k diag(l_k)^(-1/2), so the
 * output has identity covariance over its k dimensions.
 *
 * @param keep  number of leading components (default: all above the numerical rank tolerance);
 *              when fewer components carry variance, only those are kept and a warning says so
 * @param eig   the covariance's eigendecomposition with vectors, when already computed
 */
export function whitenMap(m: Moments, keep?: number, eig?: PsdEigen): { map: AffineMap; keep: number; warnings: string[] } {
  const d = m.dims;
  if (keep !== undefined && (!Number.isInteger(keep) || keep < 1 || keep > d)) {
    throw new TransformError(`\`keep\` must be a whole number from 1 to ${d}, got ${keep}`);
  }
  const { values, vectors, cols } = eig?.complete ? eig : covEigen(m, { vectors: true });
  let rank = 0;
  while (rank < cols && values[rank] > values[0] * RANK_TOL) rank++;
  if (rank === 0) throw new TransformError('whiten: the covariance is zero, nothing to whiten');
  const warnings: string[] = [];
  const want = keep ?? d;
  const k = Math.min(want, rank);
  if (k < want) warnings.push(`whiten: only ${rank} of ${d} components carry variance; keeping ${k}`);
  const a = new Float64Array(d * k);
  for (let c = 0; c < k; c++) {
    const f = 1 / Math.sqrt(values[c]);
    for (let i = 0; i < d; i++) a[i * k + c] = vectors![i * cols + c] * f;
  }
  return { map: { kind: 'linear', matrix: a, dOut: k, shift: Float64Array.from(m.mean) }, keep: k, warnings };
}
