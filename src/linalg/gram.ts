import { addDotTiles, transpose } from './dot-tiles.js';

/**
 * Gram (co-moment) kernel: `out += X^T X` for a row-major block X.
 *
 * This is the one hot loop of the first pass; callers go through this function only, so a faster
 * kernel (WebAssembly SIMD, worker threads, BLAS) can replace the body without touching them.
 *
 * @param x     block, `rows x dims`, row-major, float64
 * @param rows  number of rows in the block (0 is a no-op)
 * @param dims  number of columns
 * @param out   `dims x dims` row-major accumulator; only entries with i <= j are meaningful
 *              afterwards (call {@link symmetrizeUpper} when done)
 */
export function addGramUpper(x: Float64Array, rows: number, dims: number, out: Float64Array): void {
  if (rows === 0) return;
  // Column-major copy: every dimension becomes one contiguous run, so each entry of X^T X is a dot
  // product of two contiguous rows of X^T.
  const xt = transpose(x, rows, dims);
  addDotTiles(xt, dims, xt, dims, rows, out, true);
}

/** Copies the upper triangle of a square row-major matrix onto its lower triangle, in place. */
export function symmetrizeUpper(m: Float64Array, dims: number): void {
  for (let i = 0; i < dims; i++) {
    for (let j = i + 1; j < dims; j++) m[j * dims + i] = m[i * dims + j];
  }
}
