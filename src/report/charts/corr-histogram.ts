import type { Analysis } from '../../analyze/schema.js';
import { groupsOf, reportViews, sig, viewsOfGroup } from '../model.js';
import { FULL_WIDTH, seriesEncoding, topLevel, type Chart, type Json } from './common.js';
import { distinctCorrViews } from './corr-heatmap.js';

/**
 * Distribution of the off-diagonal correlations rho_ij (i < j), as the share of pairs per bin of
 * the analysis' histogram, every (input, layer, view) whose correlations differ from its input's
 * (see {@link distinctCorrViews}) on one chart. Null without diagnostics.
 */
export function corrHistogramChart(a: Analysis): Chart | null {
  const all = reportViews(a).filter((v) => v.diag);
  if (!all.length) return null;
  const drawn = groupsOf(all).flatMap((g) => distinctCorrViews(viewsOfGroup(all, g.group)).distinct);
  const series = drawn.map((v) => {
    const { edges, counts } = v.diag!.corrHistogram;
    const total = counts.reduce((s, c) => s + c, 0) || 1;
    return {
      series: v.series,
      rho: counts.map((_, k) => sig((edges[k] + edges[k + 1]) / 2)),
      share: counts.map((c) => sig((100 * c) / total)),
      pairs: counts,
    };
  });
  const body: Json = {
    data: { values: series },
    transform: [{ flatten: ['rho', 'share', 'pairs'] }],
    width: FULL_WIDTH,
    height: 200,
    mark: { type: 'line', strokeWidth: 1.5, point: { size: 10 } },
    encoding: {
      x: { field: 'rho', type: 'quantitative', title: 'correlation ρ_ij between two dimensions (bin centre)', scale: { domain: [-1, 1] } },
      // square root: a whitened spike of 50% and a spread of 2% per bin both stay readable
      y: { field: 'share', type: 'quantitative', title: '% of pairs (square-root scale)', scale: { type: 'sqrt' } },
      ...seriesEncoding(drawn),
      tooltip: [{ field: 'series', title: 'view' }, { field: 'rho', title: 'ρ (bin centre)', format: '.3f' }, { field: 'share', title: '% of pairs', format: '.3g' }, { field: 'pairs', title: 'pairs' }],
    },
  };
  return {
    id: 'corr-histogram',
    title: 'Distribution of the correlations between dimensions',
    caption:
      'Share of the pairs of dimensions whose correlation falls in each bin of width 0.05, one line per input and view. '
      + 'Isotropic is one narrow peak at 0. Rescaling views (IsoBN, standardize) have exactly their input\'s correlations and '
      + 'are not drawn again.',
    spec: topLevel(body),
  };
}
