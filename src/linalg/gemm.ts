import { addDotTiles, transpose } from './dot-tiles.js';

/**
 * Dense row-major matrix product `C = A B`, float64.
 *
 * @param a  `m x k`, row-major
 * @param b  `k x n`, row-major
 * @returns  `m x n`, row-major, a new array
 */
export function matmul(a: Float64Array, m: number, k: number, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(m * n);
  addDotTiles(a, m, transpose(b, k, n), n, k, c);
  return c;
}

/** `A^T M A` for a symmetric `d x d` matrix M and a `d x e` matrix A; returns `e x e`, symmetric. */
export function congruence(mtx: Float64Array, d: number, a: Float64Array, e: number): Float64Array {
  const ma = matmul(mtx, d, d, a, e); // d x e
  const out = new Float64Array(e * e);
  for (let i = 0; i < e; i++) {
    for (let j = i; j < e; j++) {
      let s = 0;
      for (let p = 0; p < d; p++) s += a[p * e + i] * ma[p * e + j];
      out[i * e + j] = s;
      out[j * e + i] = s;
    }
  }
  return out;
}
