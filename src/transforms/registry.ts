import type { Moments, PsdEigen } from '../stats/index.js';
import { quote } from '../io/errors.js';
import { abttMap } from './abtt.js';
import type { AffineMap } from './affine-map.js';
import { TransformError } from './errors.js';
import { isobnFactors, isobnOptions } from './isobn.js';
import { RunningIsoBN } from './isobn-running.js';
import { standardizeMap } from './standardize.js';
import { whitenMap } from './whiten.js';

/** Every transform by its `--transform` / `--method` name. */
export const TRANSFORM_NAMES = ['isobn', 'isobn-running', 'standardize', 'whiten', 'abtt'] as const;
export type TransformName = (typeof TRANSFORM_NAMES)[number];

/** All transform parameters; each transform reads the ones it has. */
export interface TransformParams {
  /** isobn, isobn-running: default 1e-3 */
  eps?: number;
  /** isobn, isobn-running: default 0.5 */
  beta?: number;
  /** isobn-running: default 16 */
  batchSize?: number;
  /** isobn-running: default 0.05 */
  momentum?: number;
  /** isobn-running: also update on a short final batch (default false, as DataLoader(drop_last=True)) */
  keepLastBatch?: boolean;
  /** whiten: components kept, default all */
  keep?: number;
  /** abtt: top directions removed, default max(1, round(d / 100)) */
  remove?: number;
}

/** A transform fitted to one input: its map, the parameters it used, and its notes. */
export interface FittedTransform {
  name: TransformName;
  /** the parameters in effect, defaults filled in */
  params: Record<string, number>;
  map: AffineMap;
  /** IsoBN's per-dimension factors a_i (isobn, isobn-running) */
  scale?: Float64Array;
  /** what IsoBN's factors were computed from: the stds s_i and gamma_i = mean_j rho_ij^2 */
  isobn?: { std: Float64Array; gamma: Float64Array };
  warnings: string[];
}

/**
 * Parses a comma-separated list (or several) of transform names. `none` alone means no transform;
 * duplicates are dropped, order is kept.
 * @throws TransformError for an unknown name, listing the known ones
 */
export function parseTransforms(spec: string | readonly string[]): TransformName[] {
  const parts = (Array.isArray(spec) ? spec : [spec]).flatMap((s: string) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  const out: TransformName[] = [];
  for (const p of parts) {
    if (p === 'none') continue;
    if (!(TRANSFORM_NAMES as readonly string[]).includes(p)) {
      throw new TransformError(`unknown transform ${quote(p)}: choose from none, ${TRANSFORM_NAMES.join(', ')}`);
    }
    if (!out.includes(p as TransformName)) out.push(p as TransformName);
  }
  return out;
}

/** True for transforms fitted from the rows in their order (not from the moments alone). */
export function needsOrderedRows(name: TransformName): boolean {
  return name === 'isobn-running';
}

/** Starts the ordered-rows estimator of a transform that needs one ({@link needsOrderedRows}). */
export function startOrderedFit(name: TransformName, dims: number, params: TransformParams): RunningIsoBN | null {
  if (name !== 'isobn-running') return null;
  return new RunningIsoBN(dims, { batchSize: params.batchSize, momentum: params.momentum, keepLastBatch: params.keepLastBatch });
}

/**
 * Fits a transform to the moments of the input (and, for isobn-running, to the estimator that saw
 * the rows in order).
 *
 * @param eig  the input covariance's eigendecomposition with vectors, when already computed
 *             (whiten and abtt reuse it instead of decomposing again)
 */
export function fitTransform(name: TransformName, m: Moments, params: TransformParams = {}, running?: RunningIsoBN | null, eig?: PsdEigen): FittedTransform {
  switch (name) {
    case 'isobn': {
      const opts = isobnOptions(params);
      const std = Float64Array.from({ length: m.dims }, (_, i) => Math.sqrt(m.cov[i * m.dims + i]));
      const { gamma, scale } = isobnFactors(m.cov, std, opts);
      return { name, params: { ...opts }, map: { kind: 'diagonal', scale }, scale, isobn: { std, gamma }, warnings: [] };
    }
    case 'isobn-running': {
      if (!running) {
        throw new TransformError('isobn-running needs the rows in their original order: it cannot be computed from saved statistics');
      }
      const opts = isobnOptions(params);
      const { std, gamma, scale } = running.factors(opts);
      if (running.batches === 0) {
        throw new TransformError(`isobn-running: ${running.droppedRows} row(s) make no full batch of ${running.batchSize}, and a short final batch is dropped as in training (drop_last): use a smaller \`batchSize\` or set \`keepLastBatch\``);
      }
      const warnings = running.batches < 50
        ? [`isobn-running: only ${running.batches} batches, so the running estimates still carry their zero start (factor ${(1 - (1 - running.momentum) ** running.batches).toFixed(2)})`]
        : [];
      return {
        name,
        params: { ...opts, batchSize: running.batchSize, momentum: running.momentum, keepLastBatch: running.keepLastBatch ? 1 : 0 },
        map: { kind: 'diagonal', scale },
        scale,
        isobn: { std, gamma },
        warnings,
      };
    }
    case 'standardize':
      return { name, params: {}, map: standardizeMap(m), warnings: [] };
    case 'whiten': {
      const w = whitenMap(m, params.keep, eig);
      return { name, params: { keep: w.keep }, map: w.map, warnings: w.warnings };
    }
    case 'abtt': {
      const a = abttMap(m, params.remove, eig);
      return { name, params: { remove: a.remove }, map: a.map, warnings: [] };
    }
  }
}
