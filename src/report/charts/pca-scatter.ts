import type { Analysis } from '../../analyze/schema.js';
import { facetViews, groupsOf, reportViews, sig, viewsOfGroup } from '../model.js';
import { FULL_WIDTH, topLevel, zoomParam, type Chart, type Json } from './common.js';

/** Largest panel side, px; four views a row get smaller ones. */
const PANEL = 176;
const PER_ROW = 4;

/**
 * A 2-D PCA scatter of the sampled rows in every view (its own top two principal axes, its own
 * units), one small panel per view, a row per input (and layer). Null without diagnostics.
 */
export function pcaScatterChart(a: Analysis): Chart | null {
  const { views: all, note } = facetViews(reportViews(a).filter((v) => v.diag?.pca && v.diag.pca.x.length > 0));
  if (!all.length) return null;
  const groups = groupsOf(all);
  const rows: Json[] = [];
  for (const g of groups) {
    const views = viewsOfGroup(all, g.group);
    const perRow = Math.min(PER_ROW, views.length);
    const side = Math.min(PANEL, Math.floor((FULL_WIDTH + 40) / Math.max(3, perRow)) - 50);
    const panels = views.map((v): Json => {
      const { x, y, variance } = v.diag!.pca!;
      const pct = (f: number) => `${(100 * f).toFixed(1)}%`;
      return {
        title: { text: v.name, color: v.color, fontSize: 11 },
        width: side,
        height: side,
        data: { values: [{ x: x.map((t) => sig(t, 3)), y: y.map((t) => sig(t, 3)) }] },
        transform: [{ flatten: ['x', 'y'] }],
        params: [zoomParam(`zoom_pca_${v.index}`)],
        mark: { type: 'circle', size: 6, opacity: 0.45, color: v.color },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: `PC1 (${pct(variance[0])})`, axis: { tickCount: 3, labelOverlap: 'greedy' } },
          y: { field: 'y', type: 'quantitative', title: `PC2 (${pct(variance[1])})`, axis: { tickCount: 3, labelOverlap: 'greedy' } },
          tooltip: [{ field: 'x', title: 'PC1', format: '.3g' }, { field: 'y', title: 'PC2', format: '.3g' }],
        },
      };
    });
    for (let k = 0; k < panels.length; k += perRow) {
      const row: Json = { hconcat: panels.slice(k, k + perRow), spacing: 14 };
      if (k === 0 && groups.length > 1) row.title = { text: g.label, fontSize: 12, anchor: 'start' };
      rows.push(row);
    }
  }
  const sample = a.samples?.[0];
  const about = sample ? `${sample.rows.toLocaleString('en-US')} rows sampled uniformly without replacement (seed ${sample.seed})` : 'a sample of rows';
  return {
    id: 'pca-scatter',
    title: 'The rows on their top two principal axes',
    caption:
      `Each point is one row of ${about}, centred and projected on the view's own first two principal axes `
      + "in the view's units; each axis title gives the share of the variance it carries. "
      + 'An isotropic cloud is round with both axes carrying about 1/d of the variance; a long thin cloud or a large share on '
      + 'PC1 means one direction dominates.'
      + (note ? ` ${note}` : ''),
    spec: topLevel(rows.length === 1 ? rows[0] : { vconcat: rows }),
  };
}
