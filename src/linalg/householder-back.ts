import { addABt, addAtB } from './strided-products.js';
import type { Tridiagonal } from './tridiagonalize.js';

/** reflectors per block: large enough for the products to run near their peak, small enough for T */
const BLOCK = 32;

/**
 * Back-transformation of tridiagonal eigenvectors: each of the `m` rows x (an eigenvector of T)
 * becomes `(Q x^T)^T`, an eigenvector of A = Q T Q^T, in place.
 *
 * Rows are multiplied on the right by `Q^T = H_{n-3} ... H_0`, BLOCK reflectors at a time in the
 * compact WY form `H_k0 ... H_k1-1 = I - V T V^T` (LAPACK's dlarft/dlarfb), so the work is two
 * register-blocked matrix products per block: about 2 m n^2 flops in all.
 *
 * @param rows  `m x n` row-major
 */
export function applyQ(tri: Tridiagonal, rows: Float64Array, m: number): void {
  const { n, reflectors: R, tau } = tri;
  const count = tau.length; // n - 2 reflectors
  if (m === 0 || count === 0) return;
  const T = new Float64Array(BLOCK * BLOCK);
  const Wt = new Float64Array(BLOCK * m);
  const first = Math.floor((count - 1) / BLOCK) * BLOCK;
  for (let k0 = first; k0 >= 0; k0 -= BLOCK) {
    const nb = Math.min(BLOCK, count - k0);
    const L = n - k0 - 1; // reflectors of this block live in columns k0+1..n-1
    const vOff = k0 * n + k0 + 1;
    blockT(R, tau, n, k0, nb, T);
    // Wt = V^T X^T (nb x m): dot products of rows of V^T with rows of X
    Wt.fill(0, 0, nb * m);
    addABt(nb, m, L, 1, R, vOff, n, rows, k0 + 1, n, Wt, 0, m);
    // Wt <- T Wt (T upper triangular: ascending rows can be overwritten in place)
    for (let c = 0; c < nb; c++) {
      const co = c * m, tc = T[c * BLOCK + c];
      for (let i = 0; i < m; i++) Wt[co + i] *= tc;
      for (let c2 = c + 1; c2 < nb; c2++) {
        const t = T[c * BLOCK + c2], o2 = c2 * m;
        if (t !== 0) for (let i = 0; i < m; i++) Wt[co + i] += t * Wt[o2 + i];
      }
    }
    // X -= Wt^T V^T
    addAtB(m, L, nb, -1, Wt, 0, m, R, vOff, n, rows, k0 + 1, n);
  }
}

/**
 * Upper triangular T of the block (forward, columnwise, as dlarft):
 * `T[i][i] = tau_i`, `T[0:i, i] = -tau_i T[0:i, 0:i] V[:, 0:i]^T v_i`.
 */
function blockT(R: Float64Array, tau: Float64Array, n: number, k0: number, nb: number, T: Float64Array): void {
  const g = new Float64Array(nb);
  for (let i = 0; i < nb; i++) {
    const ti = tau[k0 + i];
    T[i * BLOCK + i] = ti;
    if (i === 0) continue;
    const ri = (k0 + i) * n;
    // v_i is zero left of column k0+i+1
    for (let j = 0; j < i; j++) {
      const rj = (k0 + j) * n;
      let sum = 0;
      for (let c = k0 + i + 1; c < n; c++) sum += R[rj + c] * R[ri + c];
      g[j] = sum;
    }
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let l = j; l < i; l++) sum += T[j * BLOCK + l] * g[l];
      T[j * BLOCK + i] = -ti * sum;
    }
  }
}
