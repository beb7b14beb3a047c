import type { Analysis } from '../../analyze/schema.js';
import { inputLabels, reportViews, sig, viewsOf } from '../model.js';
import { topLevel, zoomParam, type Chart, type Json } from './common.js';

const PANEL = 176;
const PER_ROW = 3;

/**
 * A 2-D PCA scatter of the sampled rows in every view (its own top two principal axes, its own
 * units), one small panel per view. Null without diagnostics.
 */
export function pcaScatterChart(a: Analysis): Chart | null {
  const all = reportViews(a).filter((v) => v.diag?.pca && v.diag.pca.x.length > 0);
  if (!all.length) return null;
  const labels = inputLabels(a);
  const inputs = [...new Set(all.map((v) => v.input))];
  const rows: Json[] = [];
  for (const input of inputs) {
    const panels = viewsOf(all, input).map((v, k): Json => {
      const { x, y, variance } = v.diag!.pca!;
      const pct = (f: number) => `${(100 * f).toFixed(1)}%`;
      return {
        title: { text: v.name, color: v.color },
        width: PANEL,
        height: PANEL,
        data: { values: [{ x: x.map((t) => sig(t, 3)), y: y.map((t) => sig(t, 3)) }] },
        transform: [{ flatten: ['x', 'y'] }],
        params: [zoomParam(`zoom_pca_${input}_${k}`)],
        mark: { type: 'circle', size: 6, opacity: 0.45, color: v.color },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: `PC1 (${pct(variance[0])} of variance)`, axis: { tickCount: 4 } },
          y: { field: 'y', type: 'quantitative', title: `PC2 (${pct(variance[1])})`, axis: { tickCount: 4 } },
          tooltip: [{ field: 'x', title: 'PC1', format: '.3g' }, { field: 'y', title: 'PC2', format: '.3g' }],
        },
      };
    });
    for (let k = 0; k < panels.length; k += PER_ROW) {
      const row: Json = { hconcat: panels.slice(k, k + PER_ROW) };
      if (k === 0 && inputs.length > 1) row.title = { text: labels[input], fontSize: 12, anchor: 'start' };
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
      + "in the view's units. "
      + 'An isotropic cloud is round with both axes carrying about 1/d of the variance; a long thin cloud or a large share on '
      + 'PC1 means one direction dominates.',
    spec: topLevel(rows.length === 1 ? rows[0] : { vconcat: rows }),
  };
}
