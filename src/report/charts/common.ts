import type { TopLevelSpec } from 'vega-lite';
import type { ReportView } from '../model.js';
import { viewColorScale } from '../model.js';

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
  return withoutLineSeparators({
    ...(datasets ? { datasets } : {}),
    ...body,
    config: CHART_CONFIG,
  }) as unknown as TopLevelSpec;
}

/**
 * The spec with U+2028 and U+2029 replaced by spaces in every string (labels, file names, data).
 * Vega-Lite writes field values such as a `sort` order into Vega expressions as JSON literals;
 * JSON quoting escapes everything else, but leaves these two raw, and Vega's expression parser
 * reads them as line breaks inside a string ("Unexpected token ILLEGAL"). Drawn, they are blank
 * anyway. Done here, for every chart, so that no user string can reach an expression unescaped.
 */
export function withoutLineSeparators<T>(value: T): T {
  if (typeof value === 'string') return (/[\u2028\u2029]/.test(value) ? value.replace(/[\u2028\u2029]/g, ' ') : value) as T;
  if (Array.isArray(value)) return value.map((v) => withoutLineSeparators(v)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = withoutLineSeparators(v);
    return out as T;
  }
  return value;
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
