import { wasmAddProduct } from './wasm/products.js';

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
 * `C += alpha * A^T B`, on the WebAssembly SIMD kernel where there is one (about 4x these loops,
 * sums in a different order: equal to rounding), else {@link addAtBPlain}.
 *
 * @param m, n, p  C is `m x n`; A is `p x m`, B is `p x n`
 */
export function addAtB(
  m: number, n: number, p: number, alpha: number,
  a: Float64Array, aOff: number, lda: number,
  b: Float64Array, bOff: number, ldb: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  if (wasmAddProduct(m, n, p, alpha, { x: a, off: aOff, ld: lda, trans: true }, { x: b, off: bOff, ld: ldb, trans: false }, c, cOff, ldc)) return;
  addAtBPlain(m, n, p, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
}

/**
 * `C += alpha * A B^T`, on the WebAssembly SIMD kernel where there is one, else {@link addABtPlain}.
 *
 * @param m, n, p  C is `m x n`; A is `m x p`, B is `n x p`
 */
export function addABt(
  m: number, n: number, p: number, alpha: number,
  a: Float64Array, aOff: number, lda: number,
  b: Float64Array, bOff: number, ldb: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  if (wasmAddProduct(m, n, p, alpha, { x: a, off: aOff, ld: lda, trans: false }, { x: b, off: bOff, ld: ldb, trans: true }, c, cOff, ldc)) return;
  addABtPlain(m, n, p, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
}

/**
 * `C += alpha * A^T B`: `C[i][j] += alpha * sum_q A[q][i] * B[q][j]`.
 *
 * Both operands are packed per panel into 4-wide strips (a strip of A: 4 consecutive columns of
 * PANEL rows, contiguous), so the kernel streams contiguous memory whatever the leading dimensions;
 * with power-of-two strides the unpacked loop thrashes one L1 set and runs at half speed.
 *
 * @param m, n, p  C is `m x n`; A is `p x m`, B is `p x n`
 * @param a, aOff, lda  A's storage, offset of A[0][0], row stride
 */
export function addAtBPlain(
  m: number, n: number, p: number, alpha: number,
  a: Float64Array, aOff: number, lda: number,
  b: Float64Array, bOff: number, ldb: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  if (m <= 0 || n <= 0 || p <= 0) return;
  const m4 = m - (m % 4), n4 = n - (n % 4);
  const bp = new Float64Array(Math.min(p, PANEL) * n4);
  const ap = new Float64Array(Math.min(p, PANEL) * 4);
  for (let q0 = 0; q0 < p; q0 += PANEL) {
    const q1 = Math.min(p, q0 + PANEL), len = q1 - q0;
    // B panel: strip t (columns 4t..4t+3) at bp[t * 4 * len], row by row
    for (let j = 0; j < n4; j += 4) {
      let o = j * len;
      for (let q = q0; q < q1; q++, o += 4) {
        const bo = bOff + q * ldb + j;
        bp[o] = b[bo]; bp[o + 1] = b[bo + 1]; bp[o + 2] = b[bo + 2]; bp[o + 3] = b[bo + 3];
      }
    }
    for (let i = 0; i < m4; i += 4) {
      for (let q = q0, o = 0; q < q1; q++, o += 4) {
        const ao = aOff + q * lda + i;
        ap[o] = a[ao]; ap[o + 1] = a[ao + 1]; ap[o + 2] = a[ao + 2]; ap[o + 3] = a[ao + 3];
      }
      for (let j = 0; j < n4; j += 4) {
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
        let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
        let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        const end = 4 * len;
        for (let ao = 0, bo = j * len; ao < end; ao += 4, bo += 4) {
          const x0 = ap[ao], x1 = ap[ao + 1], x2 = ap[ao + 2], x3 = ap[ao + 3];
          const y0 = bp[bo], y1 = bp[bo + 1], y2 = bp[bo + 2], y3 = bp[bo + 3];
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
    // edges: rows m4..m-1 (all columns) and columns n4..n-1 (rows below m4), axpy over B's rows
    for (let q = q0; q < q1; q++) {
      const ar = aOff + q * lda, br = bOff + q * ldb;
      for (let i = m4; i < m; i++) {
        const x = alpha * a[ar + i];
        if (x === 0) continue;
        const co = cOff + i * ldc;
        for (let j = 0; j < n; j++) c[co + j] += x * b[br + j];
      }
      if (n4 === n) continue;
      for (let i = 0; i < m4; i++) {
        const x = alpha * a[ar + i];
        const co = cOff + i * ldc;
        for (let j = n4; j < n; j++) c[co + j] += x * b[br + j];
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
export function addABtPlain(
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
