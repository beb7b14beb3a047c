import type { Eigh } from '../eigh.js';

/**
 * The kernel backends, in the order `auto` prefers them: OpenBLAS through our Node-API addon,
 * tfjs-backend-wasm (XNNPACK, SIMD), @tensorflow/tfjs-node, plain TypeScript.
 */
export type BackendName = 'native' | 'wasm' | 'tfjs-node' | 'js';

export const BACKEND_NAMES: readonly BackendName[] = ['native', 'wasm', 'tfjs-node', 'js'];

/**
 * A block of rows as a reader holds it: float64, or float32 when the file stores float32 (every
 * float32 value is a float64 exactly, so kernels that widen it themselves compute the same
 * numbers without a float64 copy of the block).
 */
export type RowData = Float64Array | Float32Array;

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
 * A block's projections `x D + b`, kept by the backend between the calls that consume them, so a
 * float32 backend never writes them out in float64. Every pass over a block: {@link project}, then
 * any number of {@link logSumExp} and {@link unitRows} calls on that block.
 */
export interface PassProjector {
  /** Projects the `rows x dims` row-major block x (replacing the previous block). */
  project(x: RowData, rows: number): void;
  /** linalg's addLogSumExp over every column of the block (state arrays of length cols). */
  logSumExp(maxPos: Float64Array, maxNeg: Float64Array, sumPos: Float64Array, sumNeg: Float64Array): void;
  /**
   * Adds `v / |v|` to `unit` for v = columns `[offset, offset + e)` of each row of the block,
   * skipping rows of norm 0 and rows flagged in `skip`; returns how many rows were added.
   */
  unitRows(offset: number, e: number, unit: Float64Array, skip: Uint8Array | null): number;
  dispose(): void;
}

/**
 * Running first-pass statistics as {@link KernelBackend.momentsBlock} updates them (the fields of
 * stats' StatsAccumulator): `count` rows so far, their mean, the upper triangle of the centred
 * co-moment matrix, unit-row sums (and their squares, when not null), per-dimension min and max.
 */
export interface MomentState {
  readonly count: number;
  readonly mean: Float64Array;
  readonly comoment: Float64Array;
  readonly unitSum: Float64Array;
  readonly unitSq?: Float64Array | null;
  readonly min: Float64Array;
  readonly max: Float64Array;
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
  /**
   * Optional, the whole first-pass update of one block of finite rows in one call (native): the
   * block's mean, min/max, unit-row sums, its centred co-moments and their Chan merge into `state`,
   * which it updates in place except for `count` (the caller adds `rows`). Returns the all-zero rows.
   * Without it, callers centre the block themselves and use {@link gramUpper}.
   */
  momentsBlock?(x: RowData, rows: number, dims: number, state: MomentState): number;
  /**
   * Optional, for float32 backends: a float64 projector (same arguments as {@link projector}),
   * for passes too small for float32 to pay. Without it, {@link projector} is float64 already
   * (native: its projector is dgemm; float32 is only its {@link passProjector}).
   */
  projector64?(dir: Float64Array, dims: number, cols: number, bias: Float64Array | null): Projector;
  /**
   * Optional, a projector whose projections stay inside the backend (see {@link PassProjector}),
   * same arguments as {@link projector}; without it, callers wrap {@link projector}.
   */
  passProjector?(dir: Float64Array, dims: number, cols: number, bias: Float64Array | null, center: Float64Array | null): PassProjector;
  /**
   * Optional: adds `(x * scale) / |x * scale|` of each row of a block to `unit` (a diagonal map's
   * unit rows, float64), skipping rows of norm 0; returns how many rows were added. Without it,
   * linalg's addScaledUnitRows.
   */
  scaledUnitRows?(x: RowData, rows: number, dims: number, scale: Float64Array, unit: Float64Array): number;
  /**
   * Optional, for backends that thread themselves (native): sets the number of threads their
   * calls use from now on, process-wide, and returns the previous number.
   */
  setThreads?(n: number): number;
  /** the backend's own symmetric eigensolver (same contract as linalg's eigh), if it has one */
  readonly eigh?: (m: Float64Array, d: number, opts: { vectors?: boolean }) => Eigh;
  /**
   * Optional, with {@link eigh}: the same for several matrices, side by side on the backend's
   * threads (each decomposition on one): same results as one {@link eigh} call each.
   */
  readonly eighMany?: (ms: ReadonlyArray<{ m: Float64Array; d: number }>, opts: { vectors?: boolean }) => Eigh[];
  /** Releases the backend (tensors, memory). */
  dispose(): void;
}

/** A backend that cannot run here (not installed, failed to load); the CLI prints it and exits 2. */
export class BackendError extends Error {
  override readonly name = 'BackendError';
  readonly isUserError = true;
}
