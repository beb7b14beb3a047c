/**
 * A realistic {@link Analysis} with diagnostics, built in JS from seeded random embeddings, for the
 * report's tests and benchmark: a few latent factors, a common mean (the "narrow cone") and a few
 * outlier dimensions with a much larger spread, as in BERT's embeddings.
 *
 * The metrics come from the real pipeline (StatsAccumulator, analyzeAccumulator, secondPass); the
 * diagnostics are computed here the way the schema describes them.
 */
import { createHash } from 'node:crypto';
import { secondPass } from '../../src/analyze/second-pass.ts';
import { analyzeAccumulator } from '../../src/analyze/analyze.ts';
import { ANALYSIS_SCHEMA, type Analysis, type InputInfo, type TransformResult, type ViewDiagnostics } from '../../src/analyze/schema.ts';
import { matrixSource } from '../../src/io/index.ts';
import { StatsAccumulator, correlationMatrix, dimStds, type Moments } from '../../src/stats/index.ts';
import { applyMap, parseTransforms, startOrderedFit, type RunningIsoBN, type TransformName } from '../../src/transforms/index.ts';
import { gaussian, rng } from '../helpers/random.ts';

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
}

export const ALL_TRANSFORMS = 'isobn,isobn-running,standardize,whiten,abtt';

/** Seeded embeddings, `rows x dims` row-major. */
export function syntheticEmbeddings(rows: number, dims: number, seed: number): Float64Array {
  const g = gaussian(seed);
  const factors = Math.max(2, Math.min(16, Math.floor(dims / 8)));
  const load = Float64Array.from({ length: factors * dims }, () => g() * 0.6);
  const mean = Float64Array.from({ length: dims }, () => 0.8 + 0.3 * g());
  const spread = Float64Array.from({ length: dims }, () => 0.3 + 0.2 * Math.abs(g()));
  // outlier dimensions, a spread several times the rest (BERT's dims 308 and 381, say)
  const outliers = Math.max(2, Math.floor(dims / 64));
  for (let k = 0; k < outliers; k++) spread[Math.floor((k * 7919 + 3) % dims)] *= 6 + 2 * k;
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
  const names = parseTransforms(opts.transforms ?? ALL_TRANSFORMS);
  const sampleSize = opts.sample ?? 500;
  const seed = opts.seed ?? 7;
  const analysis: Analysis = {
    schema: ANALYSIS_SCHEMA,
    inputs: [],
    results: [],
    diagnostics: [],
    samples: [],
    tool: { name: 'isotropy-toolkit', version: '0.1.0', date: '2025-01-02T03:04:05.000Z' },
  };
  for (let input = 0; input < labels.length; input++) {
    const data = syntheticEmbeddings(rows, dims, seed + 101 * input);
    const acc = new StatsAccumulator(dims);
    acc.push(data, rows);
    const ordered = new Map<TransformName, RunningIsoBN>();
    for (const name of names) {
      const est = startOrderedFit(name, dims, {});
      if (est) {
        est.push(data, rows);
        ordered.set(name, est);
      }
    }
    const one = analyzeAccumulator(acc, names, {}, { ordered });
    if (opts.secondPass ?? true) {
      const views = [{ map: null, moments: one.base, cosine: false }, ...one.fitted.map((f, k) => ({ map: f.map, moments: one.moments[k], cosine: true }))];
      const second = await secondPass(matrixSource(data, rows, dims), views, { dropNonfinite: false });
      one.results.forEach((r, k) => {
        r.partitionIsotropy = second[k].partitionIsotropy;
        if (k > 0) r.avgCosine = second[k].avgCosine;
      });
    }
    one.results.forEach((r) => { r.input = input; });

    const sample = sampleRows(rows, Math.min(sampleSize, rows), seed + input);
    const sampled = new Float64Array(sample.length * dims);
    sample.forEach((row, k) => sampled.set(data.subarray(row * dims, (row + 1) * dims), k * dims));
    const diags = one.results.map((r: TransformResult, k: number): ViewDiagnostics => {
      const fitted = k === 0 ? null : one.fitted[k - 1];
      const m = k === 0 ? one.base : one.moments[k - 1];
      const e = m.dims;
      const rho = correlationMatrix(m.cov, e, m.constant);
      const rows2 = fitted ? applyMap(fitted.map, sampled, sample.length, dims) : sampled;
      const diag: ViewDiagnostics = {
        input,
        transform: r.transform,
        std: Array.from(dimStds(m.cov, e)),
        corrHistogram: corrHistogram(rho, e, m.constant),
        corrAbs: fitted?.map.kind === 'diagonal' ? null : { dims: e, encoding: 'u8-base64', data: absRaster(rho, e) },
        pca: pca(rows2, sample.length, m),
      };
      if (fitted?.name === 'isobn') diag.isobn = isobnIngredients(one.base.cov, dimStds(one.base.cov, dims), dims);
      if (fitted?.name === 'isobn-running') {
        const { cov, std } = ordered.get('isobn-running')!.finish();
        diag.isobn = isobnIngredients(cov, std, dims);
      }
      return diag;
    });

    const info: InputInfo = {
      path: `/data/embeddings/input-${input}.npy`,
      rows,
      dims,
      dtype: '<f4',
      fortranOrder: false,
      droppedRows: 0,
      zeroRows: 0,
      sha256: createHash('sha256').update(new Uint8Array(data.buffer)).digest('hex'),
      ...(labels[input] !== undefined ? { label: labels[input] } : {}),
    };
    analysis.inputs.push(info);
    analysis.results.push(...one.results);
    analysis.diagnostics!.push(...diags);
    analysis.samples!.push({ input, rows: sample.length, seed: seed + input });
  }
  return analysis;
}

/** `k` distinct row indices out of `n`, seeded (partial Fisher-Yates), in increasing order. */
function sampleRows(n: number, k: number, seed: number): number[] {
  const u = rng(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(u() * (n - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).sort((p, q) => p - q);
}

/** 40 bins over [-1, 1] of rho_ij, i < j, constant dims left out; the last bin closed. */
function corrHistogram(rho: Float64Array, d: number, constant: Uint8Array) {
  const bins = 40;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < d; i++) {
    if (constant[i]) continue;
    for (let j = i + 1; j < d; j++) {
      if (constant[j]) continue;
      counts[Math.min(bins - 1, Math.floor(((rho[i * d + j] + 1) / 2) * bins))]++;
    }
  }
  return { edges: Array.from({ length: bins + 1 }, (_, k) => -1 + (2 * k) / bins), counts };
}

function absRaster(rho: Float64Array, d: number): string {
  const bytes = Buffer.alloc(d * d);
  for (let i = 0; i < d * d; i++) bytes[i] = Math.round(255 * Math.min(1, Math.abs(rho[i])));
  return bytes.toString('base64');
}

/** gamma_i = mean_j rho_ij^2 with IsoBN's conventions for zero stds. */
function isobnIngredients(cov: Float64Array, std: Float64Array, d: number): { std: number[]; gamma: number[] } {
  const gamma = Array.from({ length: d }, (_, i) => {
    let g = 0;
    for (let j = 0; j < d; j++) {
      const r = std[i] === 0 || std[j] === 0 ? (i === j ? 1 : 0) : Math.min(1, Math.max(-1, cov[i * d + j] / (std[i] * std[j])));
      g += r * r;
    }
    return g / d;
  });
  return { std: Array.from(std), gamma };
}

/**
 * Sampled rows of a view centred on the view's mean and projected on the top two eigenvectors of
 * its covariance (orthogonal iteration: cheap at d = 1024, where a full eigh is not).
 */
function pca(x: Float64Array, n: number, m: Moments): ViewDiagnostics['pca'] {
  const e = m.dims;
  const u = gaussian(99);
  let v = [Float64Array.from({ length: e }, () => u()), Float64Array.from({ length: e }, () => u())];
  let lambda = [0, 0];
  for (let it = 0; it < 300; it++) {
    const w = v.map((vec) => {
      const out = new Float64Array(e);
      for (let i = 0; i < e; i++) {
        let s = 0;
        const o = i * e;
        for (let j = 0; j < e; j++) s += m.cov[o + j] * vec[j];
        out[i] = s;
      }
      return out;
    });
    // Gram-Schmidt, then order by Rayleigh quotient
    const n0 = Math.hypot(...w[0]) || 1;
    w[0] = w[0].map((t) => t / n0);
    let dot = 0;
    for (let i = 0; i < e; i++) dot += w[0][i] * w[1][i];
    w[1] = w[1].map((t, i) => t - dot * w[0][i]);
    const n1 = Math.hypot(...w[1]) || 1;
    w[1] = w[1].map((t) => t / n1);
    v = w;
    lambda = [n0, n1];
  }
  let trace = 0;
  for (let i = 0; i < e; i++) trace += m.cov[i * e + i];
  const xs: number[] = [];
  const ys: number[] = [];
  for (let r = 0; r < n; r++) {
    let a = 0, b = 0;
    for (let j = 0; j < e; j++) {
      const c = x[r * e + j] - m.mean[j];
      a += c * v[0][j];
      b += c * v[1][j];
    }
    xs.push(a);
    ys.push(b);
  }
  return { x: xs, y: ys, variance: [trace > 0 ? lambda[0] / trace : 0, trace > 0 ? lambda[1] / trace : 0] };
}
