/**
 * Dense row-major matrix product `C = A B`, float64.
 *
 * @param a  `m x k`, row-major
 * @param b  `k x n`, row-major
 * @returns  `m x n`, row-major, a new array
 */
export function matmul(a: Float64Array, m: number, k: number, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(m * n);
  // i-p-j order keeps the inner loop on contiguous rows of B and C; four rows of A per sweep reuse
  // each loaded row of B four times.
  const m4 = m - (m % 4);
  for (let i = 0; i < m4; i += 4) {
    const a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
    const c0 = i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
    for (let p = 0; p < k; p++) {
      const v0 = a[a0 + p], v1 = a[a1 + p], v2 = a[a2 + p], v3 = a[a3 + p];
      const bo = p * n;
      for (let j = 0; j < n; j++) {
        const bv = b[bo + j];
        c[c0 + j] += v0 * bv;
        c[c1 + j] += v1 * bv;
        c[c2 + j] += v2 * bv;
        c[c3 + j] += v3 * bv;
      }
    }
  }
  for (let i = m4; i < m; i++) {
    const ao = i * k, co = i * n;
    for (let p = 0; p < k; p++) {
      const v = a[ao + p], bo = p * n;
      for (let j = 0; j < n; j++) c[co + j] += v * b[bo + j];
    }
  }
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
