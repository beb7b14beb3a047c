import { EVD, Matrix } from 'ml-matrix';

/** Result of {@link eigh}: eigenvalues in descending order and, when asked, the matching eigenvectors. */
export interface Eigh {
  /** eigenvalues, descending */
  values: Float64Array;
  /** `d x d` row-major; column k is the unit eigenvector of `values[k]` (sign arbitrary) */
  vectors?: Float64Array;
}

/**
 * Symmetric eigendecomposition of a `d x d` row-major matrix.
 *
 * Only the upper triangle is trusted: the input is symmetrized from it first, since accumulated
 * matrices differ from their transpose in the last bits. Eigenvalues come back descending; tiny
 * negative values of a positive semi-definite input are rounding noise and are returned as they are.
 *
 * @param opts.vectors  also return eigenvectors (default false)
 */
export function eigh(m: Float64Array, d: number, opts: { vectors?: boolean } = {}): Eigh {
  if (d === 0) return { values: new Float64Array(0), vectors: opts.vectors ? new Float64Array(0) : undefined };
  const rows: number[][] = new Array(d);
  for (let i = 0; i < d; i++) {
    const r = new Array<number>(d);
    for (let j = 0; j < d; j++) r[j] = i <= j ? m[i * d + j] : m[j * d + i];
    rows[i] = r;
  }
  const evd = new EVD(new Matrix(rows), { assumeSymmetric: true });
  const raw = evd.realEigenvalues;
  const order = raw.map((_, i) => i).sort((p, q) => raw[q] - raw[p]);
  const values = Float64Array.from(order, (i) => raw[i]);
  if (!opts.vectors) return { values };
  const v = evd.eigenvectorMatrix;
  const vectors = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const src = order[k];
    for (let i = 0; i < d; i++) vectors[i * d + k] = v.get(i, src);
  }
  return { values, vectors };
}
