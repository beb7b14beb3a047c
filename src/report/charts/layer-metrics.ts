import type { Analysis } from '../../analyze/schema.js';
import { HEADLINE_METRICS, metricValue } from '../metrics.js';
import { hasLayers, inputLabels, reportViews, sig } from '../model.js';
import { INPUT_DASHES } from '../palette.js';
import { FULL_WIDTH, colorByView, topLevel, type Chart, type Json } from './common.js';

const COLUMNS = 2;

/**
 * Every headline metric against layer depth, one line per input and view (colour: the view, dash:
 * the input), the isotropic value dashed grey; metrics that span orders of magnitude on log axes.
 * Null unless the analysis holds several layers (`results[].layer`).
 */
export function layerMetricsChart(a: Analysis): Chart | null {
  if (!hasLayers(a)) return null;
  const views = reportViews(a).filter((v) => v.layer !== undefined);
  const layers = [...new Set(views.map((v) => v.layer!))];
  if (layers.length < 2) return null;
  const labels = inputLabels(a);
  const inputs = [...new Set(views.map((v) => v.input))].map((i) => labels[i]);
  const width = Math.round((FULL_WIDTH - 40 * (COLUMNS - 1)) / COLUMNS);
  const panels = HEADLINE_METRICS.map((m): Json => {
    const points = views.flatMap((v) => {
      const value = metricValue(m, v.result);
      return value === null || (m.log && !(value > 0)) ? [] : [{ input: v.label, view: v.name, layer: v.layer!, value: sig(value) }];
    });
    const iso = [...new Set(views.map((v) => m.isoValue(a.inputs[v.input]?.dims ?? 1)).filter((x): x is number => x !== null))];
    return {
      title: { text: `${m.short}${m.log ? ' (log)' : ''}`, fontSize: 11, fontWeight: 'bold', offset: 4 },
      width,
      height: 120,
      layer: [
        {
          data: { values: iso.map((value) => ({ value: sig(value) })) },
          mark: { type: 'rule', strokeDash: [4, 3], color: '#999', strokeWidth: 1 },
          encoding: { y: { field: 'value', type: 'quantitative' } },
        },
        {
          data: { values: points },
          mark: { type: 'line', strokeWidth: 1.5, point: { size: 14, filled: true } },
          encoding: {
            x: { field: 'layer', type: 'quantitative', title: 'layer', scale: { domain: [Math.min(...layers), Math.max(...layers)], nice: false }, axis: { format: 'd', tickMinStep: 1, labelOverlap: 'greedy' } },
            y: { field: 'value', type: 'quantitative', title: null, scale: m.log ? { type: 'log' } : { zero: false }, axis: { tickCount: 4, format: '~g', labelOverlap: 'greedy' } },
            color: colorByView(views),
            detail: { field: 'input' },
            ...(inputs.length > 1 ? { strokeDash: { field: 'input', type: 'nominal', title: null, sort: inputs, scale: { domain: inputs, range: inputs.map((_, k) => INPUT_DASHES[k % INPUT_DASHES.length]) }, legend: { title: null, symbolType: 'stroke' } } } : {}),
            tooltip: [{ field: 'input' }, { field: 'view' }, { field: 'layer' }, { field: 'value', title: m.short, format: '.4g' }],
          },
        },
      ],
    };
  });
  const rows: Json[] = [];
  for (let k = 0; k < panels.length; k += COLUMNS) rows.push({ hconcat: panels.slice(k, k + COLUMNS), spacing: 40 });
  return {
    id: 'layer-metrics',
    title: 'Every headline metric across layers',
    caption:
      'Each panel is one metric against layer depth (0: the embedding layer), one line per input and view: colour for the '
      + 'view, dash for the input. Dashed grey: the value of a perfectly isotropic embedding. I(W) and the condition number '
      + 'span orders of magnitude and are on log axes. Layers where a metric could not be computed leave a gap.',
    spec: topLevel({ vconcat: rows, spacing: 16, resolve: { scale: { color: 'shared', strokeDash: 'shared' } } }),
  };
}
