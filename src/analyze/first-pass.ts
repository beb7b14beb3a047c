import type { EmbeddingSource } from '../io/index.js';
import { StatsAccumulator, StatsError } from '../stats/index.js';
import { needsOrderedRows, startOrderedFit, type RunningIsoBN, type TransformName, type TransformParams } from '../transforms/index.js';

/** What the first read of a source yields. */
export interface FirstPass {
  acc: StatsAccumulator;
  /** estimators of the transforms that need the rows in order (isobn-running) */
  ordered: Map<TransformName, RunningIsoBN>;
}

/**
 * Reads a source once: sufficient statistics for every metric, and the ordered-rows estimators of
 * the requested transforms, fed with exactly the rows the statistics kept.
 * Data errors are rethrown with the source's path in front.
 */
export async function firstPass(
  source: EmbeddingSource,
  names: readonly TransformName[],
  opts: TransformParams & { dropNonfinite?: boolean; blockRows?: number; onRows?: (done: number) => void },
): Promise<FirstPass> {
  const acc = new StatsAccumulator(source.dims);
  const ordered = new Map<TransformName, RunningIsoBN>();
  for (const name of names.filter(needsOrderedRows)) ordered.set(name, startOrderedFit(name, source.dims, opts)!);
  for await (const block of source.blocks({ blockRows: opts.blockRows })) {
    let clean;
    try {
      clean = acc.push(block.data, block.rows, { dropNonfinite: opts.dropNonfinite });
    } catch (e) {
      if (e instanceof StatsError) throw new StatsError(`${source.path}: ${e.message}`);
      throw e;
    }
    for (const est of ordered.values()) est.push(clean.data, clean.rows);
    opts.onRows?.(block.start + block.rows);
  }
  acc.sources = [{ path: source.path, rows: source.rows, dtype: source.dtype, layer: source.layer }];
  return { acc, ordered };
}
