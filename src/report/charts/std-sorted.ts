import type { Analysis } from '../../analyze/schema.js';
import { inputLabels, reportViews, sig, viewsOf } from '../model.js';
import { FULL_WIDTH, colorByView, perInput, topLevel, zoomParam, type Chart, type Json } from './common.js';

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
 * Per-dimension standard deviation, dimensions sorted by their std before any transform (1 =
 * largest), one line per view, log y. Views that keep the input's coordinates (IsoBN,
 * standardize, ABTT) are drawn at the input's ranks, so a drop at the left shows which large
 * dimensions a transform shrinks; whitening works in principal axes and is sorted by its own
 * stds. Null without diagnostics.
 */
export function stdSortedChart(a: Analysis): Chart | null {
  const all = reportViews(a).filter((v) => v.diag);
  if (!all.length) return null;
  const labels = inputLabels(a);
  const blocks: Json[] = [];
  const inputs = [...new Set(all.map((v) => v.input))];
  inputs.forEach((input, b) => {
    const views = viewsOf(all, input);
    const before = views.find((v) => v.kind === 'none');
    const baseRank = before ? stdRanks(before.diag!.std) : null;
    const series = views.map((v) => {
      const std = v.diag!.std;
      const own = !baseRank || v.kind === 'whiten' || std.length !== baseRank.length;
      const rank = own ? stdRanks(std) : baseRank;
      const keep = std.map((_, i) => i).filter((i) => std[i] > 0);
      keep.sort((p, q) => rank[p] - rank[q]);
      return { view: v.name, dim: keep, rank: keep.map((i) => rank[i]), std: keep.map((i) => sig(std[i])) };
    });
    blocks.push({
      data: { values: series },
      transform: [{ flatten: ['dim', 'rank', 'std'] }],
      params: [zoomParam(`zoom_std_${b}`)],
      width: FULL_WIDTH,
      height: 220,
      mark: { type: 'line', strokeWidth: 1.5, interpolate: 'linear' },
      encoding: {
        x: { field: 'rank', type: 'quantitative', title: 'dimension, ranked by its std s_i before any transform (1 = largest)', scale: { nice: false } },
        y: { field: 'std', type: 'quantitative', title: 'std s_i (log scale)', scale: { type: 'log' } },
        color: colorByView(views),
        detail: { field: 'view' },
        tooltip: [{ field: 'view' }, { field: 'dim', title: 'dimension' }, { field: 'rank' }, { field: 'std', title: 's_i', format: '.4g' }],
      },
    });
  });
  return {
    id: 'std-sorted',
    title: 'Per-dimension standard deviation, sorted',
    caption:
      'Dimensions ranked by their standard deviation before any transform (left: the largest). Each line is one view, on a '
      + 'log scale. Isotropic is a flat line. IsoBN, standardize and ABTT keep the input\'s dimensions, so where their line '
      + 'drops below the grey one those dimensions were shrunk; whitening rotates to principal axes and is sorted by its own stds.',
    spec: topLevel(perInput(blocks, labels)),
  };
}
