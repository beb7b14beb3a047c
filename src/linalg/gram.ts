/**
 * Gram (co-moment) kernel: `out += X^T X` for a row-major block X.
 *
 * This is the one hot loop of the first pass; callers go through this function only, so a faster
 * kernel (WebAssembly SIMD, worker threads, BLAS) can replace the body without touching them.
 */

/**
 * Adds `X^T X` to the upper triangle (i <= j) of `out`.
 *
 * @param x     block, `rows x dims`, row-major, float64
 * @param rows  number of rows in the block (0 is a no-op)
 * @param dims  number of columns
 * @param out   `dims x dims` row-major accumulator; only entries with i <= j are read and written,
 *              the strict lower triangle is left untouched (call {@link symmetrizeUpper} when done)
 */
export function addGramUpper(x: Float64Array, rows: number, dims: number, out: Float64Array): void {
  if (rows === 0) return;
  // Column-major copy so that every dimension is one contiguous run: the 4x4 register tile below then
  // reads 8 sequential streams instead of striding across rows.
  const xt = new Float64Array(rows * dims);
  for (let r = 0; r < rows; r++) {
    const ro = r * dims;
    for (let c = 0; c < dims; c++) xt[c * rows + r] = x[ro + c];
  }
  const d4 = dims - (dims % 4);
  for (let i = 0; i < d4; i += 4) {
    const a0 = i * rows, a1 = a0 + rows, a2 = a1 + rows, a3 = a2 + rows;
    for (let j = i; j < d4; j += 4) {
      const b0 = j * rows, b1 = b0 + rows, b2 = b1 + rows, b3 = b2 + rows;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = 0; k < rows; k++) {
        const x0 = xt[a0 + k], x1 = xt[a1 + k], x2 = xt[a2 + k], x3 = xt[a3 + k];
        const y0 = xt[b0 + k], y1 = xt[b1 + k], y2 = xt[b2 + k], y3 = xt[b3 + k];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      const o0 = i * dims + j, o1 = o0 + dims, o2 = o1 + dims, o3 = o2 + dims;
      out[o0] += s00; out[o0 + 1] += s01; out[o0 + 2] += s02; out[o0 + 3] += s03;
      // On a diagonal tile (i === j) the entries below the diagonal are written too; they lie in the
      // lower triangle, which callers ignore.
      out[o1] += s10; out[o1 + 1] += s11; out[o1 + 2] += s12; out[o1 + 3] += s13;
      out[o2] += s20; out[o2 + 1] += s21; out[o2 + 2] += s22; out[o2 + 3] += s23;
      out[o3] += s30; out[o3 + 1] += s31; out[o3 + 2] += s32; out[o3 + 3] += s33;
    }
  }
  // Edge columns (dims not a multiple of 4): plain dot products.
  for (let i = 0; i < dims; i++) {
    const jStart = i < d4 ? d4 : i;
    const a = i * rows;
    for (let j = jStart; j < dims; j++) {
      const b = j * rows;
      let s = 0;
      for (let k = 0; k < rows; k++) s += xt[a + k] * xt[b + k];
      out[i * dims + j] += s;
    }
  }
}

/** Copies the upper triangle of a square row-major matrix onto its lower triangle, in place. */
export function symmetrizeUpper(m: Float64Array, dims: number): void {
  for (let i = 0; i < dims; i++) {
    for (let j = i + 1; j < dims; j++) m[j * dims + i] = m[i * dims + j];
  }
}
