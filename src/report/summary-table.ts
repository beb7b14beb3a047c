import type { Analysis } from '../analyze/schema.js';
import { escapeHtml } from './escape.js';
import { formatChange, formatNumber } from './format.js';
import { METRICS, metricValue, nullReason, type Better, type MetricDef } from './metrics.js';
import { facetViews, groupsOf, reportViews, viewsOfGroup, type ReportView } from './model.js';

export { METRICS, type MetricDef };

/** Most value columns of the table; analyses of many layers show evenly spaced layers (the per-layer charts have all). */
export const MAX_TABLE_COLUMNS = 16;

/** The views the table shows (all, or evenly spaced layers when there are more than {@link MAX_TABLE_COLUMNS}). */
export function tableViews(a: Analysis): { views: ReportView[]; note: string } {
  const all = reportViews(a);
  const perGroup = Math.max(1, ...groupsOf(all).map((g) => viewsOfGroup(all, g.group).length));
  return facetViews(all, Math.max(1, Math.floor(MAX_TABLE_COLUMNS / perGroup)));
}

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
 * The summary table as HTML: one row per metric (name, the isotropic value, then a column per
 * view, grouped under each input, and layer: the value and, after a transform, the change from the
 * group's "before"), and under it a full-width line on how to read the metric. A value that could
 * not be computed reads "n/a", with the reason as its tooltip and in a note under the table.
 */
export function summaryTableHtml(a: Analysis): string {
  const { views, note } = tableViews(a);
  const groups = groupsOf(views);
  const multi = groups.length > 1;
  const starts = new Set(groups.map((g) => views.find((v) => v.group === g.group)!.index));
  const cls = (v: { index: number }, base: string) => `${base}${multi && starts.has(v.index) ? ' group-start' : ''}`;
  const groupHead = multi
    ? `<tr><th scope="col" rowspan="2">metric</th><th scope="col" rowspan="2">isotropic</th>${groups.map((g) => {
      const n = viewsOfGroup(views, g.group).length;
      return `<th scope="colgroup" colspan="${n}" class="group group-start">${escapeHtml(g.label)}</th>`;
    }).join('')}</tr>`
    : '';
  const viewHead = `<tr>${multi ? '' : '<th scope="col">metric</th><th scope="col">isotropic</th>'}${views
    .map((v) => `<th scope="col" class="${cls(v, 'view')}" style="border-top-color:${v.color}">${escapeHtml(v.name)}</th>`).join('')}</tr>`;
  const reasons: string[] = [];
  const dims = [...new Set(groups.map((g) => a.inputs[g.input]?.dims).filter((d): d is number => typeof d === 'number'))];
  const body = METRICS.map((m) => {
    const cells = views.map((v) => {
      const before = views.find((w) => w.group === v.group && w.kind === 'none');
      const val = metricValue(m, v.result);
      if (val === null) {
        const why = nullReason(m, v.result)!;
        if (!reasons.includes(why)) reasons.push(why);
        return `<td class="${cls(v, 'num na')}" title="${escapeHtml(why)}">n/a<sup>${reasons.indexOf(why) + 1}</sup></td>`;
      }
      if (!before || v === before) return `<td class="${cls(v, 'num')}">${formatNumber(val)}</td>`;
      const b = metricValue(m, before.result);
      const change = formatChange(b, val, { ratio: m.log });
      const c = changeClass(m.better, b, val);
      return `<td class="${cls(v, 'num')}">${formatNumber(val)}${change ? `<span class="change ${c}">${escapeHtml(change)}</span>` : ''}</td>`;
    }).join('');
    const iso = [...new Set(dims.map((d) => m.isotropic(d)))].join(' / ');
    return `<tbody class="metric"><tr><th scope="row">${escapeHtml(m.name)}</th><td class="iso">${escapeHtml(iso)}</td>${cells}</tr>`
      + `<tr class="read"><td colspan="${views.length + 2}">${escapeHtml(m.read)}</td></tr></tbody>`;
  }).join('\n');
  const notes = [
    ...reasons.map((r, k) => `<li value="${k + 1}">n/a: ${escapeHtml(r)}</li>`),
  ];
  return `<div class="table-wrap${views.length > 7 ? ' wide' : ''}"><table class="summary${multi ? ' grouped' : ''}"><thead>${groupHead}${viewHead}</thead>\n${body}\n</table></div>`
    + (notes.length ? `\n<ol class="table-notes">${notes.join('')}</ol>` : '')
    + (note ? `\n<p class="table-notes">${escapeHtml(note)}</p>` : '');
}
