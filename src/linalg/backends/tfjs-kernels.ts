import type * as TF from '@tensorflow/tfjs-core';
import { OutBuffer } from './out-buffer.js';
import type { BackendName, KernelBackend, Projector } from './types.js';

/** The tfjs namespace: @tensorflow/tfjs-core, or @tensorflow/tfjs-node's copy of it. */
export type Tfjs = typeof TF;

/**
 * Rows per Gram call: tfjs accumulates in float32 along the rows, so a call sums at most this many
 * products per entry (relative error about 1e-7 on centred data); calls are merged in float64.
 */
const GRAM_CHUNK_ROWS = 1024;
/** Below this many dimensions X^T X is one product; above, the lower-left quarter is skipped. */
const SPLIT_MIN_DIMS = 64;

/**
 * Kernels over a tfjs backend that is already the current one (tfjs-node's 'tensorflow'). Products
 * run in float32 with `x^T` materialised first: on tfjs-backend-wasm `matMul(transpose(x), x)` takes
 * XNNPACK's fast path while `matMul(x, x, true)` is about 20x slower, and it costs little elsewhere.
 *
 * Accuracy: inputs are centred (blocks on their own mean, projections on `center`) and every call
 * accumulates at most {@link GRAM_CHUNK_ROWS} rows or `dims` products in float32; the caller merges
 * in float64. Measured with tfjs-backend-wasm on the golden fixtures: every metric within 5e-6 of
 * numpy except spectra of rank-deficient data, whose zero eigenvalues come out as float32 noise
 * (about 1e-7 of the largest): use native, wasm or js for those.
 */
export function tfjsKernels(tf: Tfjs, name: BackendName, detail: string, threaded: boolean): KernelBackend {
  return {
    name,
    detail,
    precision: 'float32',
    chunkRows: GRAM_CHUNK_ROWS,
    threaded,
    gramUpper(xc, rows, dims, out) {
      if (rows === 0) return;
      const x32 = new Float32Array(rows * dims);
      for (let i = 0; i < x32.length; i++) x32[i] = xc[i];
      const h = dims >= SPLIT_MIN_DIMS ? dims >> 1 : dims;
      // [X1 X2]^T [X1 X2] upper part = X1^T [X1 X2] (h x d) and X2^T X2: 3/4 of the full product.
      const [top, bottom] = tf.tidy(() => {
        const x = tf.tensor2d(x32, [rows, dims]);
        const xt = tf.transpose(x);
        if (h === dims) return [tf.matMul(xt, x)];
        const xt2 = tf.slice(xt, [h, 0], [dims - h, rows]);
        return [tf.matMul(tf.slice(xt, [0, 0], [h, rows]), x), tf.matMul(xt2, tf.transpose(xt2))];
      });
      try {
        const t = top.dataSync() as Float32Array;
        for (let i = 0; i < h; i++) {
          const o = i * dims;
          for (let j = i; j < dims; j++) out[o + j] += t[o + j];
        }
        if (bottom) {
          const b = bottom.dataSync() as Float32Array;
          const e = dims - h;
          for (let i = 0; i < e; i++) {
            const o = (h + i) * dims + h, p = i * e;
            for (let j = i; j < e; j++) out[o + j] += b[p + j];
          }
        }
      } finally {
        top.dispose();
        bottom?.dispose();
      }
    },
    projector(dir, dims, cols, bias, center) {
      return tfjsProjector(tf, dir, dims, cols, bias, center);
    },
    dispose() {
      tf.disposeVariables();
    },
  };
}

function tfjsProjector(tf: Tfjs, dir: Float64Array, dims: number, cols: number, bias: Float64Array | null, center: Float64Array | null): Projector {
  const d32 = new Float32Array(dims * cols);
  for (let i = 0; i < d32.length; i++) d32[i] = dir[i];
  const dt = tf.tensor2d(d32, [dims, cols]);
  // (x - c) D + (c D + b): the float64 part carries the offset exactly.
  const shift = new Float64Array(cols);
  if (bias) shift.set(bias);
  if (center) {
    for (let p = 0; p < dims; p++) {
      const c = center[p];
      if (c === 0) continue;
      const o = p * cols;
      for (let j = 0; j < cols; j++) shift[j] += c * dir[o + j];
    }
  }
  let disposed = false;
  const buffer = new OutBuffer();
  return {
    apply(x, rows) {
      if (disposed) throw new Error('projector used after dispose()');
      const x32 = new Float32Array(rows * dims);
      if (center) {
        for (let r = 0; r < rows; r++) {
          const o = r * dims;
          for (let p = 0; p < dims; p++) x32[o + p] = x[o + p] - center[p];
        }
      } else {
        for (let i = 0; i < x32.length; i++) x32[i] = x[i];
      }
      const prod = tf.tidy(() => tf.matMul(tf.tensor2d(x32, [rows, dims]), dt));
      let p: Float32Array;
      try {
        p = prod.dataSync() as Float32Array;
      } finally {
        prod.dispose();
      }
      const out = buffer.get(rows * cols);
      for (let r = 0; r < rows; r++) {
        const o = r * cols;
        for (let j = 0; j < cols; j++) out[o + j] = p[o + j] + shift[j];
      }
      return out;
    },
    dispose() {
      if (!disposed) dt.dispose();
      disposed = true;
    },
  };
}
