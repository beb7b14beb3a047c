/**
 * The probe: does IsoBN help a classifier trained on frozen embeddings? Linear and one-hidden-layer
 * classifiers, with and without an IsoBN layer in front, stratified k-fold cross-validation over
 * several seeds, and the isotropy of what each classifier sees.
 */
import * as tf from '@tensorflow/tfjs-core';
import { analyze } from '../analyze/index.js';
import { initBackend } from '../extract/backend.js';
import { matrixSource } from '../io/index.js';
import { ISOBN_DEFAULTS, RUNNING_DEFAULTS } from '../transforms/index.js';
import { ProbeError } from './errors.js';
import { stratifiedFolds, mixSeed } from './folds.js';
import type { EncodedLabels } from './labels.js';
import { loadProbeInput, type ProbeInputOptions } from './load.js';
import { PROBE_ISOTROPY_METRICS, PROBE_SCHEMA, type ProbeArm, type ProbeIsotropyMetric, type ProbeModel, type ProbeResult, type Summary } from './schema.js';
import { trainRun, type ProbeData } from './train.js';

/** The probe's settings; every one has a default. */
export interface ProbeOptions {
  /** folds of the stratified cross-validation, >= 2; default 5 */
  folds?: number;
  /** how many seeds (fold splits, initial weights, batch orders) to repeat the cross-validation over; default 5 */
  seeds?: number;
  /** the first seed; the others follow it; default 0 */
  seed?: number;
  /** training epochs per run; default 50 */
  epochs?: number;
  /** rows per training batch (full batches only); default 32 */
  batchSize?: number;
  /** Adam's learning rate; default 1e-3 */
  learningRate?: number;
  /** hidden units of the mlp; default 128 */
  hidden?: number;
  /** classifiers to train; default both */
  models?: readonly ProbeModel[];
  /** also train every classifier behind an IsoBN layer; default false */
  isobn?: boolean;
  /** the IsoBN layer's options (official defaults: momentum 0.05, eps 1e-3, beta 0.5) */
  momentum?: number;
  eps?: number;
  beta?: number;
  /** tfjs backend for training: cpu (default; plain JS, the same numbers everywhere) or wasm */
  backend?: 'cpu' | 'wasm';
  /** compute the isotropy of each classifier's input; default true */
  isotropy?: boolean;
  /** called after each run with (runs done, runs in all) */
  onProgress?: (done: number, total: number) => void;
  /** called with each warning (once per distinct message) */
  onWarning?: (message: string) => void;
}

/** Options of {@link probeFiles}: the probe's, and how to read the two files. */
export interface ProbeFilesOptions extends ProbeOptions, Omit<ProbeInputOptions, 'onWarning'> {}

/**
 * {@link probe} on an embeddings file (any format the analysis reads: .npy, .npz, safetensors,
 * Parquet, Arrow, HDF5, GloVe/word2vec, CSV/TSV, JSONL; `layer`, `key`, `column`, `field` pick the
 * array) and a labels file: one label per row, in order, or (`labelWord`) labels joined to the
 * words of a GloVe/word2vec file. See {@link loadProbeInput}.
 *
 * @throws ProbeError for bad labels (a count that differs from the rows, one class only,
 *   non-numeric labels with `threshold`, unreadable files) and bad options; NpyError for the
 *   embeddings file; StatsError for a NaN/Inf row without `dropNonfinite`
 */
export async function probeFiles(embeddings: string, labels: string, opts: ProbeFilesOptions = {}): Promise<ProbeResult> {
  const input = await loadProbeInput(embeddings, labels, opts);
  const result = await probe({ data: input.data, rows: input.rows, dims: input.dims, path: embeddings }, input.labels, opts);
  if (input.layer !== null) result.input.layer = input.layer;
  if (input.droppedRows > 0) result.input.droppedRows = input.droppedRows;
  if (input.unlabelledRows !== null) result.input.unlabelledRows = input.unlabelledRows;
  result.labels.path = labels;
  if (opts.threshold !== undefined) result.labels.threshold = opts.threshold;
  if (opts.labelWord !== undefined) result.labels.joinedOn = opts.labelWord;
  return result;
}

/**
 * Trains each classifier (`models`), with and (when `isobn`) without an IsoBN layer in front, on
 * every fold of a stratified k-fold split, for `seeds` seeds, and reports held-out accuracy,
 * epochs to reach the final accuracy, and the isotropy of the classifier's input.
 *
 * Runs with and without IsoBN share their fold split, initial weights and batch order, so the
 * comparison is paired. Deterministic for given options on a given backend (cpu by default):
 * seeded folds, initializers and shuffles, no dropout.
 *
 * @param x  `rows x dims` row-major embeddings (finite)
 * @param y  labels as classes (see `encodeLabels`)
 * @throws ProbeError for bad options, non-finite rows, fewer labels than rows
 */
export async function probe(
  x: { data: Float64Array | Float32Array; rows: number; dims: number; path?: string },
  y: EncodedLabels,
  opts: ProbeOptions = {},
): Promise<ProbeResult> {
  const p = probeParams(opts, x.rows);
  const { rows, dims } = x;
  if (y.y.length !== rows) throw new ProbeError(`${y.y.length} labels for ${rows} rows: give one label per row`);
  if (y.classes.length < 2) throw new ProbeError('a probe needs at least two classes');
  for (let i = 0; i < rows * dims; i++) {
    if (!Number.isFinite(x.data[i])) throw new ProbeError(`${x.path ?? 'input'}: row ${Math.floor(i / dims)} holds NaN or Inf; drop it (and its label) first`);
  }
  const warned = new Set<string>();
  const warn = (m: string) => {
    if (!warned.has(m)) opts.onWarning?.(m);
    warned.add(m);
  };
  const smallest = Math.min(...y.counts);
  if (smallest < p.folds) warn(`the smallest class has ${smallest} rows, fewer than the ${p.folds} folds: some folds do not test it`);

  const backend = await initBackend(p.backend);
  const data: ProbeData = {
    x: tf.tensor2d(Float32Array.from(x.data), [rows, dims]),
    y: tf.tensor1d(y.y, 'int32'),
    labels: y.y,
    classes: y.classes.length,
  };
  const isobnArgs = p.isobn;
  const variants = p.models.flatMap((model) => [{ model, isobn: false }, ...(isobnArgs ? [{ model, isobn: true }] : [])]);
  const runs = variants.map(() => [] as { seed: number; fold: number; accuracy: number; epochsToFinal: number; curve: number[]; scale?: Float64Array }[]);
  const total = p.seeds * p.folds * variants.length;
  let done = 0;
  try {
    for (let s = 0; s < p.seeds; s++) {
      const seed = p.seed + s;
      const fold = stratifiedFolds(y.y, y.classes.length, p.folds, mixSeed(seed, 0xf01d));
      for (let f = 0; f < p.folds; f++) {
        const train: number[] = [];
        const test: number[] = [];
        for (let i = 0; i < rows; i++) (fold[i] === f ? test : train).push(i);
        if (test.length === 0 || train.length === 0) continue;
        for (let v = 0; v < variants.length; v++) {
          const { model, isobn } = variants[v];
          const r = trainRun(data, Int32Array.from(train), Int32Array.from(test), {
            model,
            isobn: isobn ? isobnArgs : null,
            hidden: p.hidden,
            epochs: p.epochs,
            batchSize: p.batchSize,
            learningRate: p.learningRate,
            seed: mixSeed(seed, f, p.models.indexOf(model)),
          });
          runs[v].push({ seed, fold: f, ...r });
          opts.onProgress?.(++done, total);
          // let timers (progress on a TTY) run between the synchronous training runs
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    }
  } finally {
    tf.dispose([data.x, data.y]);
  }

  const plainIsotropy = p.isotropy ? await isotropyOf(Float64Array.from(x.data), rows, dims, warn) : null;
  const arms: ProbeArm[] = [];
  for (let v = 0; v < variants.length; v++) {
    const rs = runs[v];
    let isotropy: ProbeArm['isotropy'] = null;
    if (p.isotropy && plainIsotropy) {
      if (!variants[v].isobn) {
        isotropy = mapMetrics((m) => (plainIsotropy[m] === null ? null : { mean: plainIsotropy[m]!, std: 0 }));
      } else {
        const per: Record<ProbeIsotropyMetric, number | null>[] = [];
        for (const r of rs) per.push(await isotropyOf(scaled(x.data, rows, dims, r.scale!), rows, dims, warn));
        isotropy = mapMetrics((m) => summaryOrNull(per.map((q) => q[m])));
      }
    }
    const curve = rs[0].curve.map((_, e) => rs.reduce((a, r) => a + r.curve[e], 0) / rs.length);
    let vsPlain: ProbeArm['vsPlain'];
    if (variants[v].isobn) {
      // the plain run of the same model is the variant just before this one
      const delta = rs.map((r, k) => r.accuracy - runs[v - 1][k].accuracy);
      vsPlain = { ...summary(delta), better: delta.filter((x) => x > 0).length, worse: delta.filter((x) => x < 0).length, same: delta.filter((x) => x === 0).length };
    }
    arms.push({
      model: variants[v].model,
      isobn: variants[v].isobn,
      accuracy: summary(rs.map((r) => r.accuracy)),
      epochsToFinal: summary(rs.map((r) => r.epochsToFinal)),
      ...(vsPlain ? { vsPlain } : {}),
      curve,
      runs: rs.map(({ seed, fold, accuracy, epochsToFinal }) => ({ seed, fold, accuracy, epochsToFinal })),
      isotropy,
    });
  }
  return {
    schema: PROBE_SCHEMA,
    input: { path: x.path ?? '<memory>', rows, dims },
    labels: { path: '<memory>', classes: y.classes.map((name, i) => ({ name, count: y.counts[i] })) },
    majority: Math.max(...y.counts) / rows,
    params: {
      folds: p.folds, seeds: p.seeds, seed: p.seed, epochs: p.epochs, batchSize: p.batchSize, learningRate: p.learningRate,
      hidden: p.hidden, models: [...p.models], isobn: isobnArgs, backend,
    },
    arms,
  };
}

function probeParams(opts: ProbeOptions, rows: number) {
  const int = (name: string, flag: string, v: number | undefined, dflt: number, min: number, max = Infinity): number => {
    const x = v ?? dflt;
    if (!Number.isInteger(x) || x < min || x > max) {
      throw new ProbeError(`${flag} (${name}) must be a whole number ${max === Infinity ? `>= ${min}` : `from ${min} to ${max}`}, got ${x}`);
    }
    return x;
  };
  const folds = int('folds', '--folds', opts.folds, 5, 2, rows);
  const seeds = int('seeds', '--seeds', opts.seeds, 5, 1);
  const seed = int('seed', '--seed', opts.seed, 0, 0, 2 ** 31);
  const epochs = int('epochs', '--epochs', opts.epochs, 50, 1);
  const batchSize = int('batchSize', '--batch-size', opts.batchSize, 32, opts.isobn ? 2 : 1);
  const hidden = int('hidden', '--hidden', opts.hidden, 128, 1);
  const learningRate = opts.learningRate ?? 1e-3;
  if (!(learningRate > 0 && Number.isFinite(learningRate))) throw new ProbeError(`--lr (learningRate) must be a positive number, got ${learningRate}`);
  const models: ProbeModel[] = [...new Set<ProbeModel>(opts.models ?? ['linear', 'mlp'])];
  for (const m of models) if (m !== 'linear' && m !== 'mlp') throw new ProbeError(`unknown probe model ${JSON.stringify(m)}: use linear, mlp or both`);
  if (models.length === 0) throw new ProbeError('--models (models) names no classifier: use linear, mlp or both');
  const backend = opts.backend ?? 'cpu';
  if (backend !== 'cpu' && backend !== 'wasm') throw new ProbeError(`--backend (backend) must be cpu or wasm, got ${JSON.stringify(backend)}`);
  let isobn: { momentum: number; eps: number; beta: number } | null = null;
  if (opts.isobn) {
    isobn = { momentum: opts.momentum ?? RUNNING_DEFAULTS.momentum, eps: opts.eps ?? ISOBN_DEFAULTS.eps, beta: opts.beta ?? ISOBN_DEFAULTS.beta };
    if (!(isobn.momentum > 0 && isobn.momentum <= 1)) throw new ProbeError(`--momentum must be in (0, 1], got ${isobn.momentum}`);
    if (!(Number.isFinite(isobn.eps) && isobn.eps >= 0)) throw new ProbeError(`--eps must be a finite number >= 0, got ${isobn.eps}`);
    if (!Number.isFinite(isobn.beta)) throw new ProbeError(`--beta must be a finite number, got ${isobn.beta}`);
  }
  return { folds, seeds, seed, epochs, batchSize, hidden, learningRate, models, backend, isobn, isotropy: opts.isotropy ?? true } as const;
}

function summary(v: number[]): Summary {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
  return { mean, std: Math.sqrt(variance) };
}

function summaryOrNull(v: (number | null)[]): Summary | null {
  return v.some((x) => x === null) ? null : summary(v as number[]);
}

function mapMetrics<T>(f: (m: ProbeIsotropyMetric) => T): Record<ProbeIsotropyMetric, T> {
  return Object.fromEntries(PROBE_ISOTROPY_METRICS.map((m) => [m, f(m)])) as Record<ProbeIsotropyMetric, T>;
}

function scaled(data: Float64Array | Float32Array, rows: number, dims: number, scale: Float64Array): Float64Array {
  const out = new Float64Array(rows * dims);
  for (let i = 0; i < rows * dims; i++) out[i] = data[i] * Math.fround(scale[i % dims]);
  return out;
}

/** The probe's isotropy metrics of a matrix, by the analysis itself. */
async function isotropyOf(data: Float64Array, rows: number, dims: number, warn: (m: string) => void): Promise<Record<ProbeIsotropyMetric, number | null>> {
  const a = await analyze([matrixSource(data, rows, dims)], { transforms: 'none', diagnostics: false, onWarning: warn });
  const r = a.results[0];
  return { isoScore: r.isoScore, 'std.cv': r.std.cv, 'spectrum.effectiveRank': r.spectrum.effectiveRank, avgCosine: r.avgCosine, partitionIsotropy: r.partitionIsotropy };
}
