/**
 * The two passes over a source that holds several layers side by side (`EmbeddingSource.layers`):
 * one read of the file feeds every layer's statistics (and, in the second pass, every layer's
 * I(W) and cosines). Each block is cut into its layers on the reading thread, each layer checked
 * for NaN/Inf and fed to its own group of the runner's sessions, exactly as a one-layer pass feeds
 * its rows, so a layer's numbers are those of analysing that layer alone.
 */
import type { EmbeddingSource } from '../io/index.js';
import { StatsAccumulator, StatsError, finiteRows } from '../stats/index.js';
import { needsOrderedRows, startOrderedFit, type RunningIsoBN, type TransformName, type TransformParams } from '../transforms/index.js';
import type { FirstPass } from './first-pass.js';
import type { PassRunner } from './pass-runner.js';
import { partialAccumulator, type FirstPartial, type SecondPartial } from './pass-session.js';
import { projectionPlan, secondPassResults, type PassView, type SecondPassResult } from './second-pass.js';

/** Rows `rows x d` of layer `j` of a block whose rows hold `k` layers of `d` values side by side. */
export function layerRows(data: Float64Array, rows: number, k: number, d: number, j: number): Float64Array {
  if (k === 1) return data;
  const out = new Float64Array(rows * d);
  const w = k * d;
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * w + j * d, r * w + (j + 1) * d), r * d);
  return out;
}

/** The layers of a source and the width of one (`source.dims / layers`). */
function layout(source: EmbeddingSource): { layers: readonly number[]; d: number } {
  const layers = source.layers ?? [source.layer ?? 0];
  return { layers, d: source.dims / layers.length };
}

/**
 * The first pass of every layer at once: per layer, the statistics and the ordered-rows
 * estimators, as {@link firstPass} gives them for one.
 */
export async function firstPassLayers(
  source: EmbeddingSource,
  names: readonly TransformName[],
  opts: TransformParams & { dropNonfinite?: boolean; blockRows?: number; onRows?: (done: number) => void; runner: PassRunner },
): Promise<FirstPass[]> {
  const { layers, d } = layout(source);
  const k = layers.length;
  const runner = opts.runner;
  const ordered = layers.map(() => {
    const m = new Map<TransformName, RunningIsoBN>();
    for (const name of names.filter(needsOrderedRows)) m.set(name, startOrderedFit(name, d, opts)!);
    return m;
  });
  const dropped = new Array<number>(k).fill(0);
  runner.begin(layers.map(() => ({ kind: 'first' as const, dims: d })));
  for await (const block of source.blocks({ blockRows: opts.blockRows })) {
    for (let j = 0; j < k; j++) {
      let clean;
      try {
        clean = finiteRows(layerRows(block.data, block.rows, k, d, j), block.rows, d, block.start, opts.dropNonfinite ?? false);
      } catch (e) {
        if (e instanceof StatsError) throw new StatsError(`${source.path} (layer ${layers[j]}): ${e.message}`);
        throw e;
      }
      dropped[j] += clean.dropped;
      for (const est of ordered[j].values()) est.push(clean.data, clean.rows);
      if (clean.rows > 0) await runner.push(clean.data, clean.rows, j);
    }
    opts.onRows?.(block.start + block.rows);
  }
  const groups = await runner.endGroups();
  return layers.map((layer, j) => {
    const acc = new StatsAccumulator(d);
    acc.seen = dropped[j];
    acc.nonfiniteRows = dropped[j];
    for (const p of groups[j] as FirstPartial[]) acc.merge(partialAccumulator(p, d));
    acc.sources = [{ path: source.path, rows: source.rows, dtype: source.dtype, layer }];
    return { acc, ordered: ordered[j] };
  });
}

/** The second pass of every layer at once: per layer, I(W) and the cosines of its views. */
export async function secondPassLayers(
  source: EmbeddingSource,
  views: readonly PassView[][],
  opts: { dropNonfinite: boolean; blockRows?: number; onRows?: (done: number) => void; runner: PassRunner },
): Promise<SecondPassResult[][]> {
  const { layers, d } = layout(source);
  const k = layers.length;
  const runner = opts.runner;
  const plans = [];
  for (const v of views) plans.push(await projectionPlan(d, v, runner));
  runner.begin(plans.map((plan) => ({ kind: 'second' as const, plan, rows: source.rows })));
  let done = 0;
  for await (const block of source.blocks({ blockRows: opts.blockRows })) {
    for (let j = 0; j < k; j++) {
      const { data, rows } = finiteRows(layerRows(block.data, block.rows, k, d, j), block.rows, d, block.start, opts.dropNonfinite);
      if (rows > 0) await runner.push(data, rows, j);
    }
    done += block.rows;
    opts.onRows?.(done);
  }
  const groups = await runner.endGroups();
  return plans.map((plan, j) => secondPassResults(plan, (groups[j] as SecondPartial[]).map((p) => p.views)));
}
