/**
 * A realistic {@link Analysis} with diagnostics, built in JS from seeded random embeddings, for the
 * report's tests and benchmark: a few latent factors, a common mean (the "narrow cone") and a few
 * outlier dimensions with a much larger spread, as in BERT's embeddings.
 *
 * Everything comes from the real pipeline (`analyze` on in-memory rows); only the provenance is
 * fixed (paths, hashes, date) so that rendered pages are the same on every run.
 */
import { createHash } from 'node:crypto';
import { analyze } from '../../src/analyze/analyze.ts';
import type { Analysis } from '../../src/analyze/schema.ts';
import type { Chart } from '../../src/report/charts/common.ts';
import { CHARTS } from '../../src/report/charts/index.ts';
import { matrixSource } from '../../src/io/index.ts';
import { gaussian } from '../helpers/random.ts';

export interface FixtureOptions {
  rows?: number;
  dims?: number;
  /** one label per input (undefined: no label, the report uses the file name); default [undefined] */
  labels?: (string | undefined)[];
  /** default all: isobn, isobn-running, standardize, whiten, abtt */
  transforms?: string;
  /** PCA sample size; default 500 */
  sample?: number;
  seed?: number;
  /** run the second pass for I(W) and the transformed average cosines; default true */
  secondPass?: boolean;
  /** rogue dimensions per input (large same-signed values, as BERT's), one number per input; default none */
  rogue?: number[];
}

export const ALL_TRANSFORMS = 'isobn,isobn-running,standardize,whiten,abtt';

/** Every chart builder by its id, in the order of the page, but the one that needs several layers. */
export const CHART_BUILDERS: [string, (a: Analysis) => Chart | null][] = CHARTS
  .filter((c) => c.id !== 'layer-metrics')
  .map((c) => [c.id, c.build]);

/** The ids of the charts of a page without layers, in order. */
export const PAGE_CHARTS = CHART_BUILDERS.map(([id]) => id);

/**
 * Seeded embeddings, `rows x dims` row-major. `rogue` dimensions get a large offset of one sign
 * (3 to 5 times the typical spread of a row) and a spread to match, like the few dimensions that
 * dominate BERT's cosine similarities.
 */
export function syntheticEmbeddings(rows: number, dims: number, seed: number, rogue = 0): Float64Array {
  const g = gaussian(seed);
  const factors = Math.max(2, Math.min(16, Math.floor(dims / 8)));
  const load = Float64Array.from({ length: factors * dims }, () => g() * 0.6);
  const mean = Float64Array.from({ length: dims }, () => 0.8 + 0.3 * g());
  const spread = Float64Array.from({ length: dims }, () => 0.3 + 0.2 * Math.abs(g()));
  // outlier dimensions, a spread several times the rest (BERT's dims 308 and 381, say)
  const outliers = Math.max(2, Math.floor(dims / 64));
  for (let k = 0; k < outliers; k++) spread[Math.floor((k * 7919 + 3) % dims)] *= 6 + 2 * k;
  for (let k = 0; k < rogue; k++) {
    const i = Math.floor((k * 104729 + 11 + seed) % dims);
    mean[i] = (k % 2 ? -1 : 1) * (12 - 2 * k) * Math.sqrt(factors) * 0.5;
    spread[i] *= 4;
  }
  const out = new Float64Array(rows * dims);
  const z = new Float64Array(factors);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < factors; f++) z[f] = g() * (1 + 2 / (f + 1));
    const o = r * dims;
    for (let j = 0; j < dims; j++) {
      let s = mean[j] + spread[j] * g();
      for (let f = 0; f < factors; f++) s += z[f] * load[f * dims + j];
      out[o + j] = s;
    }
  }
  return out;
}

/** Builds the analysis; see {@link FixtureOptions} for the defaults (120 x 24, one input). */
export async function fixtureAnalysis(opts: FixtureOptions = {}): Promise<Analysis> {
  const rows = opts.rows ?? 120;
  const dims = opts.dims ?? 24;
  const labels = opts.labels ?? [undefined];
  const seed = opts.seed ?? 7;
  const data = labels.map((_, input) => syntheticEmbeddings(rows, dims, seed + 101 * input, opts.rogue?.[input] ?? 0));
  const a = await analyze(data.map((x) => matrixSource(x, rows, dims)), {
    transforms: opts.transforms ?? ALL_TRANSFORMS,
    onePass: !(opts.secondPass ?? true),
    sampleRows: Math.min(opts.sample ?? 500, 5000),
    sampleSeed: seed,
    // Pinned kernels: whitened views have noise-level correlations and a degenerate PCA, which
    // another backend's rounding (OpenBLAS where it is installed) would redraw.
    backend: 'js',
    threads: 1,
  });
  a.inputs.forEach((info, input) => {
    info.path = `/data/embeddings/input-${input}.npy`;
    info.dtype = '<f4';
    info.sha256 = createHash('sha256').update(new Uint8Array(data[input].buffer)).digest('hex');
    if (labels[input] === undefined) delete info.label;
    else info.label = labels[input];
  });
  a.tool = { name: 'isotropy-toolkit', version: '0.1.0', date: '2025-01-02T03:04:05.000Z' };
  return a;
}

/**
 * An analysis of several layers of each input, as `--layers` makes it (one result per input, layer
 * and transform, each carrying `layer`; `inputs[i].layers`): each layer is analysed as its own
 * in-memory input, deeper layers with more rogue dimensions, then the inputs are folded together.
 */
export async function layeredAnalysis(opts: FixtureOptions & { layers?: number } = {}): Promise<Analysis> {
  const layers = opts.layers ?? 4;
  const labels = opts.labels ?? ['BERT'];
  const flat = labels.flatMap((label) => Array.from({ length: layers }, () => label));
  const rogue = labels.flatMap((_, i) => Array.from({ length: layers }, (__, l) => Math.min(5, l + (opts.rogue?.[i] ?? 0))));
  const a = await fixtureAnalysis({ ...opts, labels: flat, rogue });
  const inputs = labels.map((label, i) => ({
    ...a.inputs[i * layers],
    path: `/data/embeddings/layers-${i}.npy`,
    shape: [a.inputs[i * layers].rows, layers, a.inputs[i * layers].dims],
    layers: Array.from({ length: layers }, (_, l) => l),
    ...(label === undefined ? {} : { label }),
  }));
  const fold = <T extends { input: number; layer?: number }>(x: T): T => ({ ...x, input: Math.floor(x.input / layers), layer: x.input % layers });
  return {
    ...a,
    inputs,
    results: a.results.map(fold),
    diagnostics: a.diagnostics?.map(fold),
    samples: a.samples?.filter((s) => s.input % layers === 0).map((s) => ({ ...s, input: s.input / layers })),
  };
}
