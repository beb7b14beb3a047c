import { eigh } from '../linalg/index.js';
import { correlationMatrix, dimStds, type Moments } from '../stats/index.js';
import { applyMap, type FittedTransform } from '../transforms/index.js';
import type { Histogram, UnitRaster, ViewDiagnostics } from './schema.js';

/** Bins of the off-diagonal correlation histogram: width 0.05 over [-1, 1]. */
export const CORR_BINS = 40;

/** One view of an input for {@link viewDiagnostics}: the input itself, or a fitted transform of it. */
export interface DiagnosticView {
  transform: ViewDiagnostics['transform'];
  moments: Moments;
  fitted?: FittedTransform;
  /** each dimension's share of the average cosine (the input as read only) */
  rogueShares?: Float64Array | null;
}

/** The views of one input, as `results` lists them: the input itself, then each fitted transform. */
export function diagnosticViews(a: { base: Moments; fitted: readonly FittedTransform[]; moments: readonly Moments[]; rogueShares?: Float64Array | null }): DiagnosticView[] {
  return [{ transform: 'none', moments: a.base, rogueShares: a.rogueShares }, ...a.fitted.map((f, k) => ({ transform: f.name, moments: a.moments[k], fitted: f }))];
}

/**
 * The arrays the report draws for each view of one input, from the views' moments and (for the
 * PCA scatter) a sample of the input's rows; `sample` null leaves `pca` null.
 */
export function viewDiagnostics(
  input: number,
  views: readonly DiagnosticView[],
  sample: { data: Float64Array; rows: number; dims: number } | null,
): ViewDiagnostics[] {
  return views.map((v) => {
    const m = v.moments;
    const e = m.dims;
    const rho = correlationMatrix(m.cov, e, m.constant);
    // A per-dimension rescaling leaves every correlation as it was: the input's raster stands for it.
    const ownCorr = !v.fitted || v.fitted.map.kind === 'linear';
    let pca: ViewDiagnostics['pca'] = null;
    if (sample) {
      const rows = v.fitted ? applyMap(v.fitted.map, sample.data, sample.rows, sample.dims) : sample.data;
      pca = pcaScatter(rows, sample.rows, m);
    }
    return {
      input,
      transform: v.transform,
      std: Array.from(dimStds(m.cov, e)),
      ...(v.fitted?.isobn ? { isobn: { std: Array.from(v.fitted.isobn.std), gamma: Array.from(v.fitted.isobn.gamma) } } : {}),
      corrHistogram: corrHistogram(rho, e, m.constant),
      corrAbs: ownCorr ? absRaster(rho, e) : null,
      pca,
      ...(v.rogueShares ? { rogueShares: Array.from(v.rogueShares) } : {}),
    };
  });
}

/** Histogram of rho_ij for i < j over non-constant dimensions, {@link CORR_BINS} bins on [-1, 1]. */
export function corrHistogram(rho: Float64Array, d: number, constant: Uint8Array): Histogram {
  const counts = new Array<number>(CORR_BINS).fill(0);
  for (let i = 0; i < d; i++) {
    if (constant[i]) continue;
    for (let j = i + 1; j < d; j++) {
      if (constant[j]) continue;
      const k = Math.floor(((rho[i * d + j] + 1) / 2) * CORR_BINS);
      counts[Math.min(CORR_BINS - 1, Math.max(0, k))]++;
    }
  }
  // Edges from integers, so they print as -1, -0.95, ... rather than accumulated sums.
  const edges = Array.from({ length: CORR_BINS + 1 }, (_, k) => (2 * k - CORR_BINS) / CORR_BINS);
  return { edges, counts };
}

/** |rho| of a `d x d` correlation matrix as an 8-bit raster (byte round(255 |rho|)). */
export function absRaster(rho: Float64Array, d: number): UnitRaster {
  const bytes = new Uint8Array(d * d);
  for (let k = 0; k < d * d; k++) bytes[k] = Math.round(255 * Math.min(1, Math.abs(rho[k])));
  return { dims: d, encoding: 'u8-base64', data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64') };
}

/**
 * Rows (`rows x d`, already in the view's coordinates) centred on the view's mean and projected on
 * its two leading principal axes (each with its largest component positive).
 */
export function pcaScatter(data: Float64Array, rows: number, m: Moments): NonNullable<ViewDiagnostics['pca']> {
  const d = m.dims;
  // eigh fixes each vector's sign (largest component positive): the same file, the same picture.
  const { values, vectors } = eigh(m.cov, d, { vectors: true, top: 2 });
  let total = 0;
  for (const v of values) total += Math.max(0, v);
  const axes = Math.min(2, d);
  const coords: number[][] = [[], []];
  for (let a = 0; a < 2; a++) {
    if (a >= axes) { coords[a] = new Array<number>(rows).fill(0); continue; }
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += (data[r * d + i] - m.mean[i]) * vectors![i * axes + a];
      coords[a].push(round(s));
    }
  }
  const frac = (k: number) => (k < axes && total > 0 ? Math.max(0, values[k]) / total : 0);
  return { x: coords[0], y: coords[1], variance: [frac(0), frac(1)] };
}

/** Five significant digits: plenty for a scatter plot, and a third of the JSON. */
function round(v: number): number {
  return Number(v.toPrecision(5));
}
