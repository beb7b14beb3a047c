import type { Analysis } from '../../analyze/schema.js';
import { HEADLINE_METRICS, metricValue, nullReason } from '../metrics.js';
import { groupsOf, reportViews, sig } from '../model.js';
import { FULL_WIDTH, colorByView, topLevel, type Chart, type Json } from './common.js';

const COLUMNS = 2;

/**
 * Every headline metric at a glance: one small panel per metric, a dot per view (coloured by
 * view) in a row per input (and layer), the isotropic value marked by a black tick. Metrics that
 * span orders of magnitude (I(W), condition) are on log axes. A value that could not be computed
 * is written "n/a" at the left of its row. Needs only the results.
 */
export function metricsGlanceChart(a: Analysis): Chart | null {
  const views = reportViews(a);
  if (!views.length) return null;
  const groups = groupsOf(views);
  const multi = groups.length > 1;
  const groupNames = groups.map((g) => g.label);
  const names = [...new Set(views.map((v) => v.name))];
  const labelWidth = multi ? Math.min(120, 14 + 6.5 * Math.max(...groupNames.map((g) => g.length))) : 0;
  // wider than other charts: the row labels take room from every column
  const width = Math.round((FULL_WIDTH + (multi ? 120 : 0) - 30 * (COLUMNS - 1)) / COLUMNS) - labelWidth;
  const band = Math.max(14, 5 * names.length + 8);
  // each view a few pixels lower than the one before, centred in its input's row: equal values stay apart
  // (offsets count from the top of the row's band)
  const offset = (view: string) => sig(band / 2 + (names.indexOf(view) - (names.length - 1) / 2) * Math.min(5, (band - 8) / Math.max(1, names.length - 1)), 3);
  const panels = HEADLINE_METRICS.map((m): Json => {
    const dots: Json[] = [];
    const missing: Json[] = [];
    for (const v of views) {
      const value = metricValue(m, v.result);
      if (value === null || (m.log && !(value > 0))) missing.push({ group: v.groupLabel, view: v.name, off: offset(v.name), why: nullReason(m, v.result) ?? 'not positive: no place on a log axis' });
      else dots.push({ group: v.groupLabel, view: v.name, off: offset(v.name), value: sig(value) });
    }
    const iso = groups.flatMap((g) => {
      const val = m.isoValue(a.inputs[g.input]?.dims ?? 1);
      return val === null ? [] : [{ group: g.label, value: sig(val) }];
    });
    const extent = [...dots, ...iso].map((r) => r.value as number);
    // "n/a" goes to the end away from the isotropic ticks
    const at = (x: number) => (m.log ? Math.log(x) : x);
    const isoLeft = iso.length > 0 && iso.every((r) => at(r.value as number) <= (at(Math.min(...extent)) + at(Math.max(...extent))) / 2);
    const lo = Math.min(...extent), hi = Math.max(...extent);
    const scale = m.log
      ? { type: 'log', domain: [sig(lo / 1.5, 2), sig(hi * 1.5, 2)], nice: false }
      : { zero: lo >= 0, nice: true, ...(extent.length ? {} : { domain: [0, 1] }) };
    const y = { field: 'group', type: 'nominal', sort: groupNames, title: null, axis: multi ? { labelLimit: labelWidth, labelFontSize: 9, ticks: false, domain: false } : null };
    const layer: Json[] = [
      {
        data: { values: iso },
        mark: { type: 'tick', color: '#111', thickness: 2, size: band - 2 },
        encoding: { y, x: { field: 'value', type: 'quantitative', scale, title: null, axis: { tickCount: 4, format: m.key === 'spectrum.effectiveRank' ? 'd' : '~g', labelOverlap: 'greedy', labelFontSize: 9, grid: true } } },
      },
      {
        data: { values: dots },
        mark: { type: 'circle', size: 42, opacity: 0.9, stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          y,
          yOffset: { field: 'off', type: 'quantitative', scale: null },
          x: { field: 'value', type: 'quantitative' },
          color: colorByView(views),
          tooltip: [{ field: 'group', title: 'input' }, { field: 'view' }, { field: 'value', title: m.short, format: '.4g' }],
        },
      },
    ];
    if (missing.length) {
      layer.push({
        data: { values: missing },
        mark: { type: 'text', align: isoLeft ? 'right' : 'left', baseline: 'middle', fontSize: 8, color: '#666', dx: isoLeft ? -2 : 2 },
        encoding: {
          y, yOffset: { field: 'off', type: 'quantitative', scale: null },
          x: { value: isoLeft ? width : 0 },
          text: { value: 'n/a' },
          tooltip: [{ field: 'group', title: 'input' }, { field: 'view' }, { field: 'why', title: `${m.short}: n/a` }],
        },
      });
    }
    return {
      title: { text: `${m.short}${m.log ? ' (log)' : ''}`, fontSize: 11, fontWeight: 'bold', offset: 4 },
      width,
      height: { step: band },
      layer,
    };
  });
  const rows: Json[] = [];
  for (let k = 0; k < panels.length; k += COLUMNS) rows.push({ hconcat: panels.slice(k, k + COLUMNS), spacing: 30 });
  return {
    id: 'metrics-glance',
    title: 'Every headline metric at a glance',
    caption:
      'One panel per metric, a dot per view (colour) '
      + (multi ? 'in a row per input' + (groups.some((g) => g.layer !== undefined) ? ' and layer' : '') + ', ' : '')
      + 'the black tick at the value of a perfectly isotropic embedding: the closer a dot to its tick, the more isotropic. '
      + 'I(W) and the condition number span orders of magnitude and are on log axes. "n/a": not computed (the table below says why).',
    spec: topLevel({ vconcat: rows, spacing: 14 }),
  };
}
