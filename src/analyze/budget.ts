import { totalmem } from 'node:os';
import { quote } from '../io/index.js';
import { LOW_RANK_SHARE } from '../stats/index.js';

/**
 * How much memory an analysis may use, and what it would need: one estimator for every command
 * that does d x d work (analyze, transform, stats, merge, report), checked before anything large
 * is allocated, so that a (2, 65536) file is refused in a millisecond with a message instead of
 * ending in "internal error" after minutes.
 */

/** The share of the machine's memory (or of the cgroup limit, when lower) an analysis may use by default. */
export const DEFAULT_MEMORY_SHARE = 0.5;

/** A problem the user can solve with fewer dimensions, transforms or threads, or a larger budget. */
export class ResourceError extends Error {
  override readonly name = 'ResourceError';
  readonly isUserError = true;
}

/** The machine's memory: the cgroup limit when one is set below the physical memory. */
export function machineMemory(): number {
  const total = totalmem();
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  return limit && limit > 0 && limit < total ? limit : total;
}

/** The default budget: {@link DEFAULT_MEMORY_SHARE} of {@link machineMemory}. */
export function defaultMemoryBudget(): number {
  return Math.floor(machineMemory() * DEFAULT_MEMORY_SHARE);
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, kb: 2 ** 10, kib: 2 ** 10, m: 2 ** 20, mb: 2 ** 20, mib: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, gib: 2 ** 30, t: 2 ** 40, tb: 2 ** 40, tib: 2 ** 40 };

/**
 * A memory size: a number of bytes, or a string such as `"8G"`, `"512MiB"`, `"1.5 GB"`, `"75%"`
 * (of the machine's memory). Units are powers of 1024.
 *
 * @param what  names the option in messages (e.g. "maxMemory")
 * @throws ResourceError for anything else
 */
export function parseMemorySize(value: number | string, what = 'maxMemory'): number {
  const bad = () => new ResourceError(`\`${what}\` must be a size such as 8G, 512M or 50%, got ${quote(String(value), 40)}`);
  if (typeof value === 'number') {
    if (!(Number.isFinite(value) && value > 0)) throw bad();
    return Math.floor(value);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z%]*)\s*$/i.exec(value);
  if (!m) throw bad();
  const x = Number(m[1]);
  const unit = m[2].toLowerCase();
  if (unit === '%') {
    if (!(x > 0 && x <= 100)) throw bad();
    return Math.floor((machineMemory() * x) / 100);
  }
  if (!(unit in UNITS) || !(x > 0)) throw bad();
  return Math.floor(x * UNITS[unit]);
}

/** `1.5 GiB`, `512 MiB`: what a person reads. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let k = 0;
  let v = n;
  while (v >= 1024 && k < units.length - 1) { v /= 1024; k++; }
  return k === 0 ? `${n} bytes` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[k]}`;
}

/** What an analysis of one input does, for {@link estimateMemory}. */
export interface WorkShape {
  /**
   * analyze (default; also transform's fit), stats (one accumulator), merge (`shards`
   * accumulators, then an analysis without rows), report (rendering a saved analysis)
   */
  kind?: 'analyze' | 'stats' | 'merge' | 'report';
  /** merge: statistics files held at once */
  shards?: number;
  /** dimensions d of the input (the largest input of a run) */
  dims: number;
  /** rows n (a bound of the covariance's rank: n << d takes the low-rank path) */
  rows: number;
  /** transforms besides the input itself */
  transforms: readonly string[];
  /** worker threads (0: the kernels run on the calling thread, as native does) */
  workers: number;
  /** wasm, js, native, tfjs-node */
  backend: string;
  /** the report's data (correlation rasters, PCA) */
  diagnostics: boolean;
  /** the second pass (I(W), transformed cosines) */
  secondPass: boolean;
}

/** What {@link estimateMemory} found: bytes, and a hard limit that no budget lifts, if any. */
export interface MemoryEstimate {
  bytes: number;
  /** one d x d float64 matrix, the unit of the estimate */
  matrix: number;
  /** d x d matrices counted */
  matrices: number;
  /** a limit of the JavaScript engine the work would exceed (then no budget helps) */
  hardLimit: string | null;
}

/** Node's heap, the report's libraries and the read blocks: what any run holds. */
const FIXED_BYTES = 160 * 2 ** 20;
/** The longest typed array the engine allocates, in elements (2^32 - 1 on Node 20 to 22). */
const MAX_ARRAY_ELEMENTS = 2 ** 32 - 1;
/** One WebAssembly instance's memory (wasm32). */
const WASM_MEMORY_BYTES = 4 * 2 ** 30;

/**
 * The memory an analysis of `shape` needs at its peak, counted in d x d float64 matrices (the
 * rest is O(d) or O(block)): measured on this code (peak RSS at d = 2048, 2026-11-30) and
 * written as
 *
 *  - the calling thread: 8 matrices (accumulator, merged partial, covariance, eigensolver
 *    workspace as LAPACK's dsyevd uses it: 2 d^2 + a copy + the vectors) plus 2.5 per view
 *    (the view's covariance, W'^T W', its eigenvectors, its projection directions side by side),
 *    1 more per linear map (whiten, abtt: the d x d' matrix) and 2 for isobn-running's estimator;
 *  - each worker thread: 4 matrices (its co-moments and scratch, its eigensolver copy) plus 2.5
 *    per view (its copy of the projection directions and the kernel's packed copy);
 *  - with fewer rows than d / 8 (rank n << d, the low-rank path) the eigensolver workspace and
 *    the per-view directions are O(n d): 5 matrices plus 1 per view on the calling thread;
 *  - the report's data: a 1-byte raster and its base64 per view (1/3 of a matrix).
 *
 * Hard limits: a d x d typed array must have at most 2^32 - 1 elements (d <= 65535), and the
 * wasm backend keeps the co-moments and the packed directions in one WebAssembly memory of at
 * most 4 GiB per thread.
 */
export function estimateMemory(shape: WorkShape): MemoryEstimate {
  const d = shape.dims;
  const views = 1 + shape.transforms.length;
  const matrix = 8 * d * d;
  const limit = d * d > MAX_ARRAY_ELEMENTS
    ? `a ${d} x ${d} matrix has ${(d * d).toExponential(2)} entries, more than the ${MAX_ARRAY_ELEMENTS} an array can hold in JavaScript (d must be at most 65535)`
    : null;
  const kind = shape.kind ?? 'analyze';
  if (kind === 'stats' || kind === 'report') {
    // stats: the accumulator, a worker's partial and its scratch, the packed JSON and its text;
    // report: per view a 1-byte raster, its base64, the PNG and the page holding it
    const matrices = kind === 'stats' ? 4.5 : (views * 5) / 8;
    return { bytes: Math.ceil(FIXED_BYTES + matrices * matrix), matrix, matrices, hardLimit: limit };
  }
  const linear = shape.transforms.filter((t) => t === 'whiten' || t === 'abtt').length;
  const running = shape.transforms.includes('isobn-running') ? 2 : 0;
  const lowRank = d >= 64 && shape.rows <= d * LOW_RANK_SHARE;
  const perView = shape.secondPass ? 2.5 : 1;
  let main = lowRank ? 5 + views : 8 + perView * views;
  main += linear + running + (shape.diagnostics ? views / 3 : 0);
  const perWorker = 4 + (shape.secondPass && !lowRank ? 2.5 * views : 1);
  // merge: each shard's accumulator (a matrix) and its base64 text (2/3 of one) at once
  const shards = kind === 'merge' ? (shape.shards ?? 1) * (5 / 3) : 0;
  const matrices = main + shape.workers * perWorker + shards;

  let hardLimit = limit;
  if (!hardLimit && shape.backend === 'wasm') {
    const dp = Math.ceil(d / 4) * 4;
    const wasm = Math.max(8 * dp * dp, shape.secondPass && !lowRank ? 4 * d * d * views : 0);
    if (wasm > WASM_MEMORY_BYTES - 64 * 2 ** 20) {
      hardLimit = `the wasm kernels would need ${formatBytes(wasm)} in one WebAssembly memory, which holds at most 4 GiB; use the native or js backend (\`backend\`)`;
    }
  }
  return { bytes: Math.ceil(FIXED_BYTES + matrices * matrix), matrix, matrices, hardLimit };
}

/**
 * Throws a {@link ResourceError} when `estimate` exceeds `budget` bytes or a hard limit: one line
 * with the memory it would need, the budget, and what to do.
 *
 * @param what  the work and its input, e.g. "emb.npy: analyzing 30000 dimensions"
 */
export function checkMemory(estimate: MemoryEstimate, budget: number, what: string, shape?: Pick<WorkShape, 'workers' | 'transforms' | 'diagnostics'>): void {
  if (estimate.hardLimit) throw new ResourceError(`${what} cannot run here: ${estimate.hardLimit}; reduce the dimensions (e.g. a PCA or a random projection to fewer dims) first`);
  if (estimate.bytes <= budget) return;
  const hints: string[] = [];
  if (shape && shape.transforms.length > 0) hints.push('fewer transforms');
  if (shape && shape.workers > 0) hints.push('fewer `threads`');
  if (shape?.diagnostics) hints.push('no report data (`diagnostics`)');
  hints.push('fewer dimensions (a PCA or a random projection first)', 'or a larger `maxMemory` if the machine has it');
  throw new ResourceError(
    `${what} needs about ${formatBytes(estimate.bytes)} of memory (${Math.ceil(estimate.matrices)} matrices of ${formatBytes(estimate.matrix)}), ` +
    `more than the budget of ${formatBytes(budget)} (\`maxMemory\`); use ${hints.join(', ')}`,
  );
}

/** The budget in bytes from an option value (undefined: the default). */
export function memoryBudget(maxMemory: number | string | undefined): number {
  return maxMemory === undefined ? defaultMemoryBudget() : parseMemorySize(maxMemory);
}

/** Longest JavaScript string (V8: 2^29 - 24 characters). */
export const MAX_STRING_CHARS = 2 ** 29 - 24;

/**
 * Throws a {@link ResourceError} when the `--json` text of an analysis with chart data would be
 * longer than a JavaScript string can be: each view with its own correlations carries a d x d
 * raster as base64 (4/3 d^2 characters; isobn and standardize share the input's).
 */
export function checkAnalysisJsonSize(dims: readonly number[], transforms: readonly string[]): void {
  const rasters = 1 + transforms.filter((t) => t === 'whiten' || t === 'abtt').length;
  const chars = dims.reduce((sum, d) => sum + rasters * (4 / 3) * d * d + 64 * d * (1 + transforms.length), 0);
  if (chars <= MAX_STRING_CHARS * 0.9) return;
  throw new ResourceError(
    `the JSON with the report's chart data would be about ${formatBytes(chars)} (d x d correlation rasters at d = ${Math.max(...dims)}), ` +
    'more than a JavaScript string can hold (512 MiB); leave the chart data out (`diagnostics`) or use fewer transforms',
  );
}
