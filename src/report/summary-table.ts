import type { Analysis, TransformResult } from '../analyze/schema.js';
import { escapeHtml } from './escape.js';
import { formatChange, formatNumber } from './format.js';
import { inputLabels, reportViews, viewsOf } from './model.js';

/** Which way a metric moves when the embedding becomes more isotropic. */
type Better = 'higher' | 'lower' | 'toward0' | null;

/** One row of the summary table. */
export interface MetricRow {
  key: string;
  name: string;
  /** one sentence: how to read the metric */
  read: string;
  /** the value of a perfectly isotropic embedding with d dimensions, as text */
  isotropic: (d: number) => string;
  better: Better;
  value: (r: TransformResult) => number | null;
}

const pct = (f: number) => `${Number((100 * f).toPrecision(2))}%`;

/** The metrics of the summary table, in order, with how to read each. */
export const METRICS: readonly MetricRow[] = [
  {
    key: 'isoScore', name: 'IsoScore', better: 'higher', value: (r) => r.isoScore,
    read: 'How evenly the variance is spread over all directions (Rudman et al., 2022); 0 when it lies along a single direction.',
    isotropic: () => '1',
  },
  {
    key: 'partitionIsotropy', name: 'I(W), partition isotropy', better: 'higher', value: (r) => r.partitionIsotropy,
    read: 'Mu & Viswanath\'s smallest over largest partition function Z(c) over the principal directions; it sees a common mean as well as unequal spread.',
    isotropic: () => '1',
  },
  {
    key: 'avgCosine', name: 'Average cosine similarity', better: 'toward0', value: (r) => r.avgCosine,
    read: 'Mean cosine between two different rows; near 1 when all vectors point the same way (the "narrow cone").',
    isotropic: () => '0',
  },
  {
    key: 'meanNorm', name: 'Length of the mean vector', better: 'lower', value: (r) => r.meanNorm,
    read: 'Norm of the average row, in the embedding\'s units: an offset every row shares.',
    isotropic: () => '0',
  },
  {
    key: 'std.cv', name: 'Spread of the per-dimension std', better: 'lower', value: (r) => r.std.cv,
    read: 'Coefficient of variation (std over mean) of the per-dimension standard deviations s_i: how unequal the dimensions\' scales are (Figure 1).',
    isotropic: () => '0',
  },
  {
    key: 'std.mean', name: 'Mean per-dimension std', better: null, value: (r) => r.std.mean,
    read: 'Average s_i, in the embedding\'s units: a scale, not a measure of isotropy (IsoBN keeps the total variance).',
    isotropic: () => 'any',
  },
  {
    key: 'std.min', name: 'Smallest per-dimension std', better: null, value: (r) => r.std.min,
    read: 'The s_i of the least spread-out dimension.',
    isotropic: () => 'the mean',
  },
  {
    key: 'std.max', name: 'Largest per-dimension std', better: null, value: (r) => r.std.max,
    read: 'The s_i of the most spread-out dimension; far above the mean when a few dimensions dominate.',
    isotropic: () => 'the mean',
  },
  {
    key: 'corr.meanAbs', name: 'Mean |correlation|', better: 'lower', value: (r) => r.corr.meanAbs,
    read: 'Average |ρ_ij| over pairs of dimensions (Figure 2); rescaling each dimension, as IsoBN does, leaves it unchanged.',
    isotropic: () => '0',
  },
  {
    key: 'corr.maxAbs', name: 'Largest |correlation|', better: 'lower', value: (r) => r.corr.maxAbs,
    read: 'The strongest correlation between two dimensions.',
    isotropic: () => '0',
  },
  {
    key: 'spectrum.top1', name: 'Variance on the top component', better: 'lower', value: (r) => r.spectrum.top1,
    read: 'Share of the total variance along the first principal direction.',
    isotropic: (d) => `1/d = ${pct(1 / d)}`,
  },
  {
    key: 'spectrum.top10', name: 'Variance on the top 10 components', better: 'lower', value: (r) => r.spectrum.top10,
    read: 'Share of the total variance along the ten largest principal directions.',
    isotropic: (d) => (d <= 10 ? '100%' : `10/d = ${pct(10 / d)}`),
  },
  {
    key: 'spectrum.effectiveRank', name: 'Effective rank', better: 'higher', value: (r) => r.spectrum.effectiveRank,
    read: 'exp of the entropy of the eigenvalue shares: how many directions the variance effectively uses.',
    isotropic: (d) => `d = ${d}`,
  },
  {
    key: 'spectrum.condition', name: 'Condition number', better: 'lower', value: (r) => r.spectrum.condition,
    read: 'Largest over smallest covariance eigenvalue; "—" when the covariance is rank-deficient (a direction without variance).',
    isotropic: () => '1',
  },
  {
    key: 'constantDims', name: 'Constant dimensions', better: 'lower', value: (r) => r.constantDims,
    read: 'Dimensions with zero variance; they are left out of the correlations.',
    isotropic: () => '0',
  },
];

/** "better", "worse" or "" for a change of a metric. */
export function changeClass(better: Better, before: number | null, after: number | null): '' | 'better' | 'worse' {
  if (better === null || before === null || after === null || !Number.isFinite(before) || !Number.isFinite(after)) return '';
  const tol = 1e-9 * Math.max(Math.abs(before), Math.abs(after));
  const delta = better === 'toward0' ? Math.abs(after) - Math.abs(before) : after - before;
  if (Math.abs(delta) <= tol) return '';
  const up = delta > 0;
  return (better === 'higher') === up ? 'better' : 'worse';
}

/**
 * The summary table(s) as HTML: one per input, a row per metric (name, the isotropic value, then
 * a column per view: the value and, after a transform, the change from before) and under it a
 * full-width line on how to read the metric.
 */
export function summaryTablesHtml(a: Analysis): string {
  const labels = inputLabels(a);
  const all = reportViews(a);
  return a.inputs.map((inp, input) => {
    const views = viewsOf(all, input);
    const before = views.find((v) => v.kind === 'none');
    const head = views.map((v) => `<th scope="col" style="border-top-color:${v.color}">${escapeHtml(v.name)}</th>`).join('');
    const body = METRICS.map((m) => {
      const b = before ? m.value(before.result) : null;
      const cells = views.map((v) => {
        const val = m.value(v.result);
        if (v === before) return `<td class="num">${formatNumber(val)}</td>`;
        const change = before ? formatChange(b, val) : '';
        const cls = changeClass(m.better, b, val);
        return `<td class="num">${formatNumber(val)}${change ? `<span class="change ${cls}">${escapeHtml(change)}</span>` : ''}</td>`;
      }).join('');
      return `<tbody class="metric"><tr><th scope="row">${escapeHtml(m.name)}</th><td class="iso">${escapeHtml(m.isotropic(inp.dims))}</td>${cells}</tr>`
        + `<tr class="read"><td colspan="${views.length + 2}">${escapeHtml(m.read)}</td></tr></tbody>`;
    }).join('\n');
    const caption = a.inputs.length > 1 ? `<caption>${escapeHtml(labels[input])}</caption>` : '';
    return `<div class="table-wrap"><table class="summary">${caption}<thead><tr><th scope="col">metric</th><th scope="col">isotropic</th>${head}</tr></thead>\n${body}\n</table></div>`;
  }).join('\n');
}
