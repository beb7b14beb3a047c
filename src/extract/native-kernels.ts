/**
 * The encoder's float32 kernels in the optional OpenBLAS addon (native/isotropy_blas.c, the
 * "Encoder kernels" block), reached through the addon loader of `src/linalg/native.ts`. All arrays
 * are Float32Array, row-major; calls are synchronous, hold the JS thread while OpenBLAS runs on
 * its own threads, and work in place. Wrong argument types throw a TypeError, wrong sizes a
 * RangeError (the addon's `code` ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE).
 */
import { loadNative, nativeUnavailableReason } from '../linalg/native.js';

/** One transformer layer's weights as `encoderLayer` reads them (HF Linear layout [out, in]). */
export interface NativeLayerWeights {
  /** query, key and value weights stacked, [3d x d]; the query rows pre-scaled by 1/sqrt(d / heads) */
  qkvW: Float32Array;
  /** their biases, [3d], the query part scaled alike */
  qkvB: Float32Array;
  oW: Float32Array; oB: Float32Array;
  ln1G: Float32Array; ln1B: Float32Array;
  /** intermediate (FFN up) weight [f x d] and bias [f] */
  iW: Float32Array; iB: Float32Array;
  /** FFN down weight [d x f] and bias [d] */
  fW: Float32Array; fB: Float32Array;
  ln2G: Float32Array; ln2B: Float32Array;
}

/** `encoderLayer`'s activation codes. */
export const NATIVE_ACT = { gelu: 0, gelu_new: 1, relu: 2 } as const;

/** The encoder functions of the addon. */
export interface EncoderKernels {
  /**
   * One transformer layer over `x` (batch * seq rows of d), in place: QKV, masked softmax attention
   * (`keyBias`: batch * seq additive biases), output projection + residual + LayerNorm, FFN +
   * residual + LayerNorm. With `clsOnly`, only each sentence's first row gets its output (keys and
   * values still from every row), written to the first `batch` rows of x. `work` must hold at least
   * `encoderWorkspace(batch, seq, d, f)` floats and not overlap x.
   */
  encoderLayer(x: Float32Array, batch: number, seq: number, heads: number, weights: NativeLayerWeights,
    keyBias: Float32Array, act: number, eps: number, work: Float32Array, clsOnly: boolean): void;
  /** Floats of workspace `encoderLayer` needs. */
  encoderWorkspace(batch: number, seq: number, hidden: number, intermediate: number): number;
  /** LayerNorm of each row of x (rows x g.length) in place, statistics in float64. */
  layerNormRows(x: Float32Array, rows: number, g: Float32Array, b: Float32Array, eps: number): void;
  /** out = x W^T + bias with W [out x in] (sgemm). */
  linearF32(x: Float32Array, rows: number, w: Float32Array, bias: Float32Array, out: Float32Array): void;
  /** Sets OpenBLAS's thread count (process-wide) when n is given; returns the count in use. */
  blasThreads(n?: number): number;
  /** The OpenBLAS build, core type and thread count. */
  info(): string;
}

const FUNCTIONS = ['encoderLayer', 'encoderWorkspace', 'layerNormRows', 'linearF32', 'blasThreads'] as const;

/**
 * The encoder kernels, or null when the addon is missing, disabled (`ISOTROPY_NATIVE=0`) or was
 * built from a source without them.
 */
export function loadEncoderKernels(): EncoderKernels | null {
  const blas = loadNative() as unknown as Partial<EncoderKernels> | null;
  if (!blas || FUNCTIONS.some((f) => typeof blas[f] !== 'function')) return null;
  return blas as EncoderKernels;
}

/** Why {@link loadEncoderKernels} returns null (one line), or null when the kernels are there. */
export function encoderKernelsUnavailableReason(): string | null {
  const why = nativeUnavailableReason();
  if (why !== null) return `the native BLAS addon is unavailable (${why})`;
  if (loadEncoderKernels() === null) {
    return 'the native BLAS addon was built without the encoder kernels; rebuild it with node scripts/build-native.mjs';
  }
  return null;
}
