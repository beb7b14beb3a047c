import type { TopLevelSpec } from 'vega-lite';
import type { ReportView } from '../model.js';
import { seriesScales, viewColorScale } from '../model.js';

/** A loosely typed piece of a Vega-Lite spec; whole specs are checked by compiling them. */
export type Json = Record<string, unknown>;

/** One figure of the report. */
export interface Chart {
  /** stable id, used for the figure's anchor and element ids */
  id: string;
  title: string;
  /** plain text under the figure: how to read it (escaped when written) */
  caption: string;
  spec: TopLevelSpec;
}

/** System fonts only: the report loads nothing from the web. */
export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, "Liberation Sans", sans-serif';

/** Width of the plotting area of a full-width chart, px (fits A4 portrait with margins). */
export const FULL_WIDTH = 560;

/** Vega-Lite config shared by every chart. */
export const CHART_CONFIG: Json = {
  font: FONT,
  // per-mark ARIA labels would add a sentence to every point of a scatter
  aria: false,
  background: 'white',
  padding: 4,
  title: { fontSize: 13, anchor: 'start', offset: 8, subtitleFontSize: 11, subtitleColor: '#555' },
  axis: { labelFontSize: 10, titleFontSize: 11, titleFontWeight: 'normal', gridColor: '#e6e6e6', domainColor: '#888', tickColor: '#888' },
  header: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', labelFontWeight: 'bold' },
  legend: { labelFontSize: 10, titleFontSize: 11, titleFontWeight: 'normal', orient: 'bottom', direction: 'horizontal', symbolStrokeWidth: 2 },
  view: { stroke: '#ccc' },
  concat: { spacing: 18 },
  facet: { spacing: 10 },
};

/**
 * Colour and stroke-dash encodings of the `series` field for charts that overlay every (input,
 * layer, view) on one axis: one colour per series (the view's hue, darker or lighter per group)
 * and one dash per input, merged by Vega-Lite into one legend whose rows are the groups.
 */
export function seriesEncoding(views: readonly ReportView[], opts: { dash?: boolean } = {}): Json {
  const { domain, colors, dashes } = seriesScales(views);
  const perGroup = Math.max(1, ...countBy(views.map((v) => v.group)));
  // Vega lays text out by an estimate of 0.8 font sizes a character (no canvas on the server)
  const labelWidth = Math.ceil(0.8 * 10 * Math.max(...domain.map((s) => s.length)));
  const columns = Math.max(1, Math.min(perGroup, 4, Math.floor((FULL_WIDTH + 40) / (labelWidth + 40))));
  const legend = { title: null, columns, labelLimit: Math.min(labelWidth + 4, FULL_WIDTH), columnPadding: 10, symbolType: 'stroke' };
  return {
    color: { field: 'series', type: 'nominal', title: null, scale: { domain, range: colors }, legend, sort: domain },
    ...(opts.dash !== false && dashes.some((d) => d.length) ? { strokeDash: { field: 'series', type: 'nominal', title: null, scale: { domain, range: dashes }, legend, sort: domain } } : {}),
  };
}

function countBy(keys: readonly number[]): number[] {
  const m = new Map<number, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m.values()];
}

/**
 * Indices 0..n-1 to draw of a smooth curve of n points on a log x axis: the first `head` all,
 * then about `rest` more spaced evenly in log(index), and always the last. At d = 768 the
 * eigen-spectrum keeps about 160 of 768 points, the same picture at a fifth of the marks.
 */
export function logThin(n: number, head = 40, rest = 120): number[] {
  if (n <= head + rest) return Array.from({ length: n }, (_, i) => i);
  const out = new Set<number>();
  for (let i = 0; i < head; i++) out.add(i);
  const a = Math.log(head), b = Math.log(n - 1);
  for (let k = 0; k <= rest; k++) out.add(Math.round(Math.exp(a + ((b - a) * k) / rest)));
  out.add(n - 1);
  return [...out].sort((p, q) => p - q);
}

/**
 * Indices 0..n-1 to draw of a monotone curve on a linear x axis of about `width` px: the first
 * `head` (where sorted stds change fastest), then one point every `px` pixels, and the last.
 */
export function linearThin(n: number, width = FULL_WIDTH, head = 24, px = 2): number[] {
  const step = Math.max(1, Math.floor((n * px) / width));
  if (step === 1) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (i < head || i % step === 0 || i === n - 1) out.push(i);
  return out;
}

/** Colour encoding of the `view` field with the report's colours. */
export function colorByView(views: readonly ReportView[], extra: Json = {}): Json {
  return { field: 'view', type: 'nominal', title: null, scale: viewColorScale(views), legend: { title: null }, ...extra };
}

/**
 * Wraps a spec body as a top-level spec with the shared config; `datasets` are named data sets
 * that several views reference as `data: { name }`, so they are inlined only once.
 */
export function topLevel(body: Json, datasets?: Record<string, Json[]>): TopLevelSpec {
  // no $schema: the page then holds no web address at all, and vega-embed is told the mode
  return {
    ...(datasets ? { datasets } : {}),
    ...body,
    config: CHART_CONFIG,
  } as unknown as TopLevelSpec;
}

/**
 * Stacks one block per input (vconcat, each titled with the input's label) when there are several
 * inputs; a single block is returned as it is.
 */
export function perInput(blocks: Json[], labels: readonly string[]): Json {
  if (blocks.length === 1) return blocks[0];
  return { vconcat: blocks.map((b, i) => ({ ...b, title: { text: labels[i], fontSize: 12, anchor: 'start' } })), resolve: { scale: { color: 'shared' } } };
}

/** Interval selection that zooms and pans the scales with the wheel and drag (interactive pages). */
export function zoomParam(name: string): Json {
  return { name, select: { type: 'interval', encodings: ['x', 'y'] }, bind: 'scales' };
}
