import type { KernelBackend } from './types.js';

/**
 * What `src/linalg/native.ts` (the optional OpenBLAS Node-API addon) exports; declared here so
 * that this adapter compiles without it: the module is imported at run time only.
 */
interface NativeBlas {
  /** upper triangle of out = X^T X + beta out (X rows x dims row-major, out dims x dims) */
  syrkUpper(x: Float64Array, rows: number, dims: number, out: Float64Array, beta: 0 | 1): void;
  /** C = A B, row-major, A m x k, B k x n */
  gemm(a: Float64Array, m: number, k: number, b: Float64Array, n: number, out?: Float64Array): Float64Array;
  /** like linalg's eigh: values descending, vectors d x d row-major (column k for values[k]) */
  syevd(m: Float64Array, d: number, vectors: boolean): { values: Float64Array; vectors?: Float64Array };
  info(): string;
}
interface NativeModule {
  loadNative(): NativeBlas | null;
  nativeUnavailableReason(): string | null;
}

// A variable specifier: TypeScript does not resolve it, so the build works without the addon.
const NATIVE_MODULE = '../native.js';

/**
 * The OpenBLAS backend (cblas_dsyrk, cblas_dgemm, LAPACKE_dsyevd through our addon): float64,
 * multi-threaded by OpenBLAS itself, so it runs on the calling thread without a worker pool.
 *
 * @returns the backend, or the reason it cannot load (addon not built, library missing)
 */
export async function loadNativeBackend(): Promise<KernelBackend | string> {
  let mod: NativeModule;
  try {
    mod = (await import(NATIVE_MODULE)) as NativeModule;
  } catch (err) {
    return `the native addon module is not part of this build (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
  let blas: NativeBlas | null;
  try {
    blas = mod.loadNative();
  } catch (err) {
    return `the native addon failed to load: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (!blas) return mod.nativeUnavailableReason() ?? 'the native addon is not built (install libopenblas-dev and reinstall)';
  const b = blas;
  return {
    name: 'native',
    detail: `${b.info()}, float64`,
    precision: 'float64',
    chunkRows: Infinity,
    threaded: true,
    gramUpper(xc, rows, dims, out) {
      if (rows === 0) return;
      b.syrkUpper(rows * dims === xc.length ? xc : xc.subarray(0, rows * dims), rows, dims, out, 1);
    },
    projector(dir, dims, cols, bias) {
      return {
        apply(x, rows) {
          const out = b.gemm(rows * dims === x.length ? x : x.subarray(0, rows * dims), rows, dims, dir, cols);
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
    eigh: (m, d, opts) => b.syevd(m, d, opts.vectors ?? false),
    dispose() {},
  };
}
