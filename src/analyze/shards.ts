import { openEmbeddings, type OpenOptions } from '../io/index.js';
import { StatsAccumulator } from '../stats/index.js';
import { parseTransforms, type TransformParams } from '../transforms/index.js';
import { analyzeAccumulator, openOptions } from './analyze.js';
import { diagnosticViews, viewDiagnostics } from './diagnostics.js';
import { firstPass } from './first-pass.js';
import { ANALYSIS_SCHEMA, type Analysis } from './schema.js';
import { toolInfo } from './tool.js';

/**
 * Sufficient statistics of one embeddings file, any format `openEmbeddings` reads (one shard of a larger set), for `isotropy stats --save`;
 * shards computed anywhere merge exactly ({@link StatsAccumulator.merge}).
 */
export async function collectStats(
  path: string,
  opts: OpenOptions & { blockRows?: number; onRows?: (done: number, total: number) => void } = {},
): Promise<StatsAccumulator> {
  const source = await openEmbeddings(path, openOptions(opts));
  try {
    const { acc } = await firstPass(source, [], { ...opts, onRows: (k) => opts.onRows?.(k, source.rows) });
    return acc;
  } finally {
    await source.close();
  }
}

/**
 * Analysis of the union of shards from their statistics alone. Everything but I(W) and the
 * average cosine of transformed rows (both need the rows: null here); isobn-running is refused
 * because it depends on the order of the rows.
 *
 * @param labels  one name per shard (their file names), for the provenance in `inputs[0].shards`
 */
export function analyzeShards(
  shards: readonly StatsAccumulator[],
  labels: readonly string[],
  opts: TransformParams & { transforms?: string | readonly string[]; onWarning?: (m: string) => void } = {},
): Analysis {
  const names = parseTransforms(opts.transforms ?? 'isobn');
  const acc = new StatsAccumulator(shards[0].dims);
  for (const s of shards) acc.merge(s);
  const label = shards.length === 1 ? labels[0] : `${labels.length} merged shards`;
  const analysed = analyzeAccumulator(acc, names, opts, { label });
  const { results, warnings } = analysed;
  warnings.forEach((w) => opts.onWarning?.(`${label}: ${w}`));
  const dtypes = [...new Set(acc.sources.map((s) => s.dtype).filter(Boolean))];
  return {
    schema: ANALYSIS_SCHEMA,
    inputs: [{
      path: label,
      rows: acc.count + acc.nonfiniteRows,
      dims: acc.dims,
      dtype: dtypes.length === 1 ? dtypes[0]! : dtypes.length ? 'mixed' : 'unknown',
      fortranOrder: false,
      droppedRows: acc.nonfiniteRows,
      zeroRows: acc.zeroRows,
      shards: [...labels],
      label,
    }],
    results,
    // No rows here, so no PCA sample: the report leaves the scatter out.
    diagnostics: viewDiagnostics(0, diagnosticViews(analysed), null),
    tool: toolInfo(),
  };
}
