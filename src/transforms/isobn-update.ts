import { addGramUpper } from '../linalg/index.js';

/**
 * One training step of IsoBN's running estimates, as the official module does it (INK-USC/IsoBN,
 * `model.py`): the batch's biased covariance C_b and std s_b (divide by the batch size), then
 * C += m (C_b - C) and s += m (s_b - s), in place.
 *
 * The one implementation of this update: `isobn-running` replays it over a file and the tfjs
 * `IsoBN` layer runs it on every training batch, so both see the same numbers (float64 here; the
 * layer stores the result in float32 weights).
 *
 * A batch of one row has zero covariance and zero std (it still pulls the estimates towards zero,
 * as it would in the official code).
 *
 * @param cov       running `dims x dims` covariance, row-major, updated in place (kept symmetric)
 * @param std       running per-dimension std, updated in place
 * @param batch     `rows x dims` row-major values (float32 or float64); must be finite
 * @param momentum  weight of this batch, in (0, 1]; the official default is 0.05
 * @param scratch   optional `dims x dims` buffer reused between calls
 */
export function isobnRunningUpdate(
  cov: Float64Array,
  std: Float64Array,
  batch: Float64Array | Float32Array,
  rows: number,
  dims: number,
  momentum: number,
  scratch: Float64Array = new Float64Array(dims * dims),
): void {
  const d = dims, b = rows, m = momentum;
  if (b < 1) return;
  const mean = new Float64Array(d);
  for (let r = 0; r < b; r++) for (let c = 0; c < d; c++) mean[c] += batch[r * d + c];
  for (let c = 0; c < d; c++) mean[c] /= b;
  const y = new Float64Array(b * d);
  const s = new Float64Array(d);
  for (let r = 0; r < b; r++) {
    for (let c = 0; c < d; c++) {
      const v = batch[r * d + c] - mean[c];
      y[r * d + c] = v;
      s[c] += v * v;
    }
  }
  const g = scratch;
  g.fill(0);
  addGramUpper(y, b, d, g);
  for (let i = 0; i < d; i++) {
    const o = i * d;
    for (let j = i; j < d; j++) {
      const v = cov[o + j] + m * (g[o + j] / b - cov[o + j]);
      cov[o + j] = v;
      cov[j * d + i] = v;
    }
    std[i] += m * (Math.sqrt(s[i] / b) - std[i]);
  }
}
