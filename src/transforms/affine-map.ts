import { congruence, matmul } from '../linalg/index.js';
import { negligibleVarianceMask, type Moments } from '../stats/index.js';

/**
 * What a fitted transform does to one row x (length d):
 * - `diagonal`: x' = x * scale (elementwise), d' = d; IsoBN and standardization;
 * - `linear`:   x' = (x - shift) A with A `d x dOut` row-major; whitening and all-but-the-top.
 */
export type AffineMap =
  | { kind: 'diagonal'; scale: Float64Array }
  | { kind: 'linear'; matrix: Float64Array; dOut: number; shift: Float64Array };

/** Output dimension of a map applied to d-dimensional rows. */
export function outputDims(map: AffineMap, d: number): number {
  return map.kind === 'diagonal' ? d : map.dOut;
}

/** Applies a map to a row-major block; returns a new `rows x d'` array. */
export function applyMap(map: AffineMap, data: Float64Array, rows: number, d: number): Float64Array {
  if (map.kind === 'diagonal') {
    const out = new Float64Array(rows * d);
    const a = map.scale;
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      for (let c = 0; c < d; c++) out[o + c] = data[o + c] * a[c];
    }
    return out;
  }
  const centered = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    for (let c = 0; c < d; c++) centered[o + c] = data[o + c] - map.shift[c];
  }
  return matmul(centered, rows, d, map.matrix, map.dOut);
}

/**
 * Moments of the transformed rows, derived without the rows: mean' = (mean - shift) A and
 * cov' = A^T cov A (a shift does not change a covariance).
 */
export function mapMoments(map: AffineMap, m: Moments): Moments {
  const d = m.dims;
  if (map.kind === 'diagonal') {
    const a = map.scale;
    const cov = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] = a[i] * a[j] * m.cov[i * d + j];
    return {
      n: m.n,
      dims: d,
      mean: Float64Array.from(m.mean, (v, i) => v * a[i]),
      cov,
      constant: Uint8Array.from(m.constant, (c, i) => (c || a[i] === 0 ? 1 : 0)),
    };
  }
  const e = map.dOut;
  const centeredMean = Float64Array.from(m.mean, (v, i) => v - map.shift[i]);
  const mean = matmul(centeredMean, 1, d, map.matrix, e);
  const cov = congruence(m.cov, d, map.matrix, e);
  const constant = negligibleVarianceMask(cov, e);
  // Rounding leaves ~1e-34 on dimensions a projection emptied; make them exactly constant.
  for (let i = 0; i < e; i++) {
    if (!constant[i]) continue;
    for (let j = 0; j < e; j++) { cov[i * e + j] = 0; cov[j * e + i] = 0; }
  }
  return { n: m.n, dims: e, mean, cov, constant };
}
