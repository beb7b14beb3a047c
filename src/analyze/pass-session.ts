import type { KernelBackend, Projector } from '../linalg/index.js';
import { PartitionSums, StatsAccumulator, type PartitionSumsState } from '../stats/index.js';

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
  views: Array<{ offset: number; e: number; cosine: boolean }>;
}

/** What one pass computes, per thread: `first` = statistics, `second` = I(W) and cosines. */
export type PassSpec = { kind: 'first'; dims: number } | { kind: 'second'; plan: ProjectionPlan };

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
 * The per-thread part of a pass, on one kernel backend: fed blocks of finite rows, it keeps
 * partial results that the reading thread merges in float64 at the end. The same code runs in a
 * worker thread (pass-worker.ts) or inline on the calling thread.
 */
export class PassSession {
  private first: StatsAccumulator | null = null;
  private second: {
    plan: ProjectionPlan;
    projector: Projector;
    sums: PartitionSums[];
    unit: Float64Array[];
    nonzero: number[];
    exactZero: boolean;
    unshifted: boolean[];
  } | null = null;

  constructor(readonly backend: KernelBackend) {}

  begin(spec: PassSpec): void {
    this.reset();
    if (spec.kind === 'first') {
      this.first = new StatsAccumulator(spec.dims);
      return;
    }
    const plan = spec.plan;
    const center = this.backend.precision === 'float32' ? plan.center : null;
    const bias = plan.bias.some((b) => b !== 0) ? plan.bias : null;
    this.second = {
      plan,
      projector: this.backend.projector(plan.dir, plan.dims, plan.cols, bias, center),
      sums: plan.views.map((v) => new PartitionSums(v.e)),
      unit: plan.views.map((v) => new Float64Array(v.cosine ? v.e : 0)),
      nonzero: plan.views.map(() => 0),
      // Centred float32 products turn an all-zero row into rounding noise instead of 0: such rows
      // are found on the input and left out of the cosines of the views that map 0 to 0.
      exactZero: center !== null,
      unshifted: plan.views.map((v) => plan.bias.subarray(v.offset, v.offset + v.e).every((b) => b === 0)),
    };
  }

  /** Adds `rows` finite rows (`rows x dims` row-major). */
  add(x: Float64Array, rows: number): void {
    if (this.first) {
      this.first.addFinite(x, rows, this.backend.gramUpper, this.backend.chunkRows);
      return;
    }
    const s = this.second;
    if (!s) throw new Error('PassSession.add() before begin()');
    const { dims, cols, views } = s.plan;
    for (let r0 = 0; r0 < rows; r0 += PROJECT_CHUNK_ROWS) {
      const b = Math.min(PROJECT_CHUNK_ROWS, rows - r0);
      const chunk = x.subarray(r0 * dims, (r0 + b) * dims);
      const proj = s.projector.apply(chunk, b);
      const zero = s.exactZero ? zeroRows(chunk, b, dims) : null;
      views.forEach((v, k) => {
        s.sums[k].add(proj, b, cols, v.offset);
        if (v.cosine) s.nonzero[k] += addUnitRows(proj, b, cols, v.offset, v.e, s.unit[k], s.unshifted[k] ? zero : null);
      });
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
      out = { kind: 'second', views: s.sums.map((sum, k) => ({ sums: sum.state(), unit: s.unit[k], nonzero: s.nonzero[k] })) };
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

/**
 * Adds `row / |row|` of the columns `[offset, offset + e)` of each row to `unit`; all-zero rows,
 * and the rows flagged in `zero`, are skipped. Returns how many rows were added.
 */
function addUnitRows(
  proj: Float64Array, rows: number, stride: number, offset: number, e: number, unit: Float64Array, zero: Uint8Array | null,
): number {
  let nonzero = 0;
  for (let r = 0; r < rows; r++) {
    if (zero?.[r]) continue;
    const o = r * stride + offset;
    let ss = 0;
    for (let c = 0; c < e; c++) ss += proj[o + c] * proj[o + c];
    if (ss === 0) continue;
    nonzero++;
    const inv = 1 / Math.sqrt(ss);
    for (let c = 0; c < e; c++) unit[c] += proj[o + c] * inv;
  }
  return nonzero;
}

/** 1 for the rows of a `rows x dims` block whose every value is 0. */
function zeroRows(x: Float64Array, rows: number, dims: number): Uint8Array {
  const out = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * dims;
    let c = 0;
    while (c < dims && x[o + c] === 0) c++;
    out[r] = c === dims ? 1 : 0;
  }
  return out;
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
