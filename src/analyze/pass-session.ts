import { OutBuffer, addScaledUnitRows, wrapProjector, zeroRowFlags, type KernelBackend, type PassProjector, type RowData } from '../linalg/index.js';
import { StatsAccumulator, type PartitionSumsState } from '../stats/index.js';
import { phaseEnd, phaseStart } from './phases.js';

/**
 * The directions of every view of the second pass side by side: one `dims x cols` product per
 * block serves them all. View k owns columns `[offset, offset + e)`.
 */
export interface ProjectionPlan {
  dims: number;
  cols: number;
  /** `dims x cols` row-major */
  dir: Float64Array;
  /** added to every projected row (minus the views' shifts), length cols */
  bias: Float64Array;
  /** the mean of the rows: float32 kernels project `x - center` (see KernelBackend.projector) */
  center: Float64Array;
  /**
   * View k owns columns `[offset, offset + e)`. `scale`: the view is the diagonal map x -> x * scale
   * (IsoBN, standardization), whose cosines are computed from the rows themselves in float64
   * rather than from the projections. `degenerate`: why the view's I(W) is null (W'^T W' has
   * repeated eigenvalues); `nullRows`: the view projects only on its non-null directions, and
   * every other direction has Z(c) = nullRows (the rows' count).
   */
  views: Array<{ offset: number; e: number; cosine: boolean; scale?: Float64Array | null; degenerate?: string; nullRows?: number }>;
}

/**
 * Length of a view's sum of unit rows: its projected columns, or, for a diagonal view (whose
 * cosines come from the scaled rows themselves), the input's dims, which exceed its columns when
 * the view projects on its non-null directions only.
 */
export function unitLength(v: { e: number; cosine: boolean; scale?: Float64Array | null }): number {
  return v.cosine ? (v.scale ? v.scale.length : v.e) : 0;
}

/**
 * What one pass computes, per thread: `first` = statistics, `second` = I(W) and cosines over about
 * `rows` rows in all (the products' precision depends on the pass's size: {@link FLOAT32_MIN_WORK}).
 */
export type PassSpec = { kind: 'first'; dims: number } | { kind: 'second'; plan: ProjectionPlan; rows: number };

/** A thread's share of the first pass: the statistics of the rows it was given. */
export interface FirstPartial {
  kind: 'first';
  count: number;
  zeroRows: number;
  mean: Float64Array;
  /** upper triangle meaningful, dims x dims */
  comoment: Float64Array;
  unitSum: Float64Array;
  /** per-dimension sum of squared unit-row components (rogue dimensions) */
  unitSq: Float64Array;
  min: Float64Array;
  max: Float64Array;
}

/** A thread's share of the second pass, per view. */
export interface SecondPartial {
  kind: 'second';
  views: Array<{ sums: PartitionSumsState; unit: Float64Array; nonzero: number }>;
}

export type PassPartial = FirstPartial | SecondPartial;

/** Rows per projection call: bounds the `rows x cols` float64 result (12 MB for 1024 x 1536). */
const PROJECT_CHUNK_ROWS = 1024;

/**
 * Passes of fewer multiply-adds (rows x dims x cols) than this project in float64 on every
 * backend (float32 saves nothing worth having there: 4e9 is about 0.05 s of dgemm), so that small
 * inputs, where a few rows can carry all of Z(c), keep I(W) exact; larger ones use the backend's
 * float32 products (native, wasm), which measure about 1e-8 relative on I(W) at 100k rows.
 * `ISOTROPY_PRODUCTS=float64` or `float32` in the environment overrides the choice.
 */
export const FLOAT32_MIN_WORK = 2 ** 32;

/** Whether a pass of `work` multiply-adds projects in float32 on a float32 backend. */
function float32Products(work: number): boolean {
  const forced = process.env.ISOTROPY_PRODUCTS;
  if (forced === 'float64') return false;
  if (forced === 'float32') return true;
  return work >= FLOAT32_MIN_WORK;
}

/**
 * The per-thread part of a pass, on one kernel backend: fed blocks of finite rows, it keeps
 * partial results that the reading thread merges in float64 at the end. The same code runs in a
 * worker thread (pass-worker.ts) or inline on the calling thread.
 */
export class PassSession {
  private first: StatsAccumulator | null = null;
  private second: {
    plan: ProjectionPlan;
    projector: PassProjector;
    /** log-sum-exp state of every column (all views side by side) */
    maxPos: Float64Array;
    maxNeg: Float64Array;
    sumPos: Float64Array;
    sumNeg: Float64Array;
    unit: Float64Array[];
    nonzero: number[];
    exactZero: boolean;
    unshifted: boolean[];
  } | null = null;

  /** float32 blocks widened for the TypeScript statistics (backends without momentsBlock) */
  private readonly wide = new OutBuffer();

  constructor(readonly backend: KernelBackend) {}

  begin(spec: PassSpec): void {
    this.reset();
    if (spec.kind === 'first') {
      this.first = new StatsAccumulator(spec.dims);
      return;
    }
    const plan = spec.plan;
    const be = this.backend;
    const f32 = be.precision === 'float32' && float32Products(spec.rows * plan.dims * plan.cols);
    const center = f32 ? plan.center : null;
    const bias = plan.bias.some((b) => b !== 0) ? plan.bias : null;
    const projector = f32
      ? be.passProjector?.(plan.dir, plan.dims, plan.cols, bias, center) ?? wrapProjector(be.projector(plan.dir, plan.dims, plan.cols, bias, center), plan.cols)
      : wrapProjector((be.projector64 ?? be.projector)(plan.dir, plan.dims, plan.cols, bias, null), plan.cols);
    this.second = {
      // D now lives in the projector (in the backend's own form): do not keep a second copy.
      plan: { ...plan, dir: new Float64Array(0) },
      projector,
      maxPos: new Float64Array(plan.cols).fill(-Infinity),
      maxNeg: new Float64Array(plan.cols).fill(-Infinity),
      sumPos: new Float64Array(plan.cols),
      sumNeg: new Float64Array(plan.cols),
      unit: plan.views.map((v) => new Float64Array(unitLength(v))),
      nonzero: plan.views.map(() => 0),
      // Centred float32 products turn an all-zero row into rounding noise instead of 0: such rows
      // are found on the input and left out of the cosines of the views that map 0 to 0.
      exactZero: center !== null,
      unshifted: plan.views.map((v) => plan.bias.subarray(v.offset, v.offset + v.e).every((b) => b === 0)),
    };
  }

  /** Adds `rows` finite rows (`rows x dims` row-major, float64 or float32 as read). */
  add(x: RowData, rows: number): void {
    if (this.first) {
      const t0 = phaseStart();
      const kernel = this.backend.momentsBlock;
      if (kernel) this.first.addFiniteWith(x, rows, (xb, n, d, acc) => kernel(xb, n, d, acc));
      else this.first.addFinite(this.wide.float64(x), rows, this.backend.gramUpper, this.backend.chunkRows);
      phaseEnd('moments', t0);
      return;
    }
    const s = this.second;
    if (!s) throw new Error('PassSession.add() before begin()');
    const { dims, views } = s.plan;
    const scaled = this.backend.scaledUnitRows ?? addScaledUnitRows;
    for (let r0 = 0; r0 < rows; r0 += PROJECT_CHUNK_ROWS) {
      const b = Math.min(PROJECT_CHUNK_ROWS, rows - r0);
      const chunk = x.subarray(r0 * dims, (r0 + b) * dims);
      let t0 = phaseStart();
      s.projector.project(chunk, b);
      phaseEnd('products', t0);
      t0 = phaseStart();
      s.projector.logSumExp(s.maxPos, s.maxNeg, s.sumPos, s.sumNeg);
      phaseEnd('exp', t0);
      t0 = phaseStart();
      const zero = s.exactZero && views.some((v, k) => v.cosine && !v.scale && s.unshifted[k]) ? zeroRowFlags(chunk, b, dims) : null;
      views.forEach((v, k) => {
        if (!v.cosine) return;
        s.nonzero[k] += v.scale
          ? scaled(chunk, b, dims, v.scale, s.unit[k])
          : s.projector.unitRows(v.offset, v.e, s.unit[k], s.unshifted[k] ? zero : null);
      });
      phaseEnd('cosines', t0);
    }
  }

  /** The partial results of the pass begun last; the session is then idle. */
  end(): PassPartial {
    let out: PassPartial;
    if (this.first) {
      const a = this.first;
      out = { kind: 'first', count: a.count, zeroRows: a.zeroRows, mean: a.mean, comoment: a.comoment, unitSum: a.unitSum, unitSq: a.unitSq!, min: a.min, max: a.max };
    } else if (this.second) {
      const s = this.second;
      const part = (a: Float64Array, v: { offset: number; e: number }) => a.slice(v.offset, v.offset + v.e);
      out = {
        kind: 'second',
        views: s.plan.views.map((v, k) => ({
          sums: { maxPos: part(s.maxPos, v), maxNeg: part(s.maxNeg, v), sumPos: part(s.sumPos, v), sumNeg: part(s.sumNeg, v) },
          unit: s.unit[k],
          nonzero: s.nonzero[k],
        })),
      };
    } else {
      throw new Error('PassSession.end() before begin()');
    }
    this.reset();
    return out;
  }

  dispose(): void {
    this.reset();
    this.backend.dispose();
  }

  private reset(): void {
    this.second?.projector.dispose();
    this.first = null;
    this.second = null;
  }
}

/** The buffers of a partial, to transfer rather than copy between threads. */
export function partialBuffers(p: PassPartial): ArrayBuffer[] {
  const arrays = p.kind === 'first'
    ? [p.mean, p.comoment, p.unitSum, p.unitSq, p.min, p.max]
    : p.views.flatMap((v) => [v.sums.maxPos, v.sums.maxNeg, v.sums.sumPos, v.sums.sumNeg, v.unit]);
  return arrays.map((a) => a.buffer as ArrayBuffer);
}

/** A first-pass partial as an accumulator that merges into others ({@link StatsAccumulator.merge}). */
export function partialAccumulator(p: FirstPartial, dims: number): StatsAccumulator {
  const acc = new StatsAccumulator(dims);
  acc.count = p.count;
  acc.seen = p.count;
  acc.zeroRows = p.zeroRows;
  acc.mean.set(p.mean);
  acc.comoment.set(p.comoment);
  acc.unitSum.set(p.unitSum);
  acc.unitSq!.set(p.unitSq);
  acc.min.set(p.min);
  acc.max.set(p.max);
  return acc;
}
