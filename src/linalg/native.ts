import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { RowData } from './backends/types.js';

/**
 * The optional OpenBLAS addon (native/isotropy_blas.c), built at install time where the library is
 * present. All matrices are row-major float64 (rows `x` of the pass kernels may also be float32,
 * widened exactly inside); every call is synchronous (it holds the JS thread while
 * OpenBLAS runs on its own threads) and works on the arrays' memory without copying them.
 *
 * Arguments are checked: a wrong type throws a TypeError, a wrong size or value a RangeError
 * (both with `code` ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE); output arrays must not share memory
 * with inputs.
 */
export interface NativeBlas {
  /**
   * `out = X^T X + beta * out` on the upper triangle (entries i <= j) of the `dims x dims` row-major
   * `out`; the strict lower triangle is left untouched (cblas_dsyrk). With beta 1 this is
   * `addGramUpper`. Uses the first `rows * dims` elements of `x` (it may be longer, e.g. a reused
   * block buffer); `out.length` must be exactly `dims * dims`. `rows` 0 adds nothing.
   */
  syrkUpper(x: Float64Array, rows: number, dims: number, out: Float64Array, beta: 0 | 1): void;
  /**
   * `C = A B` with A `m x k` and B `k x n` (cblas_dgemm); lengths must be exact. Writes into `out`
   * (exactly `m * n`) when given, else into a new array; returns it.
   */
  gemm(a: Float64Array, m: number, k: number, b: Float64Array, n: number, out?: Float64Array): Float64Array;
  /**
   * Symmetric eigendecomposition of the `d x d` row-major `m`, reading only its upper triangle (LAPACK
   * dsyevd, divide and conquer). Same contract as `eigh`: values descending; `vectors` (when asked)
   * `d x d` row-major, column k the unit eigenvector of `values[k]`, sign arbitrary. `m` is not
   * modified; it must be finite (RangeError otherwise).
   */
  syevd(m: Float64Array, d: number, vectors?: boolean): { values: Float64Array; vectors?: Float64Array };
  /**
   * {@link syevd} of each square matrix of `ms` (d from its length, each checked as syevd checks
   * it), side by side: as many at once as OpenBLAS has threads, each on one thread.
   */
  syevdMany(ms: readonly Float64Array[], vectors?: boolean): Array<{ values: Float64Array; vectors?: Float64Array }>;
  /** The OpenBLAS build and its thread count, e.g. `OpenBLAS 0.3.21 ... SkylakeX MAX_THREADS=64 (2 threads)`. */
  info(): string;
  /**
   * First pass, one block: adds `rows` finite rows of `x` (row-major, `rows x dims`) to the
   * statistics of `count` earlier rows, in place: `mean`, the upper triangle of `comoment` (each
   * block centred on its own mean, merged by Chan et al.'s update in the same dsyrk), the unit-row
   * sums `unitSum` (and `unitSq`, their squares, when not null), `min`, `max`. `scratch` holds at
   * least `(rows + 1) * dims` values. Returns the number of all-zero rows (left out of the unit sums).
   */
  momentsBlock(
    x: RowData, rows: number, dims: number, count: number, mean: Float64Array, comoment: Float64Array,
    unitSum: Float64Array, unitSq: Float64Array | null, min: Float64Array, max: Float64Array, scratch: Float64Array,
  ): number;
  /**
   * `out = f32(x - center) dir` (cblas_sgemm) for the `dims x cols` float32 `dir`; `xs` (at least
   * `rows * dims`) receives the centred float32 rows, `out` (at least `rows * cols`) the products.
   */
  projectF32(x: RowData, rows: number, dims: number, center: Float64Array, dir: Float32Array, cols: number, xs: Float32Array, out: Float32Array): void;
  /**
   * linalg's addLogSumExp over the columns of `rows x cols` float32 projections `p` plus the float64
   * `shift[j]` of each column, in float64; `scratch` holds at least `6 * cols` values.
   */
  logSumExpF32(
    p: Float32Array, rows: number, cols: number, shift: Float64Array,
    maxPos: Float64Array, maxNeg: Float64Array, sumPos: Float64Array, sumNeg: Float64Array, scratch: Float64Array,
  ): void;
  /**
   * Adds `v / |v|` to `unit` for v = columns `[offset, offset + e)` of each row of `p + shift`,
   * skipping rows of norm 0 and rows flagged in `skip`; returns how many rows were added.
   */
  unitRowsF32(p: Float32Array, rows: number, cols: number, shift: Float64Array, offset: number, e: number, unit: Float64Array, skip: Uint8Array | null): number;
  /** Adds `(x * scale) / |x * scale|` of each row to `unit` in float64, skipping rows of norm 0; returns how many were added. */
  scaledUnitRows(x: RowData, rows: number, dims: number, scale: Float64Array, unit: Float64Array): number;
  /** Sets OpenBLAS's thread count (process-wide) when n is given; returns the count in use. */
  blasThreads(n?: number): number;
  /** `flags[r] = 1` where row r of x is all zeros, else 0. */
  zeroRows(x: RowData, rows: number, dims: number, flags: Uint8Array): void;
  /** Version of the exported functions; a build with another version is refused as stale. */
  readonly apiVersion: number;
}

/** The addon API this code expects (ISOTROPY_BLAS_API_VERSION in native/isotropy_blas.c). */
const API_VERSION = 4;

// src/linalg/native.ts and dist/linalg/native.js sit at the same depth below the package root.
const ADDON_URL = new URL('../../native/build/Release/isotropy_blas.node', import.meta.url);

let loaded: { blas: NativeBlas | null; reason: string | null } | undefined;

function tryLoad(): { blas: NativeBlas | null; reason: string | null } {
  const file = fileURLToPath(ADDON_URL);
  if (!existsSync(file)) {
    return { blas: null, reason: 'not built: no native/build/Release/isotropy_blas.node; building it needs the OpenBLAS headers and library at install time (apt-get install libopenblas-dev, then reinstall or run scripts/build-native.mjs)' };
  }
  try {
    const blas = createRequire(import.meta.url)(file) as NativeBlas;
    if (blas.apiVersion !== API_VERSION) {
      return { blas: null, reason: `stale build: addon API ${String(blas.apiVersion)}, expected ${API_VERSION}; rerun scripts/build-native.mjs` };
    }
    return { blas, reason: null };
  } catch (e) {
    return { blas: null, reason: `failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
}

/**
 * The OpenBLAS addon, or null when it is absent, fails to load, or the environment sets
 * `ISOTROPY_NATIVE=0`. The load is attempted once per process; the environment is read on every call.
 */
export function loadNative(): NativeBlas | null {
  if (process.env.ISOTROPY_NATIVE === '0') return null;
  loaded ??= tryLoad();
  return loaded.blas;
}

/** Why {@link loadNative} returns null (one line), or null when the addon is available. */
export function nativeUnavailableReason(): string | null {
  if (process.env.ISOTROPY_NATIVE === '0') return 'disabled by ISOTROPY_NATIVE=0';
  loaded ??= tryLoad();
  return loaded.reason;
}

