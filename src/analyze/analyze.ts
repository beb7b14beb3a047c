import { openEmbeddings, type EmbeddingSource, type OpenOptions } from '../io/index.js';
import { analyzeLayers } from './analyze-layers.js';
import { inputStem } from './input-names.js';
import { isEmbeddingSource, isRowArray, openInput, type AnalyzeInput } from './inputs.js';
import { startProvenance } from './provenance.js';
import { StatsError, avgCosine, momentMetrics, momentsOf, rogueShares, topRogueDims, type Moments, type StatsAccumulator } from '../stats/index.js';
import {
  fitTransform, mapMoments, parseTransforms,
  type FittedTransform, type RunningIsoBN, type TransformName, type TransformParams,
} from '../transforms/index.js';
import { withEighSolver } from '../linalg/index.js';
import { diagnosticViews, viewDiagnostics, type DiagnosticView } from './diagnostics.js';
import { firstPass } from './first-pass.js';
import { Kernels } from './kernels.js';
import type { PassRunner } from './pass-runner.js';
import { DEFAULT_SAMPLE_ROWS, MAX_SAMPLE_ROWS, readRows, sampleIndices } from './sample.js';
import { ANALYSIS_SCHEMA, type Analysis, type InputInfo, type SampleInfo, type TransformResult, type ViewDiagnostics } from './schema.js';
import { secondPass, type PassView, type SecondPassResult } from './second-pass.js';
import { toolInfo } from './tool.js';

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
  /** compute threads for the wasm and js backends; default: the machine's cores, at most 8 */
  threads?: number;
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
 * @throws NpyError for unreadable files or inputs, StatsError for unusable data (fewer than 2
 *         rows, NaN without dropNonfinite), TransformError for bad transform names or parameters
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
  try {
    for (let i = 0; i < list.length; i++) {
      const input = list[i];
      const { source, owned } = Array.isArray(input) && !isRowArray(input)
        ? { source: await openEmbeddings(input as string[], openOptions(opts)), owned: true }
        : await openInput(input as AnalyzeInput, openOptions(opts));
      try {
        // Hashing streams the files alongside the first pass; the page cache serves the second reader.
        const provenance = startProvenance(typeof input === 'string' ? input : null, source);
        const one = source.layers
          ? await layered(source, i, names, opts, withDiagnostics, kernels)
          : await (async () => {
            const { runner, blockRows } = await kernels.forInput(source.rows, source.dims, opts.blockRows);
            return withEighSolver(runner.eigh, () => analyzeSource(source, i, names, { ...opts, blockRows }, withDiagnostics, runner));
          })();
        analysis.inputs.push({ ...one.info, ...(await provenance.finish()), label: labels[i] });
        analysis.results.push(...one.results);
        if (one.diagnostics) analysis.diagnostics!.push(...one.diagnostics);
        if (one.sample) analysis.samples!.push(one.sample);
      } finally {
        if (owned) await source.close();
      }
    }
  } finally {
    await kernels.close();
  }
  const backend = kernels.info();
  if (backend) analysis.backend = backend;
  return analysis;
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
async function layered(source: EmbeddingSource, i: number, names: TransformName[], opts: AnalyzeOptions, withDiagnostics: boolean, kernels: Kernels) {
  const k = source.layers!.length;
  const d = source.dims / k;
  const { runner, blockRows: perLayer } = await kernels.forInput(source.rows, d, opts.blockRows);
  // a block holds every layer: about 32 MiB of float64 in all, at least 256 rows, at most one layer's default
  const blockRows = opts.blockRows ?? Math.max(1, Math.min(perLayer, Math.max(256, Math.floor((32 << 20) / (source.dims * 8)))));
  return withEighSolver(runner.eigh, () => analyzeLayers(source, i, names, { ...opts, blockRows }, withDiagnostics, runner));
}

/**
 * The names the report shows: the given labels (one per input), else the file names without
 * `.npy`, or the paths themselves where two file names are the same.
 */
export function inputLabels(paths: readonly string[], labels?: readonly string[]): string[] {
  if (labels && labels.length) {
    if (labels.length !== paths.length) {
      throw new StatsError(`${labels.length} label(s) for ${paths.length} input(s): give one --label per input file, in the same order`);
    }
    return [...labels];
  }
  const stems = paths.map(inputStem);
  return new Set(stems).size === stems.length ? stems : [...paths];
}

function checkSampleRows(k: number | undefined): void {
  if (k === undefined || (Number.isInteger(k) && k >= 0 && k <= MAX_SAMPLE_ROWS)) return;
  throw new StatsError(`--sample-rows must be a whole number from 0 to ${MAX_SAMPLE_ROWS}, got ${k}`);
}

async function analyzeSource(source: EmbeddingSource, index: number, names: TransformName[], opts: AnalyzeOptions, withDiagnostics: boolean, runner: PassRunner) {
  const warn = (m: string) => opts.onWarning?.(`${source.path}: ${m}`);
  for (const note of source.notes) warn(note);

  const progress = (pass: 1 | 2) => (rowsDone: number) =>
    opts.onProgress?.({ input: index, path: source.path, pass, rowsDone, rowsTotal: source.rows });
  const { acc, ordered } = await firstPass(source, names, { ...opts, onRows: progress(1), runner });

  const analysed = analyzeAccumulator(acc, names, opts, { ordered, label: source.path });
  analysed.warnings.forEach((w) => warn(w));
  const views = diagnosticViews(analysed);

  if (!opts.onePass) {
    const second = await secondPass(source, passViews(views), { dropNonfinite: opts.dropNonfinite ?? false, blockRows: opts.blockRows, onRows: progress(2), runner });
    applySecondPass(analysed.results, second);
  }

  let diagnostics: ViewDiagnostics[] | null = null;
  let sample: SampleInfo | null = null;
  if (withDiagnostics) {
    const seed = opts.sampleSeed ?? 0;
    const want = Math.min(opts.sampleRows ?? DEFAULT_SAMPLE_ROWS, source.rows);
    const rows = want > 0 ? await readRows(source, sampleIndices(source.rows, want, seed)) : null;
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

/** Puts the second pass's I(W) of every view, and the transformed views' average cosines, into `results`. */
export function applySecondPass(results: TransformResult[], second: readonly SecondPassResult[]): void {
  results.forEach((r, k) => {
    r.partitionIsotropy = second[k].partitionIsotropy;
    if (k > 0) r.avgCosine = second[k].avgCosine;
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

/**
 * The one-pass part of an analysis, from an accumulator alone: every metric but I(W) (null) and
 * the average cosine of transformed rows (null). `isotropy merge` stops here; {@link analyze}
 * then fills the two in with a second pass.
 *
 * @param ctx.ordered  estimators fed with the rows in order, for transforms that need them
 */
export function analyzeAccumulator(
  acc: StatsAccumulator,
  names: readonly TransformName[],
  params: TransformParams,
  ctx: { ordered?: Map<TransformName, RunningIsoBN>; label?: string } = {},
): { base: Moments; fitted: FittedTransform[]; moments: Moments[]; results: TransformResult[]; warnings: string[]; rogueShares: Float64Array | null } {
  const warnings: string[] = [];
  const n = acc.count;
  const d = acc.dims;
  checkUsable(acc, ctx.label);
  if (n <= d) {
    warnings.push(`only ${n} rows for ${d} dimensions: the covariance has rank at most ${n - 1}, so the spectrum is rank-deficient (condition is null, IsoScore is bounded by ${n - 1} of ${d} directions); use more rows than dimensions`);
  }
  if (acc.nonfiniteRows) warnings.push(`dropped ${acc.nonfiniteRows} row(s) holding NaN/Inf`);
  const base = momentsOf(acc);
  const constant = [...base.constant].flatMap((c, i) => (c ? [i] : []));
  if (constant.length) {
    const list = constant.slice(0, 10).join(', ') + (constant.length > 10 ? ', ...' : '');
    warnings.push(`${constant.length} constant dimension(s) (zero variance): ${list}; they are left out of the correlations`);
  }

  const fitted = names.map((name) => fitTransform(name, base, params, ctx.ordered?.get(name)));
  fitted.forEach((f) => warnings.push(...f.warnings));
  const moments = fitted.map((f) => mapMoments(f.map, base));

  const result = (transform: TransformResult['transform'], m: Moments, f?: FittedTransform): TransformResult => ({
    input: 0,
    transform,
    ...momentMetrics(m),
    partitionIsotropy: null,
    avgCosine: transform === 'none' ? avgCosine(acc.unitSum, n - acc.zeroRows) : null,
    ...(f?.scale ? { scale: Array.from(f.scale) } : {}),
    ...(f ? { params: f.params } : {}),
  });
  const results = [result('none', base), ...fitted.map((f, k) => result(f.name, moments[k], f))];
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
  return { base, fitted, moments, results, warnings, rogueShares: shares };
}

/** Throws a StatsError unless the accumulator holds at least 2 rows. */
export function checkUsable(acc: StatsAccumulator, label?: string): void {
  const n = acc.count;
  if (n >= 2) return;
  const dropped = acc.nonfiniteRows ? ` (${acc.nonfiniteRows} dropped for NaN/Inf)` : '';
  throw new StatsError(`${label ? `${label}: ` : ''}${n} usable row${n === 1 ? '' : 's'}${dropped}: statistics need at least 2 rows`);
}
