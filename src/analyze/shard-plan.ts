import { createHash } from 'node:crypto';
import { quote } from '../io/index.js';
import {
  StatsAccumulator, StatsError, checkStatsJSON, f64Field, f64ToBase64, intField, isRecord, recordField,
} from '../stats/index.js';
import { parseTransforms, type TransformName, type TransformParams } from '../transforms/index.js';
import { analyzeAccumulator, passViews } from './analyze.js';
import { diagnosticViews, viewDiagnostics } from './diagnostics.js';
import type { ProjectionPlan } from './pass-session.js';
import { DEFAULT_SAMPLE_ROWS, MAX_SAMPLE_ROWS } from './sample.js';
import { ANALYSIS_SCHEMA, type Analysis } from './schema.js';
import { projectionPlan } from './second-pass.js';
import { describe, orderShards, type OrderedSource } from './shard-id.js';
import { restoreRunning, runningFromJSON, runningToJSON, type RunningJSON, type RunningState } from './shard-running.js';
import { mergeShards, mergedInputInfo, withReducer, type MergeOptions, type Shard } from './shards.js';
import { toolInfo } from './tool.js';

/** Version tag of a plan (`isotropy merge --plan`). */
export const PLAN_SCHEMA = 'isotropy.plan/v1';

/**
 * What the first reduce hands to the second round: the merged statistics, the transforms fitted
 * to them, and the directions of every view's second-pass measures (the eigenvectors of W'^T W',
 * mapped back to the input's coordinates, side by side), so that every shard projects its rows
 * on exactly the same directions wherever it runs; and the shards it expects partials from.
 */
export interface ShardPlan {
  /** 32 hex digits of sha256 over the plan's content: partials carry it */
  id: string;
  /** the name of the analysed whole (the file's path, or "k files") */
  label: string;
  transforms: TransformName[];
  /** the transform parameters as asked for (defaults left out) */
  params: TransformParams;
  /** the merged statistics; its sources are the shards, in order */
  stats: StatsAccumulator;
  /** isobn-running's state over all rows in order, when asked for */
  running: RunningState | null;
  projection: ProjectionPlan;
  /** every shard in canonical order, with its row offset in the whole */
  shards: OrderedSource[];
  /** rows of all files, dropped ones included */
  rows: number;
  /** the report's PCA sample (seeded, over all rows); null: no diagnostics */
  sample: { rows: number; seed: number } | null;
}

/** Options of {@link planShards}: those of a merge, and the report's sample. */
export interface PlanOptions extends Omit<MergeOptions, 'allowMissing'> {
  /** compute the report's arrays (PCA sample included) in the second round; default true */
  diagnostics?: boolean;
  /** rows in the PCA sample, 0 to 5000; default 1000 */
  sampleRows?: number;
  sampleSeed?: number;
}

/**
 * Reduce 1 of a two-round analysis: merges the shards of round 1 (checked: see `mergeShards`),
 * fits the transforms, and makes the plan for round 2. Also returns the one-pass analysis of the
 * merged statistics (I(W) and the transformed average cosines null until round 2).
 */
export async function planShards(shards: readonly Shard[], labels: readonly string[], opts: PlanOptions = {}): Promise<{ plan: ShardPlan; analysis: Analysis }> {
  const names = parseTransforms(opts.transforms ?? 'isobn');
  const sampleRows = opts.sampleRows ?? DEFAULT_SAMPLE_ROWS;
  if (!Number.isInteger(sampleRows) || sampleRows < 0 || sampleRows > MAX_SAMPLE_ROWS) {
    throw new StatsError(`sampleRows must be a whole number from 0 to ${MAX_SAMPLE_ROWS}, got ${sampleRows}`);
  }
  const old = shards.findIndex((s) => s.acc.sources.some((src) => src.count === undefined || src.stats === undefined));
  if (old >= 0 || shards.some((s) => !s.acc.sources.length)) {
    throw new StatsError(`${labels[old >= 0 ? old : shards.findIndex((s) => !s.acc.sources.length)]} has no shard identity (made by an older isotropy, or by the API without sources): run isotropy stats on its file for a two-round analysis`);
  }
  const merged = mergeShards(shards, labels, names.includes('isobn-running'));
  const params = definedParams(opts);
  return withReducer(opts.backend, merged, async (runner) => {
    const ordered = merged.running ? new Map([['isobn-running' as const, restoreRunning(merged.running, merged.acc.dims, params)]]) : undefined;
    const analysed = analyzeAccumulator(merged.acc, names, params, { label: merged.label, ordered });
    analysed.warnings.forEach((w) => opts.onWarning?.(`${merged.label}: ${w}`));
    const views = diagnosticViews(analysed);
    const projection = await projectionPlan(merged.acc.dims, passViews(views), runner);
    const sample = opts.diagnostics === false ? null : { rows: Math.min(sampleRows, merged.rows), seed: opts.sampleSeed ?? 0 };
    const body = { label: merged.label, transforms: names, params, stats: merged.acc, running: merged.running, projection, shards: merged.sources, rows: merged.rows, sample };
    const plan: ShardPlan = { id: planDigest(planBody(body)), ...body };
    const analysis: Analysis = {
      schema: ANALYSIS_SCHEMA,
      inputs: [mergedInputInfo(merged, labels)],
      results: analysed.results,
      diagnostics: viewDiagnostics(0, views, null),
      tool: toolInfo(),
    };
    return { plan, analysis };
  });
}

/** The parameters that were given (numbers and flags), for the plan and for refitting. */
function definedParams(opts: TransformParams): TransformParams {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts as Record<string, unknown>)) {
    if (PARAM_KEYS.has(k) && v !== undefined) out[k] = v;
  }
  return out as TransformParams;
}

/** The transform parameters a plan keeps (TransformParams' keys; flags included). */
const PARAM_KEYS = new Set(['eps', 'beta', 'batchSize', 'momentum', 'keep', 'remove', 'keepLastBatch']);

/** The JSON form of a plan. */
export interface PlanJSON {
  schema: typeof PLAN_SCHEMA;
  id: string;
  label: string;
  transforms: string[];
  params: Record<string, number | boolean>;
  rows: number;
  sample: { rows: number; seed: number } | null;
  stats: ReturnType<StatsAccumulator['toJSON']>;
  running?: RunningJSON;
  /** a view's `scale` (base64 float64, a diagonal map's factors) only when it has one; `degenerate`, `nullRows` as in ProjectionPlan */
  projection: { dims: number; cols: number; dir: string; bias: string; center: string; views: Array<{ offset: number; e: number; cosine: boolean; scale?: string; degenerate?: string; nullRows?: number }> };
}

type PlanBody = Omit<PlanJSON, 'schema' | 'id'>;

function planBody(p: Omit<ShardPlan, 'id'>): PlanBody {
  const pr = p.projection;
  return {
    label: p.label,
    transforms: [...p.transforms],
    params: p.params as Record<string, number | boolean>,
    rows: p.rows,
    sample: p.sample,
    // The shards' offsets follow from the sources' order and ranges: not stored twice.
    stats: p.stats.toJSON(),
    ...(p.running ? { running: runningToJSON(p.running) } : {}),
    projection: {
      dims: pr.dims, cols: pr.cols, dir: f64ToBase64(pr.dir), bias: f64ToBase64(pr.bias), center: f64ToBase64(pr.center),
      views: pr.views.map((v) => ({ offset: v.offset, e: v.e, cosine: v.cosine, ...(v.scale ? { scale: f64ToBase64(v.scale) } : {}), ...(v.degenerate ? { degenerate: v.degenerate } : {}), ...(v.nullRows ? { nullRows: v.nullRows } : {}) })),
    },
  };
}

/** sha256 of the body in a canonical form (keys sorted), so that reformatting the file changes nothing. */
function planDigest(body: PlanBody): string {
  return createHash('sha256').update(canonical(body)).digest('hex').slice(0, 32);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isRecord(v)) return `{${Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** A plan's JSON, as `isotropy merge --plan` writes it (every float64 exact, with its id). */
export function planToJSON(plan: ShardPlan): PlanJSON {
  return { schema: PLAN_SCHEMA, id: plan.id, ...planBody(plan) };
}

/**
 * Reads a plan back, checking every field (the merged statistics with `checkStatsJSON`, the
 * shards' identities, the projection's sizes and finiteness) and that its id is the digest of its
 * content (an edited or damaged plan is refused).
 * @throws StatsError naming the field
 */
export function planFromJSON(json: unknown): ShardPlan {
  if (!isRecord(json) || json.schema !== PLAN_SCHEMA) {
    const found = isRecord(json) && 'schema' in json ? ` (schema ${quote(json.schema)})` : '';
    throw new StatsError(`not an isotropy plan${found}: expected schema "${PLAN_SCHEMA}", made by \`isotropy merge SHARDS --plan PLAN\``);
  }
  try {
    return readPlan(json);
  } catch (e) {
    if (e instanceof StatsError) throw new StatsError(`damaged plan: ${e.message}`);
    throw e;
  }
}

function readPlan(o: Record<string, unknown>): ShardPlan {
  if (typeof o.id !== 'string') throw new StatsError('id is missing');
  if (typeof o.label !== 'string') throw new StatsError('label must be a string');
  if (!Array.isArray(o.transforms) || !o.transforms.every((t) => typeof t === 'string')) throw new StatsError('transforms must be a list of names');
  const transforms = parseTransforms(o.transforms as string[]);
  if (transforms.length !== o.transforms.length) throw new StatsError(`transforms ${quote(o.transforms)} are not distinct transform names`);
  const p = recordField(o, 'params');
  for (const [k, v] of Object.entries(p)) {
    if (!PARAM_KEYS.has(k) || !(typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) {
      throw new StatsError(`params.${quote(k)} is not a transform parameter (${quote(v)})`);
    }
  }
  const checked = checkStatsJSON(o.stats);
  const stats = StatsAccumulator.fromJSON(o.stats);
  const d = checked.dims;
  const rows = intField(o, 'rows');
  let sample: ShardPlan['sample'] = null;
  if (o.sample !== null) {
    const s = recordField(o, 'sample');
    sample = { rows: intField(s, 'rows', 0, Math.min(MAX_SAMPLE_ROWS, rows), 'sample.rows'), seed: intField(s, 'seed', 0, 2 ** 32 - 1, 'sample.seed') };
  }
  const running = o.running === undefined ? null : runningFromJSON(o.running, d, checked.count);
  if ((running !== null) !== transforms.includes('isobn-running')) throw new StatsError('running must be there exactly when isobn-running is asked for');

  // The shards: every source needs its id and counts, and together they tile their files.
  const sources = checked.sources;
  sources.forEach((s, k) => {
    if (s.id === undefined || s.count === undefined || s.stats === undefined) throw new StatsError(`stats.sources[${k}] lacks its id, counts or digest`);
  });
  const ordered = orderShards(sources.map((s) => ({ label: describe(s), count: s.count!, rows: s.count! + s.nonfiniteRows!, digest: s.stats!, sources: [s] })));
  if (ordered.rows !== rows) throw new StatsError(`rows (${rows}) differs from the shards' files (${ordered.rows})`);
  const shards = ordered.sources.map((s) => ({ ...s, input: 0 }));

  const pr = recordField(o, 'projection');
  if (intField(pr, 'dims', 1, Number.MAX_SAFE_INTEGER, 'projection.dims') !== d) throw new StatsError(`projection.dims differs from the statistics' ${d}`);
  if (!Array.isArray(pr.views) || pr.views.length !== transforms.length + 1) throw new StatsError(`projection.views must list ${transforms.length + 1} views`);
  let at = 0;
  const views = pr.views.map((v: unknown, k: number) => {
    const where = `projection.views[${k}]`;
    if (!isRecord(v) || typeof v.cosine !== 'boolean') throw new StatsError(`${where} must be {offset, e, cosine}`);
    if (v.degenerate !== undefined && typeof v.degenerate !== 'string') throw new StatsError(`${where}.degenerate must be a string`);
    const offset = intField(v, 'offset', at, at, `${where}.offset`);
    // e < d: a low-rank view projects on its non-null directions only (nullRows: Z = n elsewhere)
    const e = intField(v, 'e', 0, d, `${where}.e`);
    const nullRows = v.nullRows === undefined ? undefined : intField(v, 'nullRows', 1, Number.MAX_SAFE_INTEGER, `${where}.nullRows`);
    at += e;
    // a diagonal view's factors: its cosines come from the rows themselves (see ProjectionPlan)
    const scale = v.scale === undefined ? null : f64Field(v, 'scale', d, 'finite', `${where}.scale`);
    return { offset, e, cosine: v.cosine, scale, ...(typeof v.degenerate === 'string' ? { degenerate: v.degenerate } : {}), ...(nullRows ? { nullRows } : {}) };
  });
  const cols = intField(pr, 'cols', at, at, 'projection.cols');
  const projection: ProjectionPlan = {
    dims: d,
    cols,
    dir: f64Field(pr, 'dir', d * cols, 'finite', 'projection.dir'),
    bias: f64Field(pr, 'bias', cols, 'finite', 'projection.bias'),
    center: f64Field(pr, 'center', d, 'finite', 'projection.center'),
    views,
  };
  const plan: ShardPlan = {
    id: o.id, label: o.label, transforms, params: p as TransformParams, stats, running, projection, shards, rows, sample,
  };
  if (planDigest(planBody(plan)) !== o.id) throw new StatsError('its content does not match its id: the plan was edited or damaged; make it again with isotropy merge --plan');
  return plan;
}
