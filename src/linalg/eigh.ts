import { applyQ } from './householder-back.js';
import { tridiagonalEigen } from './tridiagonal-dc.js';
import { tridiagonalVectors } from './tridiagonal-inverse.js';
import { tridiagonalEigenvalues } from './tridiagonal-ql.js';
import { tridiagonalize } from './tridiagonalize.js';

/** Result of {@link eigh}: eigenvalues in descending order and, when asked, the matching eigenvectors. */
export interface Eigh {
  /** eigenvalues, descending (all d of them, also with `top`) */
  values: Float64Array;
  /**
   * `d x d` row-major; column k is the unit eigenvector of `values[k]`, signed so that its entry
   * of largest magnitude (the first one on ties) is positive; within a repeated eigenvalue, any
   * orthonormal basis. With `top: k` (k < d) it is `d x k` instead: column j is the unit
   * eigenvector of `values[j]`, the same convention.
   */
  vectors?: Float64Array;
}

/** Options of {@link eigh}. */
export interface EighOptions {
  /** also return eigenvectors (default false) */
  vectors?: boolean;
  /**
   * with `vectors`, return only the eigenvectors of the `top` largest eigenvalues, as a
   * `d x min(top, d)` matrix; a whole number >= 1 (default d: all of them). Ignored without `vectors`.
   */
  top?: number;
}

/** top-k vectors by inverse iteration up to this many (or d / 8); beyond, the full path is as cheap */
const INVERSE_ITERATION_MAX = 16;

/**
 * Symmetric eigendecomposition of a `d x d` row-major float64 matrix.
 *
 * Only the upper triangle is read (accumulated matrices differ from their transpose in the last
 * bits). Householder tridiagonalization, then:
 * - values only: implicit QL on the tridiagonal, O(d^2), no vector is ever formed;
 * - vectors: divide and conquer on the tridiagonal, then back-transformation by the Householder
 *   reflectors in blocks;
 * - vectors with `top: k`: inverse iteration on the tridiagonal for the k largest eigenvalues and
 *   back-transformation of those k vectors only (O(k d^2) on top of the reduction), falling back to
 *   the full path when k > max(16, d / 8) or when a computed vector fails its residual or
 *   orthogonality check (tight clusters).
 *
 * Accuracy (backward stable): eigenvalues within a small multiple of d * eps * ||A|| of the exact
 * ones; residual `||A V - V diag(values)||` and `||V^T V - I||` of the same order. Tiny negative
 * values of a positive semi-definite input are rounding noise and are returned as they are. A
 * non-finite entry makes every returned number NaN. d = 0 gives empty arrays.
 *
 * @throws RangeError when `top` is not a whole number >= 1
 */
export function eigh(m: Float64Array, d: number, opts: EighOptions = {}): Eigh {
  const wantVectors = opts.vectors === true;
  let top = d;
  if (wantVectors && opts.top !== undefined) {
    if (!Number.isInteger(opts.top) || opts.top < 1) {
      throw new RangeError(`eigh: top must be a whole number >= 1, got ${opts.top}`);
    }
    top = Math.min(opts.top, d);
  }
  if (d === 0) return { values: new Float64Array(0), vectors: wantVectors ? new Float64Array(0) : undefined };

  const a = new Float64Array(d * d);
  let big = 0;
  for (let i = 0; i < d; i++) {
    const r = i * d;
    for (let j = i; j < d; j++) {
      const x = m[r + j];
      a[r + j] = x;
      big = Math.max(big, Math.abs(x));
    }
  }
  if (!Number.isFinite(big)) {
    return {
      values: new Float64Array(d).fill(NaN),
      vectors: wantVectors ? new Float64Array(d * top).fill(NaN) : undefined,
    };
  }
  if (big === 0) return { values: new Float64Array(d), vectors: wantVectors ? identityColumns(d, top) : undefined };
  // an exact power-of-two scale: no overflow or underflow in the reflectors, and no rounding
  const scale = 2 ** -Math.round(Math.log2(big));
  for (let i = 0; i < d * d; i++) a[i] *= scale;
  const tri = tridiagonalize(a, d);

  if (!wantVectors || top < d) {
    const desc = tridiagonalEigenvalues(tri.diag, tri.off, d).reverse();
    const values = Float64Array.from(desc, (x) => x / scale);
    if (!wantVectors) return { values };
    if (top <= Math.max(INVERSE_ITERATION_MAX, d / 8)) {
      const rows = tridiagonalVectors(tri.diag, tri.off, d, desc.subarray(0, top));
      if (rows) {
        applyQ(tri, rows, top);
        return { values, vectors: columns(rows, top, d, false) };
      }
    }
    const full = tridiagonalEigen(tri.diag, tri.off, d);
    // keep the values from QL (identical up to rounding), vectors of the top ones from the full path
    const lead = full.rows.subarray((d - top) * d);
    applyQ(tri, lead, top);
    return { values, vectors: columns(lead, top, d, true) };
  }

  const full = tridiagonalEigen(tri.diag, tri.off, d);
  applyQ(tri, full.rows, d);
  const values = Float64Array.from(full.values.reverse(), (x) => x / scale);
  return { values, vectors: columns(full.rows, d, d, true) };
}

/**
 * `d x k` row-major whose column j is row j of `rows` (k x d), or row k-1-j when `reversed`
 * (rows in ascending eigenvalue order, columns descending), with the sign convention of
 * {@link Eigh.vectors}: the same vector comes out the same whichever path computed it.
 */
function columns(rows: Float64Array, k: number, d: number, reversed: boolean): Float64Array {
  const out = new Float64Array(d * k);
  for (let j = 0; j < k; j++) {
    const r = (reversed ? k - 1 - j : j) * d;
    let big = 0, at = 0;
    for (let i = 0; i < d; i++) {
      const x = Math.abs(rows[r + i]);
      if (x > big) {
        big = x;
        at = i;
      }
    }
    const sign = rows[r + at] < 0 ? -1 : 1;
    for (let i = 0; i < d; i++) out[i * k + j] = sign * rows[r + i];
  }
  return out;
}

/** The first k columns of the d x d identity. */
function identityColumns(d: number, k: number): Float64Array {
  const out = new Float64Array(d * k);
  for (let j = 0; j < k; j++) out[j * k + j] = 1;
  return out;
}
