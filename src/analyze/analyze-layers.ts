import type { EmbeddingSource } from '../io/index.js';
import type { TransformName } from '../transforms/index.js';
import { analyzeAccumulator, applySecondPass, nullWarnings, passViews, sampledDiagnostics, type AnalyzeOptions } from './analyze.js';
import { diagnosticViews } from './diagnostics.js';
import { firstPassLayers, layerRows, secondPassLayers } from './layered-passes.js';
import type { PassRunner } from './pass-runner.js';
import { readSample } from './sample.js';
import type { InputInfo, SampleInfo, TransformResult, ViewDiagnostics } from './schema.js';

/**
 * One input holding several layers side by side (`source.layers`), analysed in the same passes:
 * every layer's results (each with its `layer`), as if each layer had been analysed alone.
 * The PCA sample is the same rows for every layer.
 */
export async function analyzeLayers(
  source: EmbeddingSource,
  index: number,
  names: TransformName[],
  opts: AnalyzeOptions,
  withDiagnostics: boolean,
  runner: PassRunner,
): Promise<{ info: InputInfo; results: TransformResult[]; diagnostics: ViewDiagnostics[] | null; sample: SampleInfo | null }> {
  const layers = source.layers!;
  const d = source.dims / layers.length;
  const warn = (m: string) => opts.onWarning?.(`${source.path}: ${m}`);
  for (const note of source.notes) warn(note);
  const progress = (pass: 1 | 2) => (rowsDone: number) =>
    opts.onProgress?.({ input: index, path: source.path, pass, rowsDone, rowsTotal: source.rows });

  const first = await firstPassLayers(source, names, { ...opts, onRows: progress(1), runner });
  const analysed = first.map(({ acc, ordered }, j) => {
    const one = analyzeAccumulator(acc, names, opts, { ordered, label: `${source.path} (layer ${layers[j]})`, axes: withDiagnostics });
    one.warnings.forEach((w) => warn(`layer ${layers[j]}: ${w}`));
    return one;
  });
  const views = analysed.map((a) => diagnosticViews(a));
  if (!opts.onePass) {
    const second = await secondPassLayers(source, views.map(passViews), { dropNonfinite: opts.dropNonfinite ?? false, blockRows: opts.blockRows, onRows: progress(2), runner });
    analysed.forEach((a, j) => applySecondPass(a.results, second[j]));
  }
  analysed.forEach((a, j) => nullWarnings(a.results).forEach((w) => warn(`layer ${layers[j]}: ${w}`)));

  let diagnostics: ViewDiagnostics[] | null = null;
  let sample: SampleInfo | null = null;
  if (withDiagnostics) {
    const { seed, rows } = await readSample(source, opts);
    diagnostics = [];
    views.forEach((v, j) => {
      const mine = rows ? { data: layerRows(rows.data, rows.rows, layers.length, d, j), rows: rows.rows } : null;
      const one = sampledDiagnostics(index, v, mine, d, seed);
      one.diagnostics.forEach((x) => (x.layer = layers[j]));
      diagnostics!.push(...one.diagnostics);
      sample = one.sample;
    });
  }

  const results = analysed.flatMap((a, j) => a.results.map((r) => ({ ...r, input: index, layer: layers[j] })));
  const info: InputInfo = {
    path: source.path,
    rows: source.rows,
    dims: d,
    dtype: source.dtype,
    fortranOrder: source.fortranOrder,
    shape: [...source.shape],
    layers: [...layers],
    // rows dropped for NaN/Inf differ per layer: the most any layer dropped (each result's layer is analysed alone)
    droppedRows: Math.max(...first.map((f) => f.acc.nonfiniteRows)),
    zeroRows: Math.max(...first.map((f) => f.acc.zeroRows)),
  };
  return { info, results, diagnostics, sample };
}
