import { openEmbeddings, type EmbeddingSource, type OpenOptions } from '../io/index.js';
import { analyzeLayers } from './analyze-layers.js';
import { inputStem } from './input-names.js';
import { isEmbeddingSource, isRowArray, openInput, type AnalyzeInput } from './inputs.js';
import { startProvenance } from './provenance.js';
import {
  StatsError, avgCosine, covEigen, momentMetrics, momentNullReasons, momentsOf, rogueShares, topRogueDims,
  type Moments, type PsdEigen, type StatsAccumulator,
} from '../stats/index.js';
import {
  fitTransform, mapMoments, parseTransforms,
  type FittedTransform, type RunningIsoBN, type TransformName, type TransformParams,
} from '../transforms/index.js';
import { withEighSolver, type EighSolver } from '../linalg/index.js';
import { checkMemory, estimateMemory, memoryBudget, type WorkShape } from './budget.js';
import { diagnosticViews, viewDiagnostics, type DiagnosticView } from './diagnostics.js';
import { firstPass } from './first-pass.js';
import { Kernels } from './kernels.js';
import type { PassRunner } from './pass-runner.js';
import { MAX_SAMPLE_ROWS, readSample } from './sample.js';
import { ANALYSIS_SCHEMA, type Analysis, type InputInfo, type SampleInfo, type TransformResult, type ViewDiagnostics } from './schema.js';
import { secondPass, type PassView, type SecondPassResult } from './second-pass.js';
import { toolInfo } from './tool.js';
import { PHASES_ENABLED, formatPhases, phaseEnd, phaseStart, takePhases, takeThreadPhases, timed } from './phases.js';

/** Where a long analysis is; passes are 1 (statistics) and 2 (I(W) and transformed cosines). */
export interface AnalyzeProgress {
  input: number;
  path: string;
  pass: 1 | 2;
  rowsDone: number;
  rowsTotal: number;
}

/** Options of {@link analyze}; the transform parameters go alongside (eps, beta, ...). */
export interface AnalyzeOptions extends TransformParams, Pick<OpenOptions, 'key' | 'column' | 'field' | 'revision' | 'remote'> {
  /** transform names, comma-separated or a list; "none" for no transform; default "isobn" */
  transforms?: string | readonly string[];
  /** layer of (n, L, d) input; negative counts from the end; default -1 (last) */
  layer?: number;
  /**
   * several layers of (n, L, d) input analysed in the same passes (one read of each file):
   * `'all'` or indices (negative from the end); each result then carries its `layer`. Not with `layer`.
   */
  layers?: readonly number[] | 'all';
  /** the string inputs (paths, URLs, directories, globs) are the shards of one dataset, in the order given; default false */
  concat?: boolean;
  /** skip rows holding NaN/Inf (reported as droppedRows) instead of failing; default false */
  dropNonfinite?: boolean;
  /** skip the second pass: partitionIsotropy and the transforms' avgCosine become null */
  onePass?: boolean;
  /** rows per block read from disk; default: about 8 MiB of float64 rows */
  blockRows?: number;
  /** also compute the arrays the report draws (`diagnostics`, `samples`); default true */
  diagnostics?: boolean;
  /** rows in the seeded PCA sample of each input, 0 to 5000; default 1000 (0: no scatter) */
  sampleRows?: number;
  /** seed of the PCA sample; default 0 */
  sampleSeed?: number;
  /** one display name per input (the report's legends); default: the file names without extension */
  labels?: readonly string[];
  onProgress?: (p: AnalyzeProgress) => void;
  /** called with each warning (constant dimensions, n < d, ...); default: ignored */
  onWarning?: (message: string) => void;
  /** kernel backend: auto (default), native, wasm, tfjs-node, js; see `analysis.backend` */
  backend?: string;
  /** compute threads for the wasm and js backends; default: the machine's cores, at most 8, fewer when memory is short */
  threads?: number;
  /**
   * memory the analysis may use, in bytes or as a size string ("8G", "512M", "75%"); default half
   * of the machine's memory (see budget.ts). An input that would need more is refused before any
   * work with a ResourceError that says how much it needs and what to do.
   */
  maxMemory?: number | string;
}

/**
 * Isotropy metrics of each input, as it is and after each transform.
 *
 * Reads every file once for the sufficient statistics (and, unless `onePass`, a second time for
 * I(W) and the average cosine of transformed rows); memory is O(d^2 + block) whatever n is.
 * Inputs (see {@link AnalyzeInput}): paths, URLs (`https://`, `hf://datasets/...`), directories
 * or globs of embedding files in any format `openEmbeddings` reads (.npy, .npz, safetensors,
 * Parquet, Arrow, HDF5, text; `key`/`column`/`field` pick the array), {@link EmbeddingSource}s,
 * `number[][]`, typed arrays with a shape, ml-matrix `Matrix` objects, or async iterables of row
 * batches. One input may be given without the list: `analyze(rows)`, `analyze(matrix)`.
 * `layers` analyses several layers of (n, L, d) input in one read; `concat` reads the string
 * inputs as one dataset.
 *
 * Metrics undefined for the data are null with the reason in `nullReasons` (and a warning).
 *
 * @throws NpyError for unreadable files or inputs, StatsError for unusable data (fewer than 2
 *         rows, NaN without dropNonfinite), TransformError for bad transform names or parameters,
 *         ResourceError (before any row is read) when an input needs more memory than `maxMemory`
 */
export async function analyze(inputs: AnalyzeInput | ReadonlyArray<AnalyzeInput>, opts: AnalyzeOptions = {}): Promise<Analysis> {
  const names = parseTransforms(opts.transforms ?? 'isobn');
  checkSampleRows(opts.sampleRows);
  const list = inputList(inputs, opts.concat ?? false);
  const labels = inputLabels(list.map((x) => (typeof x === 'string' ? x : isEmbeddingSource(x) ? x.path : '<memory>')), opts.labels);
  const withDiagnostics = opts.diagnostics ?? true;
  const analysis: Analysis = {
    schema: ANALYSIS_SCHEMA,
    inputs: [],
    results: [],
    ...(withDiagnostics ? { diagnostics: [] as ViewDiagnostics[], samples: [] as SampleInfo[] } : {}),
    tool: toolInfo(),
  };
  const kernels = new Kernels({ backend: opts.backend, threads: opts.threads });
  const started = phaseStart();
  const budget = memoryBudget(opts.maxMemory);
  try {
    // Every input whose shape its header tells is checked against the memory budget before the
    // first one is read: a refusal costs no work. (Each is checked again once open, below.)
    for (const input of list) {
      const shape = await peekShape(input, opts);
      if (shape) await memoryPlan(kernels, shape, names, opts, withDiagnostics, budget);
    }
    for (let i = 0; i < list.length; i++) {
      const input = list[i];
      const { source, owned } = Array.isArray(input) && !isRowArray(input)
        ? { source: await openEmbeddings(input as string[], openOptions(opts)), owned: true }
        : await openInput(input as AnalyzeInput, openOptions(opts));
      try {
        // Hashing streams the files alongside the first pass; the page cache serves the second reader.
        const layerCount = source.layers?.length ?? 1;
        const cap = await memoryPlan(kernels, { path: source.path, rows: source.rows, dims: source.dims / layerCount, layers: layerCount }, names, opts, withDiagnostics, budget);
        const provenance = startProvenance(typeof input === 'string' ? input : null, source);
        const one = source.layers
          ? await layered(source, i, names, opts, withDiagnostics, kernels, cap)
          : await (async () => {
            const { runner, blockRows } = await kernels.forInput(source.rows, source.dims, opts.blockRows, cap);
            return withEighSolver(timedSolver(runner.eigh), () => analyzeSource(source, i, names, { ...opts, blockRows }, withDiagnostics, runner));
          })();
        const hashed = phaseStart();
        const files = await provenance.finish();
        phaseEnd('hash wait', hashed);
        analysis.inputs.push({ ...one.info, ...files, label: labels[i] });
        analysis.results.push(...one.results);
        if (one.diagnostics) analysis.diagnostics!.push(...one.diagnostics);
        if (one.sample) analysis.samples!.push(one.sample);
      } finally {
        if (owned) await source.close();
      }
    }
  } finally {
    await kernels.close();
    if (PHASES_ENABLED) printPhases(started);
  }
  const backend = kernels.info();
  if (backend) analysis.backend = backend;
  return analysis;
}

/** The backend's eigensolver, adding its time to phase `eigh` when profiling. */
function timedSolver(solver: EighSolver | undefined): EighSolver | undefined {
  if (!solver || !PHASES_ENABLED) return solver;
  return (m, d, o) => timed('eigh', () => solver(m, d, o));
}

/**
 * ISOTROPY_PHASES: the phases of this analyze() call on stderr (this thread's, the rest as
 * `other`), then those measured on the worker threads, summed over them.
 */
function printPhases(started: number): void {
  const phases = takePhases();
  phaseEnd('total', started);
  const total = takePhases()[0][1];
  const other = total - phases.reduce((s, [, v]) => s + v, 0);
  const threads = takeThreadPhases();
  const onThreads = threads.length ? `; on the compute threads (s, summed): ${threads.map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}` : '';
  process.stderr.write(`${formatPhases([...phases, ['other', other], ['total', total]])}${onThreads}\n`);
}

/** The reading options of an analysis, as `openEmbeddings` takes them. */
export function openOptions(opts: Pick<OpenOptions, 'layer' | 'layers' | 'key' | 'column' | 'field' | 'dropNonfinite' | 'revision' | 'remote'>): OpenOptions {
  return {
    layer: opts.layer, layers: opts.layers, key: opts.key, column: opts.column, field: opts.field, dropNonfinite: opts.dropNonfinite,
    revision: opts.revision, remote: opts.remote,
  };
}

/**
 * The inputs as a list (one input may come without one: a `number[][]` is one matrix, not a list
 * of inputs); with `concat`, the string inputs become one dataset (in first place).
 */
function inputList(inputs: AnalyzeInput | ReadonlyArray<AnalyzeInput>, concat: boolean): Array<AnalyzeInput | string[]> {
  const list: AnalyzeInput[] = Array.isArray(inputs) && !isRowArray(inputs) ? [...(inputs as AnalyzeInput[])] : [inputs as AnalyzeInput];
  if (list.length === 0) throw new StatsError('no inputs to analyze: give at least one file or matrix');
  if (!concat) return list;
  const paths = list.filter((x): x is string => typeof x === 'string');
  if (paths.length !== list.length) throw new StatsError('concat reads files as one dataset: give only paths or URLs with it');
  return [paths];
}

/** An input of several layers side by side: blocks sized for all of them, one read. */
async function layered(source: EmbeddingSource, i: number, names: TransformName[], opts: AnalyzeOptions, withDiagnostics: boolean, kernels: Kernels, maxThreads: number) {
  const k = source.layers!.length;
  const d = source.dims / k;
  const { runner, blockRows: perLayer } = await kernels.forInput(source.rows, d, opts.blockRows, maxThreads);
  // a block holds every layer: about 32 MiB of float64 in all, at least 256 rows, at most one layer's default
  const blockRows = opts.blockRows ?? Math.max(1, Math.min(perLayer, Math.max(256, Math.floor((32 << 20) / (source.dims * 8)))));
  return withEighSolver(timedSolver(runner.eigh), () => analyzeLayers(source, i, names, { ...opts, blockRows }, withDiagnostics, runner));
}

/**
 * The shape of an input known without reading its rows (local files and datasets from their
 * headers, sources from their fields), or null (URLs, in-memory and streamed inputs: checked
 * once open, before their rows are read).
 */
async function peekShape(input: AnalyzeInput | string[], opts: AnalyzeOptions): Promise<{ path: string; rows: number; dims: number; layers: number } | null> {
  if (isEmbeddingSource(input)) {
    const k = input.layers?.length ?? 1;
    return { path: input.path, rows: input.rows, dims: input.dims / k, layers: k };
  }
  // Local files only: a remote header costs a request, and the input is checked again once open.
  const local = (x: unknown) => typeof x === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(x);
  if (!(local(input) || (Array.isArray(input) && input.length > 0 && input.every(local)))) return null;
  const source = await openEmbeddings(input as string | string[], openOptions(opts));
  try {
    const k = source.layers?.length ?? 1;
    return { path: source.path, rows: source.rows, dims: source.dims / k, layers: k };
  } finally {
    await source.close();
  }
}

/**
 * Checks that analysing one input (`layers` of them side by side) fits the memory budget (throws a
 * ResourceError if not) and returns the most compute threads that keep it within the budget
 * (threads cost memory: each worker holds its own d x d matrices).
 */
async function memoryPlan(
  kernels: Kernels, input: { path: string; rows: number; dims: number; layers: number }, names: readonly string[], opts: AnalyzeOptions, diagnostics: boolean, budget: number,
): Promise<number> {
  const backend = await kernels.backendName();
  const inline = backend === 'native' || backend === 'tfjs-node';
  const wanted = inline ? 1 : kernels.threadsFor(input.rows, input.dims, opts.blockRows);
  // several layers in one read: every layer's views at once
  const views = Array.from({ length: input.layers }, () => ['none', ...names]).flat().slice(1);
  const shape = (threads: number): WorkShape => ({
    dims: input.dims, rows: input.rows, transforms: views, workers: threads > 1 ? threads : 0, backend, diagnostics, secondPass: !opts.onePass,
  });
  let threads = wanted;
  if (opts.threads === undefined) while (threads > 1 && estimateMemory(shape(threads)).bytes > budget) threads--;
  const what = `${input.path}: analyzing ${input.dims} dimensions${input.layers > 1 ? ` of ${input.layers} layers` : ''}`;
  checkMemory(estimateMemory(shape(threads)), budget, what, shape(threads));
  return threads;
}

/**
 * The names the report shows: the given labels (one per input), else the file names without
 * `.npy`, or the paths themselves where two file names are the same.
 */
export function inputLabels(paths: readonly string[], labels?: readonly string[]): string[] {
  if (labels && labels.length) {
    if (labels.length !== paths.length) {
      throw new StatsError(`${labels.length} label(s) for ${paths.length} input(s): give one \`labels\` entry per input file, in the same order`);
    }
    return [...labels];
  }
  const stems = paths.map(inputStem);
  return new Set(stems).size === stems.length ? stems : [...paths];
}

function checkSampleRows(k: number | undefined): void {
  if (k === undefined || (Number.isInteger(k) && k >= 0 && k <= MAX_SAMPLE_ROWS)) return;
  throw new StatsError(`\`sampleRows\` must be a whole number from 0 to ${MAX_SAMPLE_ROWS}, got ${k}`);
}

async function analyzeSource(source: EmbeddingSource, index: number, names: TransformName[], opts: AnalyzeOptions, withDiagnostics: boolean, runner: PassRunner) {
  const warn = (m: string) => opts.onWarning?.(`${source.path}: ${m}`);
  for (const note of source.notes) warn(note);

  const progress = (pass: 1 | 2) => (rowsDone: number) =>
    opts.onProgress?.({ input: index, path: source.path, pass, rowsDone, rowsTotal: source.rows });
  const { acc, ordered } = await firstPass(source, names, { ...opts, onRows: progress(1), runner });

  const analysed = analyzeAccumulator(acc, names, opts, { ordered, label: source.path, axes: withDiagnostics });
  analysed.warnings.forEach((w) => warn(w));
  const views = diagnosticViews(analysed);

  if (!opts.onePass) {
    const second = await secondPass(source, passViews(views), { dropNonfinite: opts.dropNonfinite ?? false, blockRows: opts.blockRows, onRows: progress(2), runner });
    applySecondPass(analysed.results, second);
  }
  nullWarnings(analysed.results).forEach((w) => warn(w));

  let diagnostics: ViewDiagnostics[] | null = null;
  let sample: SampleInfo | null = null;
  if (withDiagnostics) {
    const { seed, rows } = await readSample(source, opts);
    ({ diagnostics, sample } = sampledDiagnostics(index, views, rows, source.dims, seed));
  }

  const info: InputInfo = {
    path: source.path,
    rows: source.rows,
    dims: source.dims,
    dtype: source.dtype,
    fortranOrder: source.fortranOrder,
    ...(source.shape.length !== 2 ? { shape: [...source.shape], layer: source.layer ?? undefined } : {}),
    droppedRows: acc.nonfiniteRows,
    zeroRows: acc.zeroRows,
  };
  analysed.results.forEach((r) => { r.input = index; });
  return { info, results: analysed.results, diagnostics, sample };
}

/**
 * The views the second pass reads: every result's map and moments, with the average cosine for
 * the transformed ones (the first pass has the raw rows').
 */
export function passViews(views: readonly DiagnosticView[]): PassView[] {
  return views.map((v) => ({ map: v.fitted?.map ?? null, moments: v.moments, cosine: v.fitted !== undefined }));
}

/**
 * Puts the second pass's I(W) of every view, and the transformed views' average cosines, into
 * `results`; a metric the first pass found undefined (every row zero) stays null, and the second
 * pass's own reasons (repeated eigenvalues of W'^T W', too few non-zero rows) join `nullReasons`.
 */
export function applySecondPass(results: TransformResult[], second: readonly SecondPassResult[]): void {
  results.forEach((r, k) => {
    const reasons = r.nullReasons ?? {};
    const why = reasons.partitionIsotropy ?? second[k].partitionIsotropyNull;
    r.partitionIsotropy = why ? null : second[k].partitionIsotropy;
    if (why) reasons.partitionIsotropy = why;
    if (k > 0) {
      r.avgCosine = reasons.avgCosine ? null : second[k].avgCosine;
      if (r.avgCosine === null && !reasons.avgCosine) reasons.avgCosine = 'fewer than 2 non-zero rows after the transform: the average cosine needs at least 2';
    }
    if (Object.keys(reasons).length) r.nullReasons = reasons;
  });
}

/**
 * The report's arrays of one input's views and the PCA sample's record, from the sampled rows
 * (`null` or none: no scatter).
 */
export function sampledDiagnostics(
  index: number,
  views: readonly DiagnosticView[],
  rows: { data: Float64Array; rows: number } | null,
  dims: number,
  seed: number,
): { diagnostics: ViewDiagnostics[]; sample: SampleInfo } {
  const diagnostics = viewDiagnostics(index, views, rows && rows.rows > 0 ? { ...rows, dims } : null);
  return { diagnostics, sample: { input: index, rows: rows?.rows ?? 0, seed } };
}

/** A view's two leading principal axes (`dims x cols`, cols <= 2) and its eigenvalues, for the PCA scatter. */
export interface ViewAxes {
  vectors: Float64Array;
  cols: number;
  values: Float64Array;
}

/**
 * The one-pass part of an analysis, from an accumulator alone: every metric but I(W) (null) and
 * the average cosine of transformed rows (null). `isotropy merge` stops here; {@link analyze}
 * then fills the two in with a second pass.
 *
 * Metrics that are undefined for the data are null with the reason in `nullReasons` (see
 * momentNullReasons) and one warning per reason.
 *
 * @param ctx.ordered  estimators fed with the rows in order, for transforms that need them
 * @param ctx.axes     also return each view's two leading principal axes (the report's PCA scatter)
 */
export function analyzeAccumulator(
  acc: StatsAccumulator,
  names: readonly TransformName[],
  params: TransformParams,
  ctx: { ordered?: Map<TransformName, RunningIsoBN>; label?: string; axes?: boolean } = {},
): {
  base: Moments; fitted: FittedTransform[]; moments: Moments[]; axes: Array<ViewAxes | null>; results: TransformResult[]; warnings: string[];
  rogueShares: Float64Array | null;
} {
  const warnings: string[] = [];
  const n = acc.count;
  const d = acc.dims;
  checkUsable(acc, ctx.label);
  if (n <= d) {
    warnings.push(`only ${n} rows for ${d} dimensions: the covariance has rank at most ${n - 1}, so the spectrum is rank-deficient (IsoScore is bounded by ${n - 1} of ${d} directions); use more rows than dimensions`);
  }
  if (acc.nonfiniteRows) warnings.push(`dropped ${acc.nonfiniteRows} row(s) holding NaN/Inf`);
  const base = momentsOf(acc);
  const constant = [...base.constant].flatMap((c, i) => (c ? [i] : []));
  if (constant.length === d) {
    warnings.push(n === acc.zeroRows
      ? 'every row is zero: no metric but the mean and the stds is defined'
      : 'every row is the same (zero variance in every dimension): the spread, correlation and spectrum metrics are undefined');
  } else if (constant.length) {
    const list = constant.slice(0, 10).join(', ') + (constant.length > 10 ? ', ...' : '');
    // IsoBN's factor (gamma_i s_i + eps)^-beta is largest where s_i = 0, and the rows are not
    // centred, so a constant dimension's value is what the IsoBN views amplify most.
    const isobnNote = names.some((t) => t === 'isobn' || t === 'isobn-running')
      ? '; IsoBN gives them its largest factor (eps^-beta), so their constant value weighs more in the IsoBN views (meanNorm, avgCosine): drop them first if they carry nothing (numpy: x[:, x.std(0) > 0])'
      : '';
    warnings.push(`${constant.length} constant dimension(s) (zero variance): ${list}; they are left out of the correlations${isobnNote}`);
  }

  // One decomposition of the input's covariance serves its metrics, its PCA axes and the fits of
  // whiten and abtt (each a d^3 job: seconds at d = 4096).
  const needVectors = Boolean(ctx.axes) || names.some((t) => t === 'whiten' || t === 'abtt');
  const baseEig = covEigen(base, { vectors: needVectors });
  const fitted = names.map((name) => fitTransform(name, base, params, ctx.ordered?.get(name), baseEig));
  fitted.forEach((f) => warnings.push(...f.warnings));
  const moments = fitted.map((f) => mapMoments(f.map, base));
  const eigens = [baseEig, ...moments.map((m) => covEigen(m, { vectors: ctx.axes, top: 2 }))];
  const axes = eigens.map((e): ViewAxes | null => (ctx.axes ? leadingAxes(e, 2) : null));

  const result = (transform: TransformResult['transform'], m: Moments, values: Float64Array, f?: FittedTransform): TransformResult => {
    const metrics = momentMetrics(m, values);
    const reasons = momentNullReasons(metrics, m.dims);
    let cos: number | null = null;
    if (transform === 'none') {
      cos = avgCosine(acc.unitSum, n - acc.zeroRows);
      if (cos === null) reasons.avgCosine = `${n - acc.zeroRows} non-zero row(s): the average cosine needs at least 2`;
    }
    if (isZeroView(m)) {
      const why = transform === 'none' ? 'every row is zero' : 'the transform maps every row to zero';
      reasons.partitionIsotropy = `${why}: Z(c) = n in every direction, which says nothing about isotropy`;
      reasons.avgCosine = `${why}: no direction to compare`;
    }
    return {
      input: 0,
      transform,
      ...metrics,
      partitionIsotropy: null,
      avgCosine: cos,
      ...(f?.scale ? { scale: Array.from(f.scale) } : {}),
      ...(f ? { params: f.params } : {}),
      ...(Object.keys(reasons).length ? { nullReasons: reasons } : {}),
    };
  };
  const results = [result('none', base, baseEig.values), ...fitted.map((f, k) => result(f.name, moments[k], eigens[k + 1].values, f))];
  // Rogue dimensions of the rows as read; the transformed rows' shares would need each view's
  // squared unit components, which the second pass does not keep.
  const nonzero = n - acc.zeroRows;
  const shares = acc.unitSq ? rogueShares(acc.unitSum, acc.unitSq, nonzero) : null;
  results[0].rogueDims = shares ? topRogueDims(shares) : null;
  if (!shares) {
    results[0].nullReasons = {
      ...results[0].nullReasons,
      rogueDims: acc.unitSq
        ? `fewer than 2 non-zero rows (${nonzero}): no pair to share a cosine`
        : 'the statistics were saved by an older isotropy without the per-dimension squared sums: run isotropy stats again to get them',
    };
  }
  return { base, fitted, moments, axes, results, warnings, rogueShares: shares };
}

/** True when every row of a view is 0: its mean and its covariance are exactly zero. */
function isZeroView(m: Moments): boolean {
  return m.constant.every((c) => c === 1) && m.mean.every((v) => v === 0);
}

/** The first `k` columns of an eigendecomposition's vectors, for the PCA scatter. */
function leadingAxes(e: PsdEigen, k: number): ViewAxes {
  const d = e.values.length;
  const cols = Math.min(k, e.cols);
  const vectors = new Float64Array(d * cols);
  for (let i = 0; i < d; i++) for (let j = 0; j < cols; j++) vectors[i * cols + j] = e.vectors![i * e.cols + j];
  return { vectors, cols, values: e.values };
}

/**
 * Warnings for the metrics that are null for a reason (`nullReasons`), one per reason with the
 * views it concerns, e.g. "isoScore, spectrum.top1 are n/a for none, isobn: no variance ...".
 */
export function nullWarnings(results: readonly TransformResult[]): string[] {
  const byReason = new Map<string, { paths: Set<string>; views: Set<string> }>();
  for (const r of results) {
    for (const [path, why] of Object.entries(r.nullReasons ?? {})) {
      const g = byReason.get(why) ?? { paths: new Set<string>(), views: new Set<string>() };
      g.paths.add(path);
      g.views.add(r.transform);
      byReason.set(why, g);
    }
  }
  return [...byReason].map(([why, g]) => `${[...g.paths].join(', ')} ${g.paths.size === 1 ? 'is' : 'are'} n/a (${[...g.views].join(', ')}): ${why}`);
}

/** Throws a StatsError unless the accumulator holds at least 2 rows. */
export function checkUsable(acc: StatsAccumulator, label?: string): void {
  const n = acc.count;
  const where = label ? `${label}: ` : '';
  if (n < 2) {
    const dropped = acc.nonfiniteRows ? ` (${acc.nonfiniteRows} dropped for NaN/Inf)` : '';
    throw new StatsError(`${where}${n} usable row${n === 1 ? '' : 's'}${dropped}: statistics need at least 2 rows`);
  }
  // Finite rows whose squares overflow float64 (|x| > 1e154) would turn every metric into NaN.
  const d = acc.dims;
  for (let i = 0; i < d; i++) {
    if (!Number.isFinite(acc.comoment[i * d + i]) || !Number.isFinite(acc.mean[i])) {
      throw new StatsError(`${where}values too large: the squares in dimension ${i} overflow float64 (|x| above about 1e154); rescale the embeddings`);
    }
  }
}
