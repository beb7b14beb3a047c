import { mulberry32 } from '../../src/analyze/sample.ts';

/** Seeded random numbers for tests: the same matrices on every run and machine. */
export const rng = mulberry32;

/** Standard normal samples (Box-Muller). */
export function gaussian(seed: number): () => number {
  const u = rng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** An anisotropic `rows x dims` matrix: mixed Gaussians with unequal scales and a non-zero mean. */
export function anisotropic(rows: number, dims: number, seed = 1): Float64Array {
  const g = gaussian(seed);
  const mix = Float64Array.from({ length: dims * dims }, () => g());
  const scale = Float64Array.from({ length: dims }, (_, i) => 0.1 + 3 * (i / dims) ** 2);
  const mean = Float64Array.from({ length: dims }, () => 5 * g());
  const out = new Float64Array(rows * dims);
  for (let r = 0; r < rows; r++) {
    const z = Float64Array.from({ length: dims }, (_, i) => g() * scale[i]);
    for (let j = 0; j < dims; j++) {
      let s = mean[j];
      for (let i = 0; i < dims; i++) s += z[i] * mix[i * dims + j];
      out[r * dims + j] = s;
    }
  }
  return out;
}

/** Straightforward two-pass biased covariance, as a reference for the one-pass code. */
export function naiveCovariance(x: Float64Array, rows: number, dims: number): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(dims);
  for (let r = 0; r < rows; r++) for (let c = 0; c < dims; c++) mean[c] += x[r * dims + c] / rows;
  const cov = new Float64Array(dims * dims);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < dims; i++) {
      const a = x[r * dims + i] - mean[i];
      for (let j = 0; j < dims; j++) cov[i * dims + j] += (a * (x[r * dims + j] - mean[j])) / rows;
    }
  }
  return { mean, cov };
}

/** max |a - b| / max(|b|, floor) over all entries. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-300): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  return m;
}
