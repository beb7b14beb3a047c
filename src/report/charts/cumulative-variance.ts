import type { Analysis } from '../../analyze/schema.js';
import { reportViews } from '../model.js';
import { FULL_WIDTH, seriesEncoding, topLevel, zoomParam, type Chart, type Json } from './common.js';
import { componentAxis, isotropicCumulative, referenceLayer, spectrumSeries } from './spectrum.js';

/**
 * Cumulative share of the variance carried by the first k principal components, every (input,
 * layer, view) on one chart; dashed: the isotropic k/d. Needs only the results, not diagnostics.
 */
export function cumulativeVarianceChart(a: Analysis): Chart | null {
  const views = reportViews(a);
  const ds = [...new Set(views.map((v) => v.result.spectrum.eigenvalues.length).filter((d) => d > 0))];
  if (!views.length || !ds.length) return null;
  const body: Json = {
    width: FULL_WIDTH,
    height: 220,
    layer: [
      referenceLayer(ds.flatMap((d) => isotropicCumulative(d).map((p) => ({ ...p, d }))), 'cum'),
      {
        data: { name: 'spectrum' },
        transform: [{ flatten: ['k', 'ratio', 'cum'] }],
        params: [zoomParam('zoom_cum')],
        mark: { type: 'line', strokeWidth: 1.5, clip: true },
        encoding: {
          x: componentAxis(Math.max(...ds)),
          y: { field: 'cum', type: 'quantitative', title: 'share of the variance in the first k', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
          ...seriesEncoding(views),
          tooltip: [{ field: 'series', title: 'view' }, { field: 'k', title: 'components' }, { field: 'cum', title: 'cumulative', format: '.1%' }],
        },
      },
    ],
  };
  return {
    id: 'cumulative-variance',
    title: 'Cumulative variance of the leading principal components',
    caption:
      'The share of the total variance carried by the first k principal components, against k on a log scale, one line '
      + 'per input and view. Dashed: an isotropic embedding, where the first k of d components carry k/d. A curve far '
      + 'above the dashed one means a few directions hold most of the variance.',
    spec: topLevel(body, { spectrum: spectrumSeries(views) }),
  };
}
