import { eigh } from './eigh.js';

/** Result of {@link eighLowRank}. */
export interface LowRankEigh {
  /** all d eigenvalues, descending; those past the numerical rank are exactly 0 */
  values: Float64Array;
  /**
   * with `vectors`: `d x cols` row-major, column j the unit eigenvector of `values[j]`, signed as
   * linalg's eigh does (entry of largest magnitude positive); only eigenvalues above the numerical
   * null level (d * eps * the largest) get one
   */
  vectors?: Float64Array;
  /** columns of `vectors` (0 without vectors) */
  cols: number;
}

/**
 * Eigendecomposition of a symmetric positive semi-definite `d x d` row-major matrix whose rank is
 * known to be at most `maxRank` (a covariance of n < d rows has rank at most n - 1): O(d r^2)
 * instead of the O(d^3) of a dense solver, which makes a 2 x 4096 input take milliseconds instead
 * of a minute.
 *
 * Pivoted Cholesky `M = L L^T` (L `d x k`, k <= maxRank; it stops when the largest remaining
 * diagonal entry is at most d * eps times the largest diagonal entry, LAPACK dpstrf's rule), then
 * the small `k x k` eigenproblem `L^T L = U S U^T`: the non-zero eigenvalues of M are S, and its
 * eigenvectors `L U S^(-1/2)`, re-orthonormalized once (modified Gram-Schmidt, descending). The
 * remaining d - k eigenvalues are 0: their eigenvectors span the null space, any basis of it.
 * Only the upper triangle of `m` is read.
 *
 * @param top  with `vectors`, at most this many leading columns (default all)
 */
export function eighLowRank(m: Float64Array, d: number, maxRank: number, opts: { vectors?: boolean; top?: number } = {}): LowRankEigh {
  const r = Math.max(0, Math.min(d, Math.floor(maxRank)));
  const at = (i: number, j: number) => (i <= j ? m[i * d + j] : m[j * d + i]);
  const diag = new Float64Array(d);
  let big = 0;
  for (let i = 0; i < d; i++) {
    diag[i] = m[i * d + i];
    big = Math.max(big, diag[i]);
  }
  const values = new Float64Array(d);
  // as linalg's eigh: a non-finite entry makes every returned number NaN
  let finite = 0;
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) finite += m[i * d + j] * 0;
  if (finite !== 0) return { values: values.fill(NaN), cols: 0 };
  if (!(big > 0) || r === 0) return { values, cols: 0 };
  const tol = d * Number.EPSILON * big;
  // L column-major (column c at c * d): each step reads whole columns.
  const L = new Float64Array(d * r);
  const used = new Uint8Array(d);
  let k = 0;
  for (; k < r; k++) {
    let p = -1, best = tol;
    for (let i = 0; i < d; i++) if (!used[i] && diag[i] > best) { best = diag[i]; p = i; }
    if (p < 0) break;
    const lpp = Math.sqrt(diag[p]);
    const col = L.subarray(k * d, (k + 1) * d);
    for (let i = 0; i < d; i++) col[i] = used[i] ? 0 : at(i, p);
    for (let q = 0; q < k; q++) {
      const lq = L.subarray(q * d, (q + 1) * d);
      const f = lq[p];
      if (f === 0) continue;
      for (let i = 0; i < d; i++) col[i] -= lq[i] * f;
    }
    const inv = 1 / lpp;
    for (let i = 0; i < d; i++) col[i] = used[i] ? 0 : col[i] * inv;
    col[p] = lpp;
    used[p] = 1;
    for (let i = 0; i < d; i++) if (!used[i]) diag[i] -= col[i] * col[i];
    diag[p] = 0;
  }
  if (k === 0) return { values, cols: 0 };
  // B = L^T L (k x k)
  const b = new Float64Array(k * k);
  for (let x = 0; x < k; x++) {
    const lx = L.subarray(x * d, (x + 1) * d);
    for (let y = x; y < k; y++) {
      const ly = L.subarray(y * d, (y + 1) * d);
      let s = 0;
      for (let i = 0; i < d; i++) s += lx[i] * ly[i];
      b[x * k + y] = s;
      b[y * k + x] = s;
    }
  }
  const small = eigh(b, k, { vectors: opts.vectors === true });
  values.set(small.values);
  if (!opts.vectors) return { values, cols: 0 };
  const nullLevel = d * Number.EPSILON * Math.max(0, small.values[0]);
  let cols = 0;
  const limit = Math.min(k, opts.top ?? k);
  while (cols < limit && small.values[cols] > nullLevel) cols++;
  // V = L U S^(-1/2), column by column (column j of V kept contiguous in `v`, then laid out row-major)
  const u = small.vectors!;
  const v = new Float64Array(cols * d);
  for (let j = 0; j < cols; j++) {
    const vj = v.subarray(j * d, (j + 1) * d);
    for (let q = 0; q < k; q++) {
      const f = u[q * k + j];
      if (f === 0) continue;
      const lq = L.subarray(q * d, (q + 1) * d);
      for (let i = 0; i < d; i++) vj[i] += lq[i] * f;
    }
    // modified Gram-Schmidt against the columns before: rounding in L U grows as S_j shrinks
    for (let q = 0; q < j; q++) {
      const vq = v.subarray(q * d, (q + 1) * d);
      let s = 0;
      for (let i = 0; i < d; i++) s += vq[i] * vj[i];
      for (let i = 0; i < d; i++) vj[i] -= s * vq[i];
    }
    let ss = 0, peak = 0, sign = 1;
    for (let i = 0; i < d; i++) {
      ss += vj[i] * vj[i];
      if (Math.abs(vj[i]) > peak) { peak = Math.abs(vj[i]); sign = vj[i] < 0 ? -1 : 1; }
    }
    const f = sign / Math.sqrt(ss);
    for (let i = 0; i < d; i++) vj[i] *= f;
  }
  const vectors = new Float64Array(d * cols);
  for (let j = 0; j < cols; j++) for (let i = 0; i < d; i++) vectors[i * cols + j] = v[j * d + i];
  return { values, vectors, cols };
}
