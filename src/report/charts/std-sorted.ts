import type { Analysis } from '../../analyze/schema.js';
import { reportViews, sig } from '../model.js';
import { FULL_WIDTH, linearThin, seriesEncoding, topLevel, zoomParam, type Chart, type Json } from './common.js';

/**
 * Ranks of dimensions by std, largest first: `rank[i]` is the 1-based place of dimension i.
 * Ties keep the dimension order.
 */
export function stdRanks(std: readonly number[]): number[] {
  const order = std.map((s, i) => ({ s, i })).sort((p, q) => q.s - p.s || p.i - q.i);
  const rank = new Array<number>(std.length);
  order.forEach(({ i }, k) => { rank[i] = k + 1; });
  return rank;
}

/**
 * Per-dimension standard deviations, each view sorted by its own (1 = largest), every (input,
 * layer, view) on one log-scaled chart. Constant dimensions (s_i = 0) cannot be placed on the log
 * axis and are left out. Null without diagnostics.
 */
export function stdSortedChart(a: Analysis): Chart | null {
  const views = reportViews(a).filter((v) => v.diag);
  if (!views.length) return null;
  const dMax = Math.max(...views.map((v) => v.diag!.std.length));
  const series = views.map((v) => {
    const std = v.diag!.std;
    const order = std.map((_, i) => i).filter((i) => std[i] > 0).sort((p, q) => std[q] - std[p] || p - q);
    const keep = linearThin(order.length);
    return { series: v.series, dim: keep.map((k) => order[k]), rank: keep.map((k) => k + 1), std: keep.map((k) => sig(std[order[k]])) };
  });
  const body: Json = {
    data: { values: series },
    transform: [{ flatten: ['dim', 'rank', 'std'] }],
    params: [zoomParam('zoom_std')],
    width: FULL_WIDTH,
    height: 220,
    mark: { type: 'line', strokeWidth: 1.5, interpolate: 'linear' },
    encoding: {
      x: { field: 'rank', type: 'quantitative', title: 'dimension, ranked by its own std s_i (1 = largest)', scale: { nice: false, domain: [1, dMax] } },
      y: { field: 'std', type: 'quantitative', title: 'std s_i (log scale)', scale: { type: 'log' } },
      ...seriesEncoding(views),
      tooltip: [{ field: 'series', title: 'view' }, { field: 'dim', title: 'dimension' }, { field: 'rank' }, { field: 'std', title: 's_i', format: '.4g' }],
    },
  };
  return {
    id: 'std-sorted',
    title: 'Per-dimension standard deviations, sorted',
    caption:
      'Each line is one input and view, its dimensions sorted by their standard deviation s_i (left: the largest), on a log '
      + 'scale. Isotropic is a flat line. A spike at the left is a few dimensions with a much larger spread than the rest; '
      + 'a drop at the right, dimensions that hardly vary. Whitening works in principal axes, the other views in the input\'s '
      + 'dimensions. The IsoBN factors below show which dimensions IsoBN shrinks.',
    spec: topLevel(body),
  };
}
