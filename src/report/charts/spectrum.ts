import type { Analysis } from '../../analyze/schema.js';
import { inputLabels, reportViews, sig, viewsOf } from '../model.js';
import { FULL_WIDTH, colorByView, perInput, topLevel, zoomParam, type Chart, type Json } from './common.js';

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

/**
 * The eigen-spectrum of the covariance: explained-variance ratio per principal component on a log
 * scale, and the cumulative ratio, before and after each transform, side by side with one legend;
 * dashed: the isotropic reference (every component 1/d). Needs only the results, not diagnostics.
 */
export function spectrumChart(a: Analysis): Chart | null {
  const all = reportViews(a);
  if (!all.length) return null;
  const labels = inputLabels(a);
  const inputs = [...new Set(all.map((v) => v.input))];
  const width = Math.round((FULL_WIDTH - 50) / 2);
  const datasets: Record<string, Json[]> = {};
  const blocks = inputs.map((input, b): Json => {
    const views = viewsOf(all, input);
    const d = a.inputs[input]?.dims ?? views[0].result.spectrum.eigenvalues.length;
    const series = views.map((v) => {
      const { ratio, cumulative } = explainedVariance(v.result.spectrum.eigenvalues);
      return { view: v.name, k: ratio.map((_, i) => i + 1), ratio: ratio.map((r) => sig(r)), cum: cumulative.map((c) => sig(c)) };
    });
    const name = `spectrum_${b}`;
    datasets[name] = series;
    // log k: the few leading components, where the views differ most, get room at any d
    const x = { field: 'k', type: 'quantitative', title: 'principal component k (1 = largest, log scale)', scale: { type: 'log', nice: false, domain: [1, d] }, axis: { format: '~g', tickCount: 5 } };
    const color = colorByView(views);
    const line = { type: 'line', strokeWidth: 1.5, clip: true };
    const reference = (values: Json[], y: string): Json => ({
      data: { values },
      mark: { type: 'line', strokeDash: [4, 3], color: '#999', strokeWidth: 1 },
      encoding: { x: { field: 'k', type: 'quantitative' }, y: { field: y, type: 'quantitative' } },
    });
    return {
      hconcat: [
        {
          width,
          height: 210,
          layer: [
            reference([{ k: 1, ratio: 1 / d }, { k: d, ratio: 1 / d }], 'ratio'),
            {
              data: { name },
              transform: [{ flatten: ['k', 'ratio', 'cum'] }, { filter: `datum.ratio > ${RATIO_FLOOR}` }],
              params: [zoomParam(`zoom_ratio_${b}`)],
              mark: line,
              encoding: {
                x,
                y: { field: 'ratio', type: 'quantitative', title: 'variance ratio (log scale)', scale: { type: 'log' }, axis: { format: '~g', tickCount: 6 } },
                color,
                tooltip: [{ field: 'view' }, { field: 'k', title: 'component' }, { field: 'ratio', title: 'variance ratio', format: '.3e' }],
              },
            },
          ],
        },
        {
          width,
          height: 210,
          layer: [
            reference(isotropicCumulative(d), 'cum'),
            {
              data: { name },
              transform: [{ flatten: ['k', 'ratio', 'cum'] }],
              params: [zoomParam(`zoom_cum_${b}`)],
              mark: line,
              encoding: {
                x,
                y: { field: 'cum', type: 'quantitative', title: 'cumulative variance ratio', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
                color,
                tooltip: [{ field: 'view' }, { field: 'k', title: 'components' }, { field: 'cum', title: 'cumulative', format: '.1%' }],
              },
            },
          ],
        },
      ],
    };
  });
  return {
    id: 'spectrum',
    title: 'Eigen-spectrum of the covariance',
    caption:
      'Left: the share of the total variance along each principal component; right: the share carried by the first k '
      + 'components; both against k on a log scale. Dashed: an isotropic embedding, where every one of the d components carries '
      + '1/d and the first k carry k/d. A steep drop on the left, and a cumulative curve far above the dashed one, mean a few '
      + 'directions dominate.',
    spec: topLevel(perInput(blocks, labels), datasets),
  };
}
