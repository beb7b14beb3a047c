/**
 * Strided matrix-product kernels for the eigensolver: operands are sub-blocks of larger row-major
 * arrays (offset + leading dimension), so the callers never copy a block just to multiply it.
 *
 * Both keep a 4 x 4 tile of sums in registers (8 loads per 16 multiply-adds). The shared
 * dimension is cut into panels of {@link PANEL} rows so the streamed operands stay in L1/L2 even
 * when the leading dimension is a power of two (which would otherwise alias cache sets).
 */

const PANEL = 64;

/**
 * `C += alpha * A^T B`: `C[i][j] += alpha * sum_q A[q][i] * B[q][j]`.
 *
 * @param m, n, p  C is `m x n`; A is `p x m`, B is `p x n`
 * @param a, aOff, lda  A's storage, offset of A[0][0], row stride
 */
export function addAtB(
  m: number, n: number, p: number, alpha: number,
  a: Float64Array, aOff: number, lda: number,
  b: Float64Array, bOff: number, ldb: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  if (m <= 0 || n <= 0 || p <= 0) return;
  const m4 = m - (m % 4), n4 = n - (n % 4);
  for (let q0 = 0; q0 < p; q0 += PANEL) {
    const q1 = Math.min(p, q0 + PANEL);
    for (let i = 0; i < m4; i += 4) {
      for (let j = 0; j < n4; j += 4) {
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
        let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
        let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        let ao = aOff + q0 * lda + i, bo = bOff + q0 * ldb + j;
        for (let q = q0; q < q1; q++, ao += lda, bo += ldb) {
          const x0 = a[ao], x1 = a[ao + 1], x2 = a[ao + 2], x3 = a[ao + 3];
          const y0 = b[bo], y1 = b[bo + 1], y2 = b[bo + 2], y3 = b[bo + 3];
          s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
          s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
          s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
          s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
        }
        const o0 = cOff + i * ldc + j, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc;
        c[o0] += alpha * s00; c[o0 + 1] += alpha * s01; c[o0 + 2] += alpha * s02; c[o0 + 3] += alpha * s03;
        c[o1] += alpha * s10; c[o1 + 1] += alpha * s11; c[o1 + 2] += alpha * s12; c[o1 + 3] += alpha * s13;
        c[o2] += alpha * s20; c[o2 + 1] += alpha * s21; c[o2 + 2] += alpha * s22; c[o2 + 3] += alpha * s23;
        c[o3] += alpha * s30; c[o3 + 1] += alpha * s31; c[o3 + 2] += alpha * s32; c[o3 + 3] += alpha * s33;
      }
      // right edge: columns n4..n-1 of these four rows
      for (let j = n4; j < n; j++) {
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        let ao = aOff + q0 * lda + i, bo = bOff + q0 * ldb + j;
        for (let q = q0; q < q1; q++, ao += lda, bo += ldb) {
          const y = b[bo];
          s0 += a[ao] * y; s1 += a[ao + 1] * y; s2 += a[ao + 2] * y; s3 += a[ao + 3] * y;
        }
        const o = cOff + i * ldc + j;
        c[o] += alpha * s0; c[o + ldc] += alpha * s1; c[o + 2 * ldc] += alpha * s2; c[o + 3 * ldc] += alpha * s3;
      }
    }
    // bottom edge: rows m4..m-1, every column
    for (let i = m4; i < m; i++) {
      const co = cOff + i * ldc;
      for (let q = q0; q < q1; q++) {
        const x = alpha * a[aOff + q * lda + i];
        if (x === 0) continue;
        const bo = bOff + q * ldb;
        for (let j = 0; j < n; j++) c[co + j] += x * b[bo + j];
      }
    }
  }
}

/**
 * `C += alpha * A B^T`: `C[i][j] += alpha * sum_q A[i][q] * B[j][q]` (every entry is a dot product
 * of two contiguous rows).
 *
 * @param m, n, p  C is `m x n`; A is `m x p`, B is `n x p`
 */
export function addABt(
  m: number, n: number, p: number, alpha: number,
  a: Float64Array, aOff: number, lda: number,
  b: Float64Array, bOff: number, ldb: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  if (m <= 0 || n <= 0 || p <= 0) return;
  const m4 = m - (m % 4), n4 = n - (n % 4);
  const panel = 4 * PANEL;
  for (let q0 = 0; q0 < p; q0 += panel) {
    const q1 = Math.min(p, q0 + panel);
    for (let i = 0; i < m4; i += 4) {
      const a0 = aOff + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
      for (let j = 0; j < n4; j += 4) {
        const b0 = bOff + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
        let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
        let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        for (let q = q0; q < q1; q++) {
          const x0 = a[a0 + q], x1 = a[a1 + q], x2 = a[a2 + q], x3 = a[a3 + q];
          const y0 = b[b0 + q], y1 = b[b1 + q], y2 = b[b2 + q], y3 = b[b3 + q];
          s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
          s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
          s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
          s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
        }
        const o0 = cOff + i * ldc + j, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc;
        c[o0] += alpha * s00; c[o0 + 1] += alpha * s01; c[o0 + 2] += alpha * s02; c[o0 + 3] += alpha * s03;
        c[o1] += alpha * s10; c[o1 + 1] += alpha * s11; c[o1 + 2] += alpha * s12; c[o1 + 3] += alpha * s13;
        c[o2] += alpha * s20; c[o2 + 1] += alpha * s21; c[o2 + 2] += alpha * s22; c[o2 + 3] += alpha * s23;
        c[o3] += alpha * s30; c[o3 + 1] += alpha * s31; c[o3 + 2] += alpha * s32; c[o3 + 3] += alpha * s33;
      }
    }
    // edges: plain dot products
    for (let i = 0; i < m; i++) {
      const ao = aOff + i * lda;
      for (let j = i < m4 ? n4 : 0; j < n; j++) {
        const bo = bOff + j * ldb;
        let s = 0;
        for (let q = q0; q < q1; q++) s += a[ao + q] * b[bo + q];
        c[cOff + i * ldc + j] += alpha * s;
      }
    }
  }
}
