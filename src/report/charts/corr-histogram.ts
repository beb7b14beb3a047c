import type { Analysis } from '../../analyze/schema.js';
import { inputLabels, reportViews, sig, viewsOf } from '../model.js';
import { FULL_WIDTH, colorByView, perInput, topLevel, type Chart, type Json } from './common.js';
import { distinctCorrViews } from './corr-heatmap.js';

/**
 * Distribution of the off-diagonal correlations rho_ij (i < j), as the share of pairs per bin of
 * the analysis' histogram, one line per view whose correlations differ from the input's (see
 * {@link distinctCorrViews}). Null without diagnostics.
 */
export function corrHistogramChart(a: Analysis): Chart | null {
  const all = reportViews(a).filter((v) => v.diag);
  if (!all.length) return null;
  const labels = inputLabels(a);
  const inputs = [...new Set(all.map((v) => v.input))];
  const blocks = inputs.map((input): Json => {
    const { distinct } = distinctCorrViews(viewsOf(all, input));
    const series = distinct.map((v) => {
      const { edges, counts } = v.diag!.corrHistogram;
      const total = counts.reduce((s, c) => s + c, 0) || 1;
      return {
        view: v.name,
        rho: counts.map((_, k) => sig((edges[k] + edges[k + 1]) / 2)),
        share: counts.map((c) => sig((100 * c) / total)),
        pairs: counts,
      };
    });
    return {
      data: { values: series },
      transform: [{ flatten: ['rho', 'share', 'pairs'] }],
      width: FULL_WIDTH,
      height: 180,
      mark: { type: 'line', strokeWidth: 1.5, point: { size: 12 } },
      encoding: {
        x: { field: 'rho', type: 'quantitative', title: 'correlation ρ_ij between two dimensions (bin centre)', scale: { domain: [-1, 1] } },
        // square root: a whitened spike of 50% and a spread of 2% per bin both stay readable
        y: { field: 'share', type: 'quantitative', title: '% of pairs (square-root scale)', scale: { type: 'sqrt' } },
        color: colorByView(distinct),
        tooltip: [{ field: 'view' }, { field: 'rho', title: 'ρ (bin centre)', format: '.3f' }, { field: 'share', title: '% of pairs', format: '.3g' }, { field: 'pairs', title: 'pairs' }],
      },
    };
  });
  return {
    id: 'corr-histogram',
    title: 'Distribution of the correlations between dimensions',
    caption:
      'Share of the pairs of dimensions whose correlation falls in each bin of width 0.05. Isotropic is one narrow peak at 0. '
      + 'Rescaling views (IsoBN, standardize) have exactly the input\'s correlations and are not drawn again.',
    spec: topLevel(perInput(blocks, labels)),
  };
}
