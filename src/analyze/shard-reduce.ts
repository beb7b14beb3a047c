import { StatsError } from '../stats/index.js';
import { analyzeAccumulator, applySecondPass, sampledDiagnostics } from './analyze.js';
import { diagnosticViews } from './diagnostics.js';
import { ANALYSIS_SCHEMA, type Analysis, type SampleInfo, type ViewDiagnostics } from './schema.js';
import { secondPassResults } from './second-pass.js';
import { describe } from './shard-id.js';
import type { ShardPartial } from './shard-partial.js';
import type { ShardPlan } from './shard-plan.js';
import { restoreRunning } from './shard-running.js';
import { mergedInputInfo, withReducer } from './shards.js';
import { toolInfo } from './tool.js';

/**
 * Reduce 2 of a two-round analysis: the analysis of all the plan's rows from the merged
 * statistics and one partial per shard. The one-pass metrics and the fitted transforms come from
 * `analyzeAccumulator` as in `analyze`; I(W) and the transformed average cosines from the
 * partials' sums (`secondPassResults`, the same code that finishes `analyze`'s second pass); the
 * PCA scatter from the sampled rows the partials carry. It equals `analyze` on all the rows up to
 * rounding (see the README for the tolerance).
 *
 * @param labels  one name per partial (their file names), for messages and `inputs[0].shards`
 * @throws StatsError for a partial of another plan, two partials of one shard, or a missing shard
 */
export async function analyzePlan(
  plan: ShardPlan,
  partials: readonly ShardPartial[],
  labels: readonly string[],
  opts: { backend?: string; onWarning?: (m: string) => void } = {},
): Promise<Analysis> {
  const byShard = new Map<string, number>();
  partials.forEach((p, k) => {
    if (p.plan !== plan.id) throw new StatsError(`${labels[k]} was made with another plan (${p.plan}, this one is ${plan.id}): run round 2 again with this plan`);
    const dup = byShard.get(p.shard);
    if (dup !== undefined) throw new StatsError(`${labels[dup]} and ${labels[k]} are partials of the same shard: give each shard's partial once`);
    byShard.set(p.shard, k);
  });
  const missing = plan.shards.filter((s) => !byShard.has(s.id));
  if (missing.length) {
    const list = missing.slice(0, 3).map(describe).join(', ') + (missing.length > 3 ? `, and ${missing.length - 3} more` : '');
    throw new StatsError(`no partial for ${missing.length} shard(s) of the plan: ${list}; run round 2 (isotropy stats SHARD --plan PLAN) for them`);
  }
  const known = new Set(plan.shards.map((s) => s.id));
  const stranger = partials.findIndex((p) => !known.has(p.shard));
  if (stranger >= 0) throw new StatsError(`${labels[stranger]}: its shard is not in the plan`);
  // Shards in row order: the sums merge in the same order whatever order the files came in.
  const ordered = plan.shards.map((s) => partials[byShard.get(s.id)!]);

  const d = plan.stats.dims;
  const merged = { acc: plan.stats, sources: plan.shards, rows: plan.rows, label: plan.label, running: plan.running };
  return withReducer(opts.backend, merged, () => {
    const running = plan.running ? new Map([['isobn-running' as const, restoreRunning(plan.running, d, plan.params)]]) : undefined;
    const analysed = analyzeAccumulator(plan.stats, plan.transforms, plan.params, { label: plan.label, ordered: running });
    analysed.warnings.forEach((w) => opts.onWarning?.(`${plan.label}: ${w}`));
    applySecondPass(analysed.results, secondPassResults(plan.projection, ordered.map((p) => p.views)));
    const views = diagnosticViews(analysed);
    let diagnostics: ViewDiagnostics[] | undefined;
    let samples: SampleInfo[] | undefined;
    if (plan.sample) {
      const rows = ordered.reduce((s, p) => s + (p.sample?.rows ?? 0), 0);
      const data = new Float64Array(rows * d);
      let at = 0;
      for (const p of ordered) {
        if (!p.sample) continue;
        data.set(p.sample.data, at);
        at += p.sample.data.length;
      }
      const want = plan.sample.rows;
      const one = sampledDiagnostics(0, views, want > 0 ? { data, rows } : null, d, plan.sample.seed);
      diagnostics = one.diagnostics;
      samples = [one.sample];
    }
    return {
      schema: ANALYSIS_SCHEMA,
      inputs: [mergedInputInfo(merged, labels)],
      results: analysed.results,
      ...(diagnostics ? { diagnostics, samples } : {}),
      tool: toolInfo(),
    };
  });
}
