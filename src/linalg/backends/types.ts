import type { Eigh } from '../eigh.js';

/**
 * The kernel backends, in the order `auto` prefers them: OpenBLAS through our Node-API addon,
 * tfjs-backend-wasm (XNNPACK, SIMD), @tensorflow/tfjs-node, plain TypeScript.
 */
export type BackendName = 'native' | 'wasm' | 'tfjs-node' | 'js';

export const BACKEND_NAMES: readonly BackendName[] = ['native', 'wasm', 'tfjs-node', 'js'];

/** A fixed `dims x cols` matrix D (and bias b) ready to multiply blocks of rows: `x D + b`. */
export interface Projector {
  /**
   * `rows x cols` row-major float64: `x D + b` for the `rows x dims` row-major block x. The result
   * lives in a buffer the projector reuses: it is valid until the next call (fresh memory for
   * every block costs page faults).
   */
  apply(x: Float64Array, rows: number): Float64Array;
  /** Frees what the backend holds for D (tensors); the projector is unusable afterwards. */
  dispose(): void;
}

/**
 * The hot kernels of an analysis, one implementation per backend. Every backend returns float64;
 * float32 backends (`precision: 'float32'`) want centred inputs and short accumulations
 * (`chunkRows` rows per call) and are merged in float64 by the caller.
 */
export interface KernelBackend {
  readonly name: BackendName;
  /** what runs underneath, for `analysis.backend.detail` (library, version, precision) */
  readonly detail: string;
  /** arithmetic inside the matrix products */
  readonly precision: 'float64' | 'float32';
  /** most rows per {@link gramUpper} call that keep the accumulation accurate; Infinity: any */
  readonly chunkRows: number;
  /** true when the backend runs its own threads (native, tfjs-node): no worker pool on top */
  readonly threaded: boolean;
  /** how many threads a threaded backend computes on, when it says */
  readonly ownThreads?: number;
  /**
   * Co-moment update: `out[i][j] += sum_r xc[r][i] xc[r][j]` for i <= j (the strict lower triangle
   * of `out` is left alone or scribbled on: callers ignore it). `xc` is a `rows x dims` row-major
   * block, already centred on its own mean (float32 backends need that for accuracy).
   */
  gramUpper(xc: Float64Array, rows: number, dims: number, out: Float64Array): void;
  /**
   * Prepares `x -> x D + b` for a `dims x cols` row-major D. `center` is a point near the rows
   * (their mean): float32 backends compute `(x - center) D + (center D + b)` so that the rounding
   * scales with the spread of the rows, not with their distance from the origin.
   */
  projector(dir: Float64Array, dims: number, cols: number, bias: Float64Array | null, center: Float64Array | null): Projector;
  /** the backend's own symmetric eigensolver (same contract as linalg's eigh), if it has one */
  readonly eigh?: (m: Float64Array, d: number, opts: { vectors?: boolean }) => Eigh;
  /** Releases the backend (tensors, memory). */
  dispose(): void;
}

/** A backend that cannot run here (not installed, failed to load); the CLI prints it and exits 2. */
export class BackendError extends Error {
  override readonly name = 'BackendError';
  readonly isUserError = true;
}
