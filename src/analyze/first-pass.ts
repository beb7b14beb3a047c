import type { BlockOptions, EmbeddingSource, RawRowBlock } from '../io/index.js';
import { StatsAccumulator, StatsError, finiteRows } from '../stats/index.js';
import { needsOrderedRows, startOrderedFit, type RunningIsoBN, type TransformName, type TransformParams } from '../transforms/index.js';
import { PassRunner } from './pass-runner.js';
import { partialAccumulator, type FirstPartial } from './pass-session.js';
import { timed, timedBlocks } from './phases.js';

/** Rows `[start, end)` of a source. */
export interface RowRange {
  start: number;
  end: number;
}

/**
 * The blocks of a pass over `source`: as stored where the reader can hand them over so (float32
 * stays float32, reused arrays: every backend's kernels take float32 rows and widen them in cache,
 * which saves a decoding pass, a float64 copy and its garbage per block), else float64. `float64`
 * forces float64 blocks (for consumers that keep or need them, like isobn-running's estimator).
 */
export function passBlocks(source: EmbeddingSource, opts: BlockOptions, float64 = false): AsyncIterable<RawRowBlock> {
  return !float64 && source.rawBlocks ? source.rawBlocks(opts) : source.blocks(opts);
}

/** What the first read of a source yields. */
export interface FirstPass {
  acc: StatsAccumulator;
  /** estimators of the transforms that need the rows in order (isobn-running) */
  ordered: Map<TransformName, RunningIsoBN>;
}

/**
 * Reads a source once: sufficient statistics for every metric, and the ordered-rows estimators of
 * the requested transforms, fed with exactly the rows the statistics kept.
 *
 * This thread reads, checks every row for NaN/Inf (so the first bad row is named by its index in
 * the file, whatever the threads) and feeds the ordered estimators in order; the co-moments and
 * the other sums are computed by `opts.runner` (worker threads or inline; default: the TypeScript
 * kernels on this thread) and merged here in float64.
 * Data errors are rethrown with the source's path in front. `opts.range` reads rows
 * `[start, end)` only (a shard of the file); `onRows` then counts from the range's start.
 */
export async function firstPass(
  source: EmbeddingSource,
  names: readonly TransformName[],
  opts: TransformParams & { dropNonfinite?: boolean; blockRows?: number; range?: RowRange; onRows?: (done: number) => void; runner?: PassRunner },
): Promise<FirstPass> {
  const d = source.dims;
  const ordered = new Map<TransformName, RunningIsoBN>();
  for (const name of names.filter(needsOrderedRows)) ordered.set(name, startOrderedFit(name, d, opts)!);
  const runner = opts.runner ?? (await PassRunner.start('js', 1));
  let dropped = 0;
  let parts: FirstPartial[];
  try {
    runner.begin({ kind: 'first', dims: d });
    const start = opts.range?.start ?? 0;
    for await (const block of timedBlocks(passBlocks(source, { blockRows: opts.blockRows, ...opts.range }, ordered.size > 0))) {
      let clean;
      try {
        if (block.data.length < block.rows * d) throw new StatsError(`block holds ${block.data.length} values, expected ${block.rows} x ${d}`);
        clean = timed('check', () => finiteRows(block.data, block.rows, d, block.start, opts.dropNonfinite ?? false));
      } catch (e) {
        if (e instanceof StatsError) throw new StatsError(`${source.path}: ${e.message}`);
        throw e;
      }
      dropped += clean.dropped;
      if (ordered.size) {
        // float64 blocks were asked for (see passBlocks above): no copy here
        const x = clean.data instanceof Float64Array ? clean.data : Float64Array.from(clean.data);
        for (const est of ordered.values()) est.push(x, clean.rows);
      }
      if (clean.rows > 0) await runner.push(clean.data, clean.rows);
      opts.onRows?.(block.start + block.rows - start);
    }
    parts = (await runner.end()) as FirstPartial[];
  } finally {
    if (!opts.runner) await runner.close();
  }
  const acc = new StatsAccumulator(d);
  acc.seen = dropped;
  acc.nonfiniteRows = dropped;
  for (const p of parts) acc.merge(partialAccumulator(p, d));
  acc.sources = [{ path: source.path, rows: source.rows, dtype: source.dtype, layer: source.layer }];
  return { acc, ordered };
}
