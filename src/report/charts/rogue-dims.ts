import type { Analysis } from '../../analyze/schema.js';
import { formatNumber } from '../format.js';
import { facetViews, reportViews, sig } from '../model.js';
import { FULL_WIDTH, topLevel, type Chart, type Json } from './common.js';

/** Dimensions drawn per panel, largest share first. */
export const ROGUE_BARS = 10;
const PER_ROW = 3;

/**
 * Rogue dimensions (Timkey & van Schijndel, EMNLP 2021): the dimensions with the largest share of
 * the average cosine, one panel per input (and layer), bars in units of the average cosine, with
 * the share every dimension would have if all contributed alike (avgCosine / d) dashed. Only the
 * input as read has shares (`diagnostics[].rogueShares`); null when no view has them.
 */
export function rogueDimsChart(a: Analysis): Chart | null {
  const { views, note } = facetViews(reportViews(a).filter((v) => v.diag?.rogueShares?.length && v.result.avgCosine !== null));
  if (!views.length) return null;
  const perRow = Math.min(PER_ROW, views.length);
  // bars in % of the average cosine, comparable between inputs, unless some average cosine is about 0
  const pct = views.every((v) => v.result.avgCosine! > 1e-3);
  const width = Math.round((FULL_WIDTH - 30 * (perRow - 1)) / perRow) - 64;
  const panels = views.map((v, p): Json => {
    const shares = v.diag!.rogueShares!;
    const d = shares.length;
    const total = v.result.avgCosine!;
    const top = shares.map((share, dim) => ({ share, dim })).sort((x, y) => y.share - x.share || x.dim - y.dim).slice(0, ROGUE_BARS);
    const topSum = top.slice(0, 3).reduce((s, t) => s + t.share, 0);
    const values = top.map((t) => ({ dim: `dim ${t.dim}`, share: sig(t.share), pct: sig((100 * t.share) / total, 3) }));
    const subtitle = pct ? [`avg cosine ${formatNumber(total)}`, `top 3 dims: ${Math.round((100 * topSum) / total)}%`] : [`avg cosine ${formatNumber(total)}`];
    return {
      title: { text: views.length > 1 || a.inputs.length > 1 ? v.groupLabel : 'the input as read', subtitle, fontSize: 11, subtitleFontSize: 10, limit: width + 60 },
      width,
      height: 14 * top.length,
      layer: [
        {
          data: { values },
          mark: { type: 'bar', color: v.color, height: 10 },
          encoding: {
            y: { field: 'dim', type: 'nominal', sort: null, title: null, axis: { labelFontSize: 9 } },
            x: pct
              ? { field: 'pct', type: 'quantitative', title: '% of the avg cosine', axis: { tickCount: 3, labelOverlap: 'greedy' } }
              : { field: 'share', type: 'quantitative', title: 'share of the avg cosine', axis: { tickCount: 3, format: '~g', labelOverlap: 'greedy' } },
            tooltip: [{ field: 'dim', title: 'dimension' }, { field: 'share', title: 'share', format: '.3g' }, { field: 'pct', title: '% of avg cosine', format: '.3g' }],
          },
        },
        {
          data: { values: [{ even: pct ? sig(100 / d) : sig(total / d), panel: p }] },
          mark: { type: 'rule', strokeDash: [3, 2], color: '#555' },
          encoding: { x: { field: 'even', type: 'quantitative' } },
        },
      ],
    };
  });
  const rows: Json[] = [];
  for (let k = 0; k < panels.length; k += perRow) rows.push({ hconcat: panels.slice(k, k + perRow), spacing: 30 });
  return {
    id: 'rogue-dims',
    title: 'Rogue dimensions: which dimensions make the vectors point alike',
    caption:
      'The average cosine between two rows is a sum over the dimensions: dimension i contributes the mean of u_ki u_li over '
      + 'all pairs of unit rows, exactly (S_i² − Σ_k u_ki²) / (n(n − 1)) with S the sum of the unit rows, and the '
      + 'contributions of all d dimensions add up to the average cosine. Bars: the '
      + `${ROGUE_BARS} largest, for the vectors as read${pct ? ', in % of the average cosine' : ''}; dashed: ${pct ? '100% / d' : 'avgCosine / d'}, every dimension's share if all contributed `
      + 'alike. A few bars far right of the dashed line are rogue dimensions (Timkey & van Schijndel, 2021): they dominate '
      + 'cosine similarity. They need not be the dimensions with the largest spread: a large value of one sign in every row is enough.'
      + (note ? ` ${note}` : ''),
    spec: topLevel(rows.length === 1 ? rows[0] : { vconcat: rows }),
  };
}
