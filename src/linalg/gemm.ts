import { addDotTiles, transpose } from './dot-tiles.js';
import { loadNative } from './native.js';

/**
 * Products at least this large (m k n multiply-adds) go to OpenBLAS's dgemm when the native addon
 * is loaded: the transforms' d x d x d products (whitening, all-but-the-top at d = 4096) take
 * seconds there and minutes in TypeScript.
 */
const NATIVE_MIN_WORK = 1 << 20;

/**
 * Dense row-major matrix product `C = A B`, float64 (OpenBLAS's dgemm for large products when the
 * native addon is available, else the register-blocked TypeScript kernel).
 *
 * @param a  `m x k`, row-major
 * @param b  `k x n`, row-major
 * @returns  `m x n`, row-major, a new array
 */
export function matmul(a: Float64Array, m: number, k: number, b: Float64Array, n: number): Float64Array {
  if (m > 0 && k > 0 && n > 0 && m * k * n >= NATIVE_MIN_WORK) {
    const blas = loadNative();
    if (blas) return blas.gemm(a.length === m * k ? a : a.subarray(0, m * k), m, k, b.length === k * n ? b : b.subarray(0, k * n), n);
  }
  const c = new Float64Array(m * n);
  addDotTiles(a, m, transpose(b, k, n), n, k, c);
  return c;
}

/** `A^T M A` for a symmetric `d x d` matrix M and a `d x e` matrix A; returns `e x e`, symmetric. */
export function congruence(mtx: Float64Array, d: number, a: Float64Array, e: number): Float64Array {
  const ma = matmul(mtx, d, d, a, e); // d x e
  // Two dense products (cache-friendly and native when available) instead of a strided triple loop.
  const out = matmul(transpose(a, d, e), e, d, ma, e);
  for (let i = 0; i < e; i++) for (let j = i + 1; j < e; j++) out[j * e + i] = out[i * e + j];
  return out;
}
