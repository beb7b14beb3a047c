import { openEmbeddings, type EmbeddingSource, type OpenOptions } from '../io/index.js';
import { withEighSolver } from '../linalg/index.js';
import { StatsAccumulator, StatsError, isRecord, statsDigest, type StatsJSON, type StatsSource } from '../stats/index.js';
import { RUNNING_DEFAULTS, parseTransforms, type TransformParams } from '../transforms/index.js';
import { analyzeAccumulator, inputLabels, nullWarnings, openOptions } from './analyze.js';
import { checkMemory, estimateMemory, memoryBudget, type WorkShape } from './budget.js';
import { diagnosticViews, viewDiagnostics } from './diagnostics.js';
import { firstPass, type RowRange } from './first-pass.js';
import { Kernels } from './kernels.js';
import type { PassRunner } from './pass-runner.js';
import { ANALYSIS_SCHEMA, type Analysis, type InputInfo } from './schema.js';
import { fileKey, inputIdentity, orderShards, parseShardPart, shardId, shardRange, type OrderedSource, type ShardPart } from './shard-id.js';
import { composeRunning, restoreRunning, runningFromJSON, runningState, runningToJSON, type RunningJSON, type RunningState } from './shard-running.js';
import { toolInfo } from './tool.js';

/**
 * The first round's result for one shard: its sufficient statistics, and, when isobn-running was
 * asked for, the state of that estimator after replaying the shard's rows in order.
 */
export interface Shard {
  acc: StatsAccumulator;
  running: RunningState | null;
}

/** A shard's JSON (`isotropy stats --out`): the statistics, plus isobn-running's state if any. */
export interface ShardJSON extends StatsJSON {
  running?: RunningJSON;
}

/** Options of {@link computeShard} (and of the second round, which reads the same rows). */
export interface ShardOptions extends TransformParams, Pick<OpenOptions, 'key' | 'column' | 'field' | 'revision' | 'remote'> {
  /** layer of an (n, L, d) file; negative counts from the end; default the last */
  layer?: number;
  /** skip rows holding NaN/Inf (counted) instead of failing; default false */
  dropNonfinite?: boolean;
  /** read only part i of N of the rows (`"i/N"` or `{index, count}`, 0-based); default all rows */
  shard?: string | ShardPart;
  /**
   * transforms the merge will be asked for: only isobn-running needs something from this round
   * (its estimator replayed over the rows in order; then parts are cut on batch boundaries)
   */
  transforms?: string | readonly string[];
  /** kernels: auto (default), native, wasm, tfjs-node, js; and their threads */
  backend?: string;
  threads?: number;
  blockRows?: number;
  /** called with the rows done and the rows of the shard */
  onRows?: (done: number, total: number) => void;
  /** memory the statistics may use (bytes or "8G", "75%"); default half of the machine's memory */
  maxMemory?: number | string;
}

/**
 * Round 1 of a sharded analysis: the sufficient statistics of one file, or of part i of N of its
 * rows (`opts.shard`), with the shard's identity in `acc.sources[0]` (the file's absolute path,
 * the row range, the digest of the statistics and an id made of those), so that a shard given
 * twice, or overlapping another, is refused when merging.
 *
 * @param input  a .npy path, or an EmbeddingSource (identified by its `path`)
 */
export async function computeShard(input: string | EmbeddingSource, opts: ShardOptions = {}): Promise<Shard> {
  const names = parseTransforms(opts.transforms ?? 'none');
  const running = names.includes('isobn-running');
  const part = opts.shard === undefined ? null : parseShardPart(opts.shard);
  const budget = memoryBudget(opts.maxMemory);
  const source = typeof input === 'string' ? await openEmbeddings(input, openOptions(opts)) : input;
  const kernels = new Kernels({ backend: opts.backend, threads: opts.threads });
  try {
    const shape: WorkShape = { kind: 'stats', dims: source.dims, rows: source.rows, transforms: [], workers: 0, backend: 'js', diagnostics: false, secondPass: false };
    checkMemory(estimateMemory(shape), budget, `${source.path}: statistics of ${source.dims} dimensions`);
    const align = running ? opts.batchSize ?? RUNNING_DEFAULTS.batchSize : 1;
    const range: RowRange = part ? shardRange(source.rows, part, align) : { start: 0, end: source.rows };
    const total = range.end - range.start;
    const { runner, blockRows } = await kernels.forInput(Math.max(1, total), source.dims, opts.blockRows);
    const { acc, ordered } = await firstPass(source, running ? ['isobn-running'] : [], {
      ...opts, blockRows, range, runner, onRows: (k) => opts.onRows?.(k, total),
    });
    const est = ordered.get('isobn-running');
    acc.sources = [shardSource(acc, {
      path: source.path,
      rows: source.rows,
      dtype: source.dtype,
      layer: source.layer,
      ...(typeof input === 'string' ? await inputIdentity(input, source) : {}),
      ...(part ? { range: [range.start, range.end], part: [part.index, part.count] } : {}),
    })];
    return { acc, running: est ? runningState(est) : null };
  } finally {
    await kernels.close();
    if (typeof input === 'string') await source.close();
  }
}

/** A source entry with the shard's counts, statistics digest and id filled in. */
function shardSource(acc: StatsAccumulator, s: StatsSource): StatsSource {
  const stats = statsDigest(acc.toJSON());
  const full: StatsSource = { ...s, count: acc.count, nonfiniteRows: acc.nonfiniteRows, stats };
  return { ...full, id: shardId(full, stats) };
}

/**
 * Sufficient statistics of one .npy file (one shard of a larger set), for `isotropy stats --out`;
 * shards computed anywhere merge exactly ({@link StatsAccumulator.merge}). {@link computeShard}
 * also returns isobn-running's state.
 */
export async function collectStats(input: string | EmbeddingSource, opts: ShardOptions = {}): Promise<StatsAccumulator> {
  return (await computeShard(input, opts)).acc;
}

/** A shard's JSON, as `isotropy stats --out` writes it (every float64 exact). */
export function shardToJSON(s: Shard): ShardJSON {
  return { ...s.acc.toJSON(), ...(s.running ? { running: runningToJSON(s.running) } : {}) };
}

/**
 * Reads a shard's (or merged) statistics JSON back, checking every field.
 * @throws StatsError for anything foreign, damaged or inconsistent
 */
export function shardFromJSON(json: unknown): Shard {
  const acc = StatsAccumulator.fromJSON(json);
  const r = isRecord(json) ? json.running : undefined;
  let running: RunningState | null = null;
  if (r !== undefined) {
    try {
      running = runningFromJSON(r, acc.dims, acc.count);
    } catch (e) {
      throw new StatsError(`damaged statistics file: ${(e as Error).message}`);
    }
  }
  return { acc, running };
}

/** The union of a set of shards, checked and in canonical order (see {@link orderShards}). */
export interface MergedShards {
  acc: StatsAccumulator;
  /** isobn-running's state over all rows in order; null unless every shard has one */
  running: RunningState | null;
  /** every shard, in order, with its id and row offset */
  sources: OrderedSource[];
  /** rows of all files, dropped ones included */
  rows: number;
  /** the name of the whole: the one file's path, or "k files" */
  label: string;
}

/**
 * Merges shards (`labels`: their file names, for messages) after checking that they hold every
 * row of their files exactly once ({@link orderShards}; `allowMissing`: some rows may be missing,
 * said through `onWarning`, to merge some shards now and the others later). isobn-running's states are composed in
 * the canonical order when every shard has one (`needRunning` true: refused otherwise).
 *
 * @throws StatsError for shards of different dimensions, duplicated or overlapping shards, missing
 *         parts, or isobn-running states that cannot be composed
 */
export function mergeShards(
  shards: readonly Shard[],
  labels: readonly string[],
  needRunning = false,
  opts: { allowMissing?: boolean; onWarning?: (m: string) => void } = {},
): MergedShards {
  if (shards.length === 0) throw new StatsError('no shards to merge');
  const dims = new Set(shards.map((s) => s.acc.dims));
  if (dims.size > 1) {
    throw new StatsError(`shards have different dimensions (${shards.map((s, i) => `${labels[i]}: ${s.acc.dims}`).join(', ')}): merge only shards of one embedding`);
  }
  const { order, sources, rows, missing } = orderShards(shards.map((s, i) => ({
    label: labels[i], count: s.acc.count, rows: s.acc.count + s.acc.nonfiniteRows, digest: statsDigest(s.acc.toJSON()), sources: s.acc.sources,
  })), opts);
  if (missing && needRunning) throw new StatsError(`isobn-running replays all the rows in order: ${missing}`);
  if (missing) opts.onWarning?.(`only some rows are merged: ${missing}`);
  const acc = new StatsAccumulator(shards[0].acc.dims);
  for (const k of order) acc.merge(shards[k].acc);
  // The merged sources carry their ids, so merging merged statistics again still finds duplicates.
  acc.sources = sources.map(({ input: _input, offset: _offset, ...s }) => s);
  let running: RunningState | null = null;
  if (needRunning) {
    const missing = order.find((k) => !shards[k].running);
    if (missing !== undefined) {
      throw new StatsError(`isobn-running: ${labels[missing]} holds no isobn-running state: make every shard with isotropy stats --transform isobn-running`);
    }
    // Each input's shards must be contiguous in the replay order (merged statistics included).
    let last = -1;
    for (const s of sources) {
      if (s.input !== last && order.indexOf(s.input) < order.indexOf(last)) {
        throw new StatsError(`isobn-running: the rows of ${labels[s.input]} and ${labels[last]} interleave, so they cannot be replayed one after the other; merge the shards in order`);
      }
      last = s.input;
    }
    running = composeRunning(order.map((k) => shards[k].running!), order.map((k) => labels[k]));
  }
  const paths = [...new Set(sources.map((s) => s.path))];
  const files = new Set(sources.map(fileKey)).size;
  const label = files === 1 ? paths[0] : `${files} files`;
  return { acc, running, sources, rows, label };
}

/** The `inputs[0]` of an analysis of merged shards. */
export function mergedInputInfo(m: Pick<MergedShards, 'acc' | 'sources' | 'rows' | 'label'>, labels: readonly string[]): InputInfo {
  const dtypes = [...new Set(m.sources.map((s) => s.dtype).filter(Boolean))];
  const layers = [...new Set(m.sources.map((s) => s.layer ?? null))];
  return {
    path: m.label,
    rows: m.rows,
    dims: m.acc.dims,
    dtype: dtypes.length === 1 ? dtypes[0]! : dtypes.length ? 'mixed' : 'unknown',
    fortranOrder: false,
    ...(layers.length === 1 && layers[0] !== null ? { layer: layers[0] } : {}),
    droppedRows: m.acc.nonfiniteRows,
    zeroRows: m.acc.zeroRows,
    shards: [...labels],
    label: m.label.endsWith(' files') ? m.label : inputLabels([m.label])[0],
  };
}

/** Options of the merges: the transforms and their parameters, the kernels' backend (its eigensolver). */
export interface MergeOptions extends TransformParams {
  transforms?: string | readonly string[];
  backend?: string;
  /** merge although some rows of the files are in no shard (a warning says which); default false */
  allowMissing?: boolean;
  onWarning?: (m: string) => void;
  /** memory the analysis may use (bytes or "8G", "75%"); default half of the machine's memory */
  maxMemory?: number | string;
}

/**
 * Analysis of the union of shards from their statistics alone (one round): everything but I(W)
 * and the average cosine of transformed rows (both need the rows: null here; see `planShards`
 * for the second round that fills them in). isobn-running needs every shard's running state.
 *
 * @param labels  one name per shard (their file names), for messages and `inputs[0].shards`
 */
export async function analyzeShards(
  shards: ReadonlyArray<Shard | StatsAccumulator>,
  labels: readonly string[],
  opts: MergeOptions = {},
): Promise<Analysis> {
  const names = parseTransforms(opts.transforms ?? 'isobn');
  const list = shards.map((s) => (s instanceof StatsAccumulator ? { acc: s, running: null } : s));
  const dims = list.length ? list[0].acc.dims : 1;
  const shape: WorkShape = { kind: 'merge', shards: 0, dims, rows: Infinity, transforms: names, workers: 0, backend: 'js', diagnostics: true, secondPass: false };
  checkMemory(estimateMemory(shape), memoryBudget(opts.maxMemory), `analyzing ${dims} dimensions from ${list.length} shard(s)`, shape);
  const merged = mergeShards(list, labels, names.includes('isobn-running'), opts);
  return withReducer(opts.backend, merged, () => {
    const ordered = merged.running ? new Map([['isobn-running' as const, restoreRunning(merged.running, merged.acc.dims, opts)]]) : undefined;
    const analysed = analyzeAccumulator(merged.acc, names, opts, { label: merged.label, ordered });
    [...analysed.warnings, ...nullWarnings(analysed.results)].forEach((w) => opts.onWarning?.(`${merged.label}: ${w}`));
    return {
      schema: ANALYSIS_SCHEMA,
      inputs: [mergedInputInfo(merged, labels)],
      results: analysed.results,
      // No rows here, so no PCA sample: the report leaves the scatter out.
      diagnostics: viewDiagnostics(0, diagnosticViews(analysed), null),
      tool: toolInfo(),
    };
  });
}

/**
 * Runs a reduce step with the eigensolver `analyze` would use on this machine for `backend`
 * (LAPACK's with native), so that a merge and a single-machine analysis agree to rounding.
 */
export async function withReducer<T>(backend: string | undefined, m: { acc: StatsAccumulator; rows: number }, fn: (runner: PassRunner) => T | Promise<T>): Promise<T> {
  const kernels = new Kernels({ backend, threads: 1 });
  try {
    const { runner } = await kernels.forInput(Math.max(1, m.rows), m.acc.dims);
    return await withEighSolver(runner.eigh, () => fn(runner));
  } finally {
    await kernels.close();
  }
}
