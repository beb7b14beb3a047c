import type { EmbeddingSource } from '../io/index.js';
import { matmul } from '../linalg/index.js';
import { LOW_RANK_SHARE, PartitionSums, avgCosine, finiteRows, partitionIsotropy, psdEigen, secondMoment, type Moments } from '../stats/index.js';
import type { AffineMap } from '../transforms/index.js';
import { PassRunner } from './pass-runner.js';
import { passBlocks, type RowRange } from './first-pass.js';
import { unitLength, type ProjectionPlan, type SecondPartial } from './pass-session.js';
import { timed, timedBlocks } from './phases.js';

/** One view of the rows in the second pass: the input itself (no map) or a transform of it. */
export interface PassView {
  map: AffineMap | null;
  moments: Moments;
  /** also compute the average cosine of the mapped rows (the first pass has it for the raw rows) */
  cosine: boolean;
}

export interface SecondPassResult {
  /** null when W'^T W' has (nearly) repeated eigenvalues: see {@link degenerateSpectrum} */
  partitionIsotropy: number | null;
  avgCosine: number | null;
  /** why partitionIsotropy is null */
  partitionIsotropyNull?: string;
}

/**
 * Relative gap below which two eigenvalues of W'^T W' count as repeated:
 * `lambda_k - lambda_(k+1) <= GAP_TOL * lambda_k`. Eigensolvers determine the eigenvectors of a
 * pair that close only up to a rotation in their plane (to about eps * lambda_1 / gap), and I(W)
 * then depends on which rotation the solver picked.
 */
export const GAP_TOL = 1e-7;

/**
 * Why I(W) is not determined by the data, or null when it is: two eigenvalues of `W'^T W'`
 * (descending `values`) above the numerical null level (e eps lambda_1) closer than
 * {@link GAP_TOL}. The null space itself is harmless: every direction in it has Z(c) = n.
 * After whitening W'^T W' = n I and every basis is an eigenbasis.
 */
export function degenerateSpectrum(values: ArrayLike<number>): string | null {
  const e = values.length;
  const nullLevel = e * Number.EPSILON * values[0];
  let tied = 0, at = -1;
  for (let k = 0; k + 1 < e && values[k + 1] > nullLevel; k++) {
    if (values[k] - values[k + 1] <= GAP_TOL * values[k]) {
      tied++;
      if (at < 0) at = k;
    }
  }
  if (!tied) return null;
  return `W'^T W' has repeated eigenvalues (${tied} gap(s) below ${GAP_TOL} relative, first at components ${at + 1} and ${at + 2}),` +
    " so its eigenvectors, and I(W) with them, are not determined by the data (after whitening W'^T W' = n I)";
}

/**
 * Rereads the rows once and computes, for every view, I(W) and the average cosine.
 *
 * For a view with map x -> (x - t) A and eigenvectors V of its second moment W'^T W' (derived from
 * the moments, no reading needed), the projections `w' V = x (A V) - t (A V)` give both measures:
 * the c . w' of Z(c) for c = +-v_k, and, since V is orthogonal, |w'| and sum_i w'_i / |w'_i| in the
 * V basis. The views' d x d' matrices sit side by side, so each block takes one product for all
 * of them (on `opts.runner`'s kernels; default the TypeScript ones on this thread); the transformed
 * rows are never formed.
 */
export async function secondPass(
  source: EmbeddingSource,
  views: PassView[],
  opts: { dropNonfinite: boolean; blockRows?: number; onRows?: (done: number) => void; runner?: PassRunner },
): Promise<SecondPassResult[]> {
  const runner = opts.runner ?? (await PassRunner.start('js', 1));
  try {
    const plan = await projectionPlan(source.dims, views, runner);
    return secondPassResults(plan, [(await projectionSums(source, plan, { ...opts, runner })).views]);
  } finally {
    if (!opts.runner) await runner.close();
  }
}

/** What the second pass keeps of a set of rows, per view: sums that merge across row sets. */
export type ViewSums = SecondPartial['views'];

/**
 * The second pass's sums over rows `range` of a source (default all), on `opts.runner`'s threads,
 * merged: what a shard contributes in the second round of a sharded analysis. Also returns how
 * many rows were used and how many were dropped for NaN/Inf.
 */
export async function projectionSums(
  source: EmbeddingSource,
  plan: ProjectionPlan,
  opts: { dropNonfinite: boolean; blockRows?: number; range?: RowRange; onRows?: (done: number) => void; runner: PassRunner },
): Promise<{ views: ViewSums; rows: number; dropped: number }> {
  const runner = opts.runner;
  runner.begin({ kind: 'second', plan, rows: (opts.range?.end ?? source.rows) - (opts.range?.start ?? 0) });
  let done = 0, used = 0, dropped = 0;
  for await (const block of timedBlocks(passBlocks(source, { blockRows: opts.blockRows, ...opts.range }))) {
    const { data, rows } = timed('check', () => finiteRows(block.data, block.rows, source.dims, block.start, opts.dropNonfinite));
    if (rows > 0) await runner.push(data, rows);
    used += rows;
    dropped += block.rows - rows;
    done += block.rows;
    opts.onRows?.(done);
  }
  const parts = (await runner.end()) as SecondPartial[];
  return { views: mergeViewSums(plan, parts.map((p) => p.views)), rows: used, dropped };
}

/** The sums of disjoint row sets (threads, shards) as the sums of their union. */
export function mergeViewSums(plan: ProjectionPlan, parts: readonly ViewSums[]): ViewSums {
  return plan.views.map((v, k) => {
    const sums = new PartitionSums(v.e);
    const unit = new Float64Array(unitLength(v));
    let nonzero = 0;
    for (const p of parts) {
      const part = p[k];
      sums.merge(part.sums);
      for (let c = 0; c < unit.length; c++) unit[c] += part.unit[c];
      nonzero += part.nonzero;
    }
    return { sums: sums.state(), unit, nonzero };
  });
}

/** I(W) and the average cosine of every view, from the sums of all the rows' parts. */
export function secondPassResults(plan: ProjectionPlan, parts: readonly ViewSums[]): SecondPassResult[] {
  const merged = mergeViewSums(plan, parts);
  return plan.views.map((v, k) => {
    const m = merged[k];
    const cos = v.cosine ? avgCosine(m.unit, m.nonzero) : null;
    if (v.degenerate) return { partitionIsotropy: null, avgCosine: cos, partitionIsotropyNull: v.degenerate };
    const logZ = Array.from(new PartitionSums(v.e).merge(m.sums).logZ());
    // Directions of the null space (not projected on) have c . w = 0 for every row: Z(c) = n.
    if (v.nullRows) logZ.push(Math.log(v.nullRows));
    return { partitionIsotropy: partitionIsotropy(logZ), avgCosine: cos };
  });
}

/**
 * Every view's `d x e` matrix A V and shift -t A V, side by side; centred on the raw rows' mean.
 * The views' dense eigendecompositions run on the runner's threads side by side; a view whose
 * W'^T W' has rank at most n << e (fewer rows than dimensions) is decomposed here by the low-rank
 * solver, and only its non-null directions are projected on (`nullRows`: the others have Z = n).
 * A view whose W'^T W' has repeated eigenvalues carries the reason (`degenerate`): its I(W) is null.
 */
export async function projectionPlan(d: number, views: PassView[], runner: PassRunner): Promise<ProjectionPlan> {
  const lowRank = (v: PassView) => v.moments.dims >= 64 && v.moments.n <= v.moments.dims * LOW_RANK_SHARE;
  const solved = await runner.eighVectors(views.filter((v) => !lowRank(v)).map((v) => ({ m: secondMoment(v.moments), d: v.moments.dims })));
  const parts = views.map((v) => {
    const dimsOut = v.moments.dims;
    let vecs: Float64Array, values: Float64Array, e: number;
    if (lowRank(v)) {
      const r = psdEigen(secondMoment(v.moments), dimsOut, Math.min(v.moments.n, dimsOut), { vectors: true });
      vecs = r.vectors ?? new Float64Array(0);
      values = r.values;
      e = r.cols;
    } else {
      const r = solved.shift()!;
      vecs = r.vectors!;
      values = r.values;
      e = dimsOut;
    }
    let dir: Float64Array;
    let offset: Float64Array | null = null;
    if (!v.map) dir = vecs;
    else if (v.map.kind === 'diagonal') {
      const a = v.map.scale;
      dir = scaleRows(vecs, a, e);
    } else {
      dir = matmul(v.map.matrix, d, v.map.dOut, vecs, e);
      offset = matmul(v.map.shift, 1, d, dir, e);
    }
    return { e, dir, offset, cosine: v.cosine, scale: v.map?.kind === 'diagonal' ? v.map.scale : null, degenerate: degenerateSpectrum(values), nullRows: e < dimsOut ? v.moments.n : 0 };
  });
  const cols = parts.reduce((s, p) => s + p.e, 0);
  const dir = new Float64Array(d * cols);
  const bias = new Float64Array(cols);
  let at = 0;
  const planViews = parts.map((p) => {
    for (let i = 0; i < d; i++) dir.set(p.dir.subarray(i * p.e, (i + 1) * p.e), i * cols + at);
    if (p.offset) for (let j = 0; j < p.e; j++) bias[at + j] = -p.offset[j];
    const v = { offset: at, e: p.e, cosine: p.cosine, scale: p.scale, ...(p.degenerate ? { degenerate: p.degenerate } : {}), ...(p.nullRows ? { nullRows: p.nullRows } : {}) };
    at += p.e;
    return v;
  });
  // The untransformed view's moments hold the mean of the rows as read.
  const raw = views.find((v) => !v.map);
  const center = raw ? Float64Array.from(raw.moments.mean) : new Float64Array(d);
  return { dims: d, cols, dir, bias, center, views: planViews };
}

/** diag(a) V for the `rows x e` row-major V: row i times a[i] (a plain loop: d^2 values at d = 4096). */
function scaleRows(v: Float64Array, a: Float64Array, e: number): Float64Array {
  const out = new Float64Array(v.length);
  for (let i = 0, o = 0; o < v.length; i++, o += e) {
    const s = a[i];
    for (let j = 0; j < e; j++) out[o + j] = v[o + j] * s;
  }
  return out;
}
