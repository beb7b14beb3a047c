/**
 * The register-blocked kernel behind both hot products: `out[i][j] += sum_p a[i][p] * b[j][p]`
 * for row-major `a` (m x k) and `b` (n x k), i.e. out += A B^T. Every entry is a dot product of two
 * contiguous rows; a 4 x 4 tile keeps 16 sums in registers and loads 8 values per 16 multiply-adds,
 * about 2x the throughput of an axpy loop in V8.
 *
 * @param upper  only tiles with j >= i (for symmetric results such as X^T X; the strict lower
 *               triangle of diagonal tiles is written too and must be ignored by the caller)
 */
export function addDotTiles(a: Float64Array, m: number, b: Float64Array, n: number, k: number, out: Float64Array, upper = false): void {
  const m4 = m - (m % 4), n4 = n - (n % 4);
  for (let i = 0; i < m4; i += 4) {
    const a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
    for (let j = upper ? i : 0; j < n4; j += 4) {
      const b0 = j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = a[a0 + p], x1 = a[a1 + p], x2 = a[a2 + p], x3 = a[a3 + p];
        const y0 = b[b0 + p], y1 = b[b1 + p], y2 = b[b2 + p], y3 = b[b3 + p];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      const o0 = i * n + j, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
      out[o0] += s00; out[o0 + 1] += s01; out[o0 + 2] += s02; out[o0 + 3] += s03;
      out[o1] += s10; out[o1 + 1] += s11; out[o1 + 2] += s12; out[o1 + 3] += s13;
      out[o2] += s20; out[o2 + 1] += s21; out[o2 + 2] += s22; out[o2 + 3] += s23;
      out[o3] += s30; out[o3 + 1] += s31; out[o3 + 2] += s32; out[o3 + 3] += s33;
    }
  }
  // Edges (m or n not a multiple of 4): plain dot products.
  for (let i = 0; i < m; i++) {
    const jStart = i < m4 ? n4 : upper ? i : 0;
    const ao = i * k;
    for (let j = jStart; j < n; j++) {
      const bo = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ao + p] * b[bo + p];
      out[i * n + j] += s;
    }
  }
}

/** Row-major transpose: `rows x cols` in, `cols x rows` out. */
export function transpose(x: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) t[c * rows + r] = x[o + c];
  }
  return t;
}
