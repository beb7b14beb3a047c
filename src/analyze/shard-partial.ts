import { unitLength } from './pass-session.js';
import { openEmbeddings, quote, type EmbeddingSource, type OpenOptions } from '../io/index.js';
import { StatsError, f64Field, f64ToBase64, hexField, intField, isRecord } from '../stats/index.js';
import { openOptions } from './analyze.js';
import { Kernels } from './kernels.js';
import { readRows, sampleIndices } from './sample.js';
import { projectionSums, type ViewSums } from './second-pass.js';
import { describe, inputIdentity, parseShardPart, sourceRange, type OrderedSource } from './shard-id.js';
import type { ShardPlan } from './shard-plan.js';

/** Version tag of a second-round partial (`isotropy stats --plan`). */
export const PARTIAL_SCHEMA = 'isotropy.partial/v1';

/**
 * Round 2's result for one shard: per view, the log-sum-exp sums of I(W) over the plan's
 * directions and the sum of the unit rows; the rows of the report's PCA sample that fall in the
 * shard; and what it belongs to (the plan's id and the shard's).
 */
export interface ShardPartial {
  plan: string;
  shard: string;
  /** rows used and dropped for NaN/Inf: must equal round 1's */
  count: number;
  nonfiniteRows: number;
  views: ViewSums;
  /** the sampled rows of this shard, in row order (`rows x dims`); null when the plan has no sample */
  sample: { rows: number; data: Float64Array } | null;
}

/** Options of {@link computePartial}: which part of the file, and the kernels. */
export interface PartialOptions extends Pick<OpenOptions, 'key' | 'column' | 'field' | 'revision' | 'remote'> {
  /** the same `i/N` as in round 1 */
  shard?: string | { index: number; count: number };
  layer?: number;
  backend?: string;
  threads?: number;
  blockRows?: number;
  onRows?: (done: number, total: number) => void;
}

/**
 * Round 2 of a sharded analysis, for one shard: rereads the shard's rows and projects them on the
 * plan's directions. The shard is found in the plan by its file (its fingerprint, else its
 * absolute path) and part; its rows must be the ones round 1 counted.
 *
 * @throws StatsError when the shard is not in the plan, or its file changed since round 1
 */
export async function computePartial(input: string | EmbeddingSource, plan: ShardPlan, opts: PartialOptions = {}): Promise<ShardPartial> {
  const source = typeof input === 'string' ? await openEmbeddings(input, { ...openOptions(opts), dropNonfinite: true }) : input;
  const kernels = new Kernels({ backend: opts.backend, threads: opts.threads });
  try {
    const file = typeof input === 'string' ? await inputIdentity(input, source) : null;
    const shard = findShard(plan, source, file, opts.shard === undefined ? null : parseShardPart(opts.shard));
    const name = `${source.path}${shard.part ? ` (part ${shard.part[0]}/${shard.part[1]})` : ''}`;
    if (source.rows !== shard.rows || source.dims !== plan.projection.dims || (shard.dtype !== undefined && source.dtype !== shard.dtype)) {
      throw new StatsError(`${name}: the file is ${source.rows} x ${source.dims} ${source.dtype} now, ${shard.rows} x ${plan.projection.dims} ${shard.dtype ?? ''} in round 1: it changed between the rounds; run both rounds again`);
    }
    const [start, end] = sourceRange(shard);
    const { runner, blockRows } = await kernels.forInput(Math.max(1, end - start), source.dims, opts.blockRows);
    const sums = await projectionSums(source, plan.projection, {
      dropNonfinite: true, blockRows, range: { start, end }, runner, onRows: (k) => opts.onRows?.(k, end - start),
    });
    if (sums.rows !== shard.count || sums.dropped !== shard.nonfiniteRows) {
      throw new StatsError(`${name}: rows ${start}-${end} hold ${sums.rows} usable rows and ${sums.dropped} with NaN/Inf now, ${shard.count} and ${shard.nonfiniteRows} in round 1: the file changed between the rounds; run both rounds again`);
    }
    let sample: ShardPartial['sample'] = null;
    if (plan.sample) {
      const local = shardSampleIndices(plan, shard).map((g) => g - shard.offset + start);
      sample = await readRows(source, local);
    }
    return { plan: plan.id, shard: shard.id, count: sums.rows, nonfiniteRows: sums.dropped, views: sums.views, sample };
  } finally {
    await kernels.close();
    if (typeof input === 'string') await source.close();
  }
}

/** The plan's sample rows (indices over all rows) that fall in a shard. */
function shardSampleIndices(plan: ShardPlan, shard: OrderedSource): number[] {
  if (!plan.sample || plan.sample.rows === 0) return [];
  const [start, end] = sourceRange(shard);
  const lo = shard.offset, hi = shard.offset + end - start;
  return sampleIndices(plan.rows, plan.sample.rows, plan.sample.seed).filter((g) => g >= lo && g < hi);
}

function findShard(plan: ShardPlan, source: EmbeddingSource, file: { resolved: string; fingerprint?: string } | null, part: { index: number; count: number } | null): OrderedSource {
  const samePart = plan.shards.filter((s) => (part ? s.part?.[0] === part.index && s.part?.[1] === part.count : !s.part) && (s.layer ?? null) === source.layer);
  // The file by its content (it may sit elsewhere in round 2: a node's scratch disk), else by its path.
  let hits = file?.fingerprint ? samePart.filter((s) => s.fingerprint === file.fingerprint) : [];
  if (hits.length !== 1) hits = samePart.filter((s) => (file ? s.resolved === file.resolved : s.path === source.path));
  if (hits.length === 1) return hits[0];
  const what = `${source.path}${part ? ` --shard ${part.index}/${part.count}` : ''}`;
  const held = plan.shards.slice(0, 3).map(describe).join(', ') + (plan.shards.length > 3 ? ', ...' : '');
  throw new StatsError(`${what} is ${hits.length ? 'ambiguous' : 'not a shard'} in this plan (it holds ${held}): give the same file, --shard and --layer as in round 1`);
}

/** The JSON form of a partial. */
export interface PartialJSON {
  schema: typeof PARTIAL_SCHEMA;
  plan: string;
  shard: string;
  count: number;
  nonfiniteRows: number;
  views: Array<{ maxPos: string; maxNeg: string; sumPos: string; sumNeg: string; unit: string; nonzero: number }>;
  sample: { rows: number; data: string } | null;
}

/** A partial's JSON, as `isotropy stats --plan` writes it (every float64 exact). */
export function partialToJSON(p: ShardPartial): PartialJSON {
  return {
    schema: PARTIAL_SCHEMA,
    plan: p.plan,
    shard: p.shard,
    count: p.count,
    nonfiniteRows: p.nonfiniteRows,
    views: p.views.map((v) => ({
      maxPos: f64ToBase64(v.sums.maxPos), maxNeg: f64ToBase64(v.sums.maxNeg),
      sumPos: f64ToBase64(v.sums.sumPos), sumNeg: f64ToBase64(v.sums.sumNeg),
      unit: f64ToBase64(v.unit), nonzero: v.nonzero,
    })),
    sample: p.sample ? { rows: p.sample.rows, data: f64ToBase64(p.sample.data) } : null,
  };
}

/** True for a JSON object that says it is a partial (to tell round-2 files from statistics). */
export function isPartialJSON(json: unknown): boolean {
  return isRecord(json) && json.schema === PARTIAL_SCHEMA;
}

/**
 * Reads a partial back and checks it against its plan: the plan's id, a shard of the plan, the
 * counts of round 1, and every array's size, finiteness and range (the log-sum-exp sums of a
 * shard of c rows lie in [1, c], unit sums within the non-zero rows).
 * @throws StatsError naming the field
 */
export function partialFromJSON(json: unknown, plan: ShardPlan): ShardPartial {
  if (!isRecord(json) || json.schema !== PARTIAL_SCHEMA) {
    const found = isRecord(json) && 'schema' in json ? ` (schema ${quote(json.schema)})` : '';
    throw new StatsError(`not an isotropy partial${found}: expected schema "${PARTIAL_SCHEMA}", made by \`isotropy stats SHARD --plan PLAN --out FILE\``);
  }
  const o = json;
  const planId = hexField(o, 'plan', 32);
  if (planId !== plan.id) throw new StatsError(`made with another plan (${planId}, this one is ${plan.id}): run round 2 again with this plan`);
  const id = hexField(o, 'shard', 32);
  const shard = plan.shards.find((s) => s.id === id);
  if (!shard) throw new StatsError(`its shard (${id}) is not in the plan`);
  const count = intField(o, 'count');
  const nonfiniteRows = intField(o, 'nonfiniteRows');
  if (count !== shard.count || nonfiniteRows !== shard.nonfiniteRows) {
    throw new StatsError(`counts ${count} used and ${nonfiniteRows} dropped rows, round 1 counted ${shard.count} and ${shard.nonfiniteRows} for ${describe(shard)}`);
  }
  const pv = plan.projection.views;
  if (!Array.isArray(o.views) || o.views.length !== pv.length) throw new StatsError(`views must list ${pv.length} views`);
  const views = o.views.map((v: unknown, k: number) => {
    const where = `views[${k}]`;
    if (!isRecord(v)) throw new StatsError(`${where} must be an object`);
    const e = pv[k].e;
    const rule = count === 0 ? '-inf' : 'finite';
    const maxPos = f64Field(v, 'maxPos', e, rule, `${where}.maxPos`);
    const maxNeg = f64Field(v, 'maxNeg', e, rule, `${where}.maxNeg`);
    const sumPos = f64Field(v, 'sumPos', e, 'finite', `${where}.sumPos`);
    const sumNeg = f64Field(v, 'sumNeg', e, 'finite', `${where}.sumNeg`);
    // Each sum is sum_i exp(p_i - max): its largest term is 1 (up to the kernels' exp rounding,
    // 0.9999999999999998 seen on the js backend).
    const lo = count === 0 ? 0 : 1 - 1e-9, hi = count === 0 ? 0 : count * (1 + 1e-9);
    for (const [name, a] of [['sumPos', sumPos], ['sumNeg', sumNeg]] as const) {
      const bad = a.findIndex((x) => !(x >= lo && x <= hi));
      if (bad >= 0) throw new StatsError(`${where}.${name}[${bad}] is ${a[bad]}, outside [${lo}, ${count}] for ${count} rows`);
    }
    if (count === 0 && (maxPos.some((x) => x !== -Infinity) || maxNeg.some((x) => x !== -Infinity))) throw new StatsError(`${where}: no rows but maxima set`);
    const nonzero = intField(v, 'nonzero', 0, count, `${where}.nonzero`);
    const unit = f64Field(v, 'unit', unitLength(pv[k]), 'finite', `${where}.unit`);
    let sq = 0;
    for (const u of unit) sq += u * u;
    if (sq > nonzero * nonzero * (1 + 1e-9)) throw new StatsError(`${where}.unit exceeds its ${nonzero} non-zero rows`);
    return { sums: { maxPos, maxNeg, sumPos, sumNeg }, unit, nonzero };
  });
  let sample: ShardPartial['sample'] = null;
  if (plan.sample) {
    if (!isRecord(o.sample)) throw new StatsError('sample must be an object: the plan asks for a sample');
    const want = shardSampleIndices(plan, shard).length;
    const rows = intField(o.sample, 'rows', 0, want, 'sample.rows');
    sample = { rows, data: f64Field(o.sample, 'data', rows * plan.projection.dims, 'finite', 'sample.data') };
  } else if (o.sample !== null && o.sample !== undefined) {
    throw new StatsError('sample must be null: the plan asks for none');
  }
  return { plan: planId, shard: id, count, nonfiniteRows, views, sample };
}
