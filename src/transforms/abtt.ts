import { covEigen, type Moments, type PsdEigen } from '../stats/index.js';
import type { AffineMap } from './affine-map.js';
import { TransformError } from './errors.js';

/** All-but-the-top's default: about one direction per 100 dimensions, at least one. */
export function defaultRemove(d: number): number {
  return Math.max(1, Math.floor(d / 100 + 0.5));
}

/**
 * All-but-the-top (Mu & Viswanath, ICLR 2018): subtract the mean, then remove the projections on
 * the top D principal directions: x' = (x - mean)(I - U_D U_D^T).
 *
 * @param remove  D, from 1 to d - 1; default {@link defaultRemove}
 * @param eig     the covariance's eigendecomposition with vectors, when already computed
 */
export function abttMap(m: Moments, remove?: number, eig?: PsdEigen): { map: AffineMap; remove: number } {
  const d = m.dims;
  const D = remove ?? defaultRemove(d);
  if (!Number.isInteger(D) || D < 1 || D >= d) {
    throw new TransformError(`\`remove\` must be a whole number from 1 to ${d - 1}, got ${remove}`);
  }
  const { vectors, cols } = eig?.complete ? eig : covEigen(m, { vectors: true });
  // Directions past the covariance's rank carry no variance: removing them changes no row.
  const used = Math.min(D, cols);
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < used; k++) s += vectors![i * cols + k] * vectors![j * cols + k];
      a[i * d + j] = (i === j ? 1 : 0) - s;
    }
  }
  return { map: { kind: 'linear', matrix: a, dOut: d, shift: Float64Array.from(m.mean) }, remove: D };
}
