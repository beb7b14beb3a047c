import { loadNative, nativeUnavailableReason } from '../native.js';
import { OutBuffer } from './out-buffer.js';
import type { NativeBlas } from '../native.js';
import type { KernelBackend, PassProjector } from './types.js';

/** How the native backend projects rows in the second pass (see {@link loadNativeBackend}). */
export type NativeProjection = 'float32' | 'float64';

/**
 * The OpenBLAS backend (our addon over cblas_dsyrk, cblas_sgemm/dgemm and LAPACK dsyevd, see
 * linalg/native.ts), multi-threaded by OpenBLAS itself, so it runs on the calling thread without a
 * worker pool. Its eigensolver serves `eigh` during an analysis (withEighSolver).
 *
 * First pass in float64, one native call per block (statistics, centring, dsyrk and the Chan
 * merge). Second pass: by default the projections for I(W) and the cosines of linear maps are
 * float32 sgemm products of rows centred on their mean (twice dgemm's speed; the float64 shift
 * carries the offset exactly), consumed in place by native log-sum-exp and unit-row loops that
 * accumulate in float64; `projection: 'float64'` uses dgemm and the TypeScript/wasm loops instead.
 *
 * @returns the backend, or the reason it cannot load (addon not built, library missing, disabled)
 */
export async function loadNativeBackend(opts: { projection?: NativeProjection } = {}): Promise<KernelBackend | string> {
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
  const f32 = (opts.projection ?? 'float32') === 'float32';
  let scratch = new Float64Array(0);
  return {
    name: 'native',
    detail: `${info}, float64 co-moments, ${f32 ? 'float32 projections (float64 for small inputs)' : 'float64 projections'}`,
    precision: f32 ? 'float32' : 'float64',
    chunkRows: Infinity,
    threaded: true,
    ...(threads > 0 ? { ownThreads: threads } : {}),
    gramUpper(xc, rows, dims, out) {
      if (rows > 0) b.syrkUpper(xc, rows, dims, out, 1);
    },
    momentsBlock(x, rows, dims, st) {
      if (scratch.length < (rows + 1) * dims) scratch = new Float64Array((rows + 1) * dims);
      return b.momentsBlock(x, rows, dims, st.count, st.mean, st.comoment, st.unitSum, st.unitSq ?? null, st.min, st.max, scratch);
    },
    scaledUnitRows: (x, rows, dims, scale, unit) => b.scaledUnitRows(x, rows, dims, scale, unit),
    setThreads(n) {
      const before = b.blasThreads();
      b.blasThreads(n);
      return before;
    },
    ...(f32 ? { passProjector: (dir: Float64Array, dims: number, cols: number, bias: Float64Array | null, center: Float64Array | null) => f32Projector(b, dir, dims, cols, bias, center) } : {}),
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
    eighMany(ms, opts) {
      for (const { m, d } of ms) {
        if (m.length !== d * d) throw new RangeError(`eighMany: a matrix has ${m.length} elements, d x d = ${d} x ${d} needs exactly ${d * d}`);
      }
      return b.syevdMany(ms.map(({ m }) => m), opts.vectors ?? false).map((r, k) => {
        if (r.vectors) signColumns(r.vectors, ms[k].d);
        return r;
      });
    },
    dispose() {},
  };
}

/**
 * The float32 {@link PassProjector}: `(x - c) D` by sgemm, plus the float64 shift `c D + b`; the
 * projections stay in a float32 buffer that the native log-sum-exp and unit-row loops read.
 */
function f32Projector(b: NativeBlas, dir: Float64Array, dims: number, cols: number, bias: Float64Array | null, center: Float64Array | null): PassProjector {
  const d32 = Float32Array.from(dir);
  const c = center ? Float64Array.from(center) : new Float64Array(dims);
  // x D + b = (x - c) D + (c D + b): the float64 shift carries the offset exactly.
  const shift = b.gemm(c, 1, dims, dir, cols);
  if (bias) for (let j = 0; j < cols; j++) shift[j] += bias[j];
  // Grow-only buffers: fresh memory for every block would cost page faults.
  let xs = new Float32Array(0), out = new Float32Array(0);
  const lseScratch = new Float64Array(6 * cols);
  let rows = 0;
  let live = true;
  return {
    project(x, n) {
      if (!live) throw new Error('projector used after dispose()');
      if (xs.length < n * dims) xs = new Float32Array(n * dims);
      if (out.length < n * cols) out = new Float32Array(n * cols);
      b.projectF32(x, n, dims, c, d32, cols, xs, out);
      rows = n;
    },
    logSumExp(maxPos, maxNeg, sumPos, sumNeg) {
      b.logSumExpF32(out, rows, cols, shift, maxPos, maxNeg, sumPos, sumNeg, lseScratch);
    },
    unitRows(offset, e, unit, skip) {
      return b.unitRowsF32(out, rows, cols, shift, offset, e, unit, skip);
    },
    dispose() {
      live = false;
    },
  };
}

/**
 * LAPACK's eigenvector signs are arbitrary; linalg's eigh makes the entry of largest magnitude of
 * each column (the first one on ties) positive. Same here, so that results do not depend on which
 * solver ran.
 */
function signColumns(v: Float64Array, d: number): void {
  // Row by row: walking down columns of a row-major matrix misses the cache at large d.
  const big = new Float64Array(d), at = new Int32Array(d);
  for (let i = 0; i < d; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const x = Math.abs(v[o + j]);
      if (x > big[j]) { big[j] = x; at[j] = i; }
    }
  }
  const flip = Uint8Array.from(at, (i, j) => (v[i * d + j] < 0 ? 1 : 0));
  if (!flip.includes(1)) return;
  for (let i = 0; i < d; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) if (flip[j]) v[o + j] = -v[o + j];
  }
}
