import type { Analysis } from '../../analyze/schema.js';
import { reportViews, sig, type ReportView } from '../model.js';
import { FULL_WIDTH, logThin, seriesEncoding, topLevel, zoomParam, type Chart, type Json } from './common.js';

/** Ratios below this are rounding noise of removed directions (ABTT), not drawn on the log axis. */
export const RATIO_FLOOR = 1e-12;

/**
 * Explained-variance ratio l_k / sum(l) of each component and its running sum, for eigenvalues
 * sorted descending; negative rounding noise counts as 0. All zeros for an all-zero spectrum.
 */
export function explainedVariance(eigenvalues: readonly number[]): { ratio: number[]; cumulative: number[] } {
  const clean = eigenvalues.map((l) => Math.max(0, l));
  const total = clean.reduce((s, l) => s + l, 0);
  const ratio = clean.map((l) => (total > 0 ? l / total : 0));
  let run = 0;
  const cumulative = ratio.map((r) => Math.min(1, (run += r)));
  return { ratio, cumulative };
}

/** Points of the isotropic cumulative share k / d, spaced evenly on a log axis from 1 to d. */
export function isotropicCumulative(d: number, points = 48): { k: number; cum: number }[] {
  const ks = [...new Set(Array.from({ length: points + 1 }, (_, i) => Math.round(d ** (i / points))))];
  return ks.map((k) => ({ k, cum: sig(k / d) }));
}

/** The spectrum's series: per view, the thinned components k (1-based) with their ratio and cumulative share. */
export function spectrumSeries(views: readonly ReportView[]): Json[] {
  return views.map((v) => {
    const { ratio, cumulative } = explainedVariance(v.result.spectrum.eigenvalues);
    const keep = logThin(ratio.length);
    return { series: v.series, k: keep.map((i) => i + 1), ratio: keep.map((i) => sig(ratio[i])), cum: keep.map((i) => sig(cumulative[i])) };
  });
}

/** The x axis of the spectrum charts: component k on a log scale up to the largest d. */
export function componentAxis(d: number): Json {
  // log k: the few leading components, where the views differ most, get room at any d
  return { field: 'k', type: 'quantitative', title: 'principal component k (1 = largest, log scale)', scale: { type: 'log', nice: false, domain: [1, d] }, axis: { format: '~g', tickCount: 5 } };
}

/** Dashed grey reference line(s), one per distinct d. */
export function referenceLayer(values: Json[], y: string): Json {
  return {
    data: { values },
    mark: { type: 'line', strokeDash: [4, 3], color: '#999', strokeWidth: 1 },
    encoding: { x: { field: 'k', type: 'quantitative' }, y: { field: y, type: 'quantitative' }, detail: { field: 'd' } },
  };
}

/**
 * The eigen-spectrum of the covariance, every (input, layer, view) on one log-log chart: the share
 * of the total variance along each principal component; dashed: the isotropic reference (every
 * component 1/d). Needs only the results, not diagnostics.
 */
export function spectrumChart(a: Analysis): Chart | null {
  const views = reportViews(a);
  if (!views.length) return null;
  const ds = [...new Set(views.map((v) => v.result.spectrum.eigenvalues.length).filter((d) => d > 0))];
  if (!ds.length) return null;
  const dMax = Math.max(...ds);
  const body: Json = {
    width: FULL_WIDTH,
    height: 240,
    layer: [
      referenceLayer(ds.flatMap((d) => [{ d, k: 1, ratio: sig(1 / d) }, { d, k: d, ratio: sig(1 / d) }]), 'ratio'),
      {
        data: { name: 'spectrum' },
        transform: [{ flatten: ['k', 'ratio', 'cum'] }, { filter: `datum.ratio > ${RATIO_FLOOR}` }],
        params: [zoomParam('zoom_ratio')],
        mark: { type: 'line', strokeWidth: 1.5, clip: true },
        encoding: {
          x: componentAxis(dMax),
          y: { field: 'ratio', type: 'quantitative', title: 'share of the variance (log scale)', scale: { type: 'log' }, axis: { format: '~g', tickCount: 6 } },
          ...seriesEncoding(views),
          tooltip: [{ field: 'series', title: 'view' }, { field: 'k', title: 'component' }, { field: 'ratio', title: 'variance ratio', format: '.3e' }],
        },
      },
    ],
  };
  return {
    id: 'spectrum',
    title: 'Eigen-spectrum: the variance along each principal direction',
    caption:
      'The share of the total variance along each principal component of the covariance, against k; both axes on a log '
      + 'scale, one line per input and view. Dashed: an isotropic embedding, where each of the d components carries 1/d. '
      + 'A steep drop at the left means a few directions dominate (the "dominating directions" of Mu & Viswanath, 2018, '
      + 'that ABTT removes). Components with a share below 1e-12 (directions a transform removed) are not drawn.',
    spec: topLevel(body, { spectrum: spectrumSeries(views) }),
  };
}
