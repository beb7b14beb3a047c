import { loadNative, nativeUnavailableReason } from '../native.js';
import { OutBuffer } from './out-buffer.js';
import type { KernelBackend } from './types.js';

/**
 * The OpenBLAS backend (cblas_dsyrk, cblas_dgemm, LAPACKE_dsyevd through our addon, see
 * linalg/native.ts): float64, multi-threaded by OpenBLAS itself, so it runs on the calling thread
 * without a worker pool. Its eigensolver serves `eigh` during an analysis (withEighSolver).
 *
 * @returns the backend, or the reason it cannot load (addon not built, library missing, disabled)
 */
export async function loadNativeBackend(): Promise<KernelBackend | string> {
  let blas;
  try {
    blas = loadNative();
  } catch (err) {
    return `the native addon failed to load: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (!blas) return nativeUnavailableReason() ?? 'the native addon is not available';
  const b = blas;
  const info = b.info();
  // info() ends with OpenBLAS's thread count, e.g. "... MAX_THREADS=64 (2 threads)"
  const threads = Number(/\((\d+) threads?\)/.exec(info)?.[1]);
  return {
    name: 'native',
    detail: `${info}, float64`,
    precision: 'float64',
    chunkRows: Infinity,
    threaded: true,
    ...(threads > 0 ? { ownThreads: threads } : {}),
    gramUpper(xc, rows, dims, out) {
      if (rows > 0) b.syrkUpper(xc, rows, dims, out, 1);
    },
    projector(dir, dims, cols, bias) {
      const buffer = new OutBuffer();
      return {
        apply(x, rows) {
          const out = b.gemm(rows * dims === x.length ? x : x.subarray(0, rows * dims), rows, dims, dir, cols, buffer.get(rows * cols));
          if (bias) {
            for (let r = 0; r < rows; r++) {
              const o = r * cols;
              for (let j = 0; j < cols; j++) out[o + j] += bias[j];
            }
          }
          return out;
        },
        dispose() {},
      };
    },
    eigh(m, d, opts) {
      const r = b.syevd(m, d, opts.vectors ?? false);
      if (r.vectors) signColumns(r.vectors, d);
      return r;
    },
    dispose() {},
  };
}

/**
 * LAPACK's eigenvector signs are arbitrary; linalg's eigh makes the entry of largest magnitude of
 * each column (the first one on ties) positive. Same here, so that results do not depend on which
 * solver ran.
 */
function signColumns(v: Float64Array, d: number): void {
  for (let j = 0; j < d; j++) {
    let big = 0, at = 0;
    for (let i = 0; i < d; i++) {
      const x = Math.abs(v[i * d + j]);
      if (x > big) { big = x; at = i; }
    }
    if (v[at * d + j] < 0) for (let i = 0; i < d; i++) v[i * d + j] = -v[i * d + j];
  }
}
