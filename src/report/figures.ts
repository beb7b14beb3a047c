import type { Analysis } from '../analyze/schema.js';
import { quote } from '../io/errors.js';
import { CHARTS } from './charts/index.js';
import { ReportError } from './errors.js';
import { escapeHtml } from './escape.js';
import { renderSvg } from './render.js';
import { reportCharts } from './report.js';

/** One chart as a standalone figure for a paper. */
export interface FigureFile {
  /** the chart's id, also the file name stem (`<id>.svg`, `<id>.png`, `<id>.caption.txt`) */
  id: string;
  title: string;
  caption: string;
  /** a standalone SVG document (XML declaration, namespaces, white background) */
  svg: string;
  /**
   * the figure for a notebook cell or a web page: its title (bold), then the SVG as an `<img>`
   * with a `data:image/svg+xml;base64` URL. Viewers that sanitize inline `<svg>` (GitHub's notebook
   * preview, nbviewer, nbconvert 6.5 to 7.6) break vega's SVG, while an SVG image renders whole
   */
  html: string;
  /** the same at `scale` times its size, when a rasterizer is installed and `png` was asked for */
  png?: Uint8Array;
}

/** Options of {@link renderFigures}. */
export interface FigureOptions {
  /** also rasterize each figure to PNG, when `@resvg/resvg-js` is installed; default true */
  png?: boolean;
  /** pixels per SVG pixel in the PNG; default 3 (about 300 dpi at the charts' size on paper) */
  scale?: number;
  /** called after each figure: `done` of `total`, and its id */
  onProgress?: (done: number, total: number, id: string) => void;
  /**
   * render only these charts (ids of `CHARTS`, e.g. `['std-histogram', 'spectrum']`), in page
   * order; default every chart. An id the analysis cannot draw (no diagnostics, one layer) is
   * left out, as without `only`; an id that is no chart is a {@link ReportError}
   */
  only?: readonly string[];
}

/** What {@link renderFigures} made, and why there is no PNG when there is none. */
export interface FigureSet {
  figures: FigureFile[];
  /** null when PNGs were made (or not asked for); else one sentence saying why not */
  pngUnavailable: string | null;
}

type Rasterize = (svg: string, scale: number) => Uint8Array;
let rasterizer: Promise<Rasterize | string> | null = null;

/**
 * The PNG rasterizer, resvg (a Rust SVG renderer, prebuilt for each platform in its npm
 * packages, so installing it downloads nothing else), or why it cannot be used. Loaded once.
 */
export function loadRasterizer(): Promise<Rasterize | string> {
  rasterizer ??= import('@resvg/resvg-js').then(
    ({ Resvg }): Rasterize => (svg, scale) =>
      new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, background: 'white', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng(),
    (e: Error) => `PNG needs the optional package @resvg/resvg-js, which is not installed or does not load here (${e.message.split('\n')[0].slice(0, 120)}): npm install @resvg/resvg-js`,
  );
  return rasterizer;
}

/** Vega's SVG as a file of its own: an XML declaration and the namespaces a standalone file needs. */
export function standaloneSvg(svg: string): string {
  let out = svg;
  if (!/^<svg[^>]*\sxmlns=/.test(out)) out = out.replace(/^<svg/, '<svg xmlns="http://www.w3.org/2000/svg"');
  if (/xlink:href=/.test(out) && !/^<svg[^>]*\sxmlns:xlink=/.test(out)) out = out.replace(/^<svg/, '<svg xmlns:xlink="http://www.w3.org/1999/xlink"');
  return `<?xml version="1.0" encoding="UTF-8"?>\n${out}\n`;
}

/** {@link FigureFile.html}: the title, then the SVG as an image from a data URL. */
export function figureHtml(title: string, svg: string): string {
  const t = escapeHtml(title);
  return `<p><b>${t}</b></p><img alt="${t}" src="data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}">`;
}

/**
 * Every chart of the report as a standalone SVG with its title and caption (for a figure's
 * caption in a paper), and as PNG when the optional rasterizer is installed. The same charts,
 * drawn the same way, as {@link renderReport}'s page; `only` picks some of them (a notebook shows
 * one chart per cell).
 *
 * @throws ReportError when `analysis` is not an analysis, or `only` names no chart
 */
export async function renderFigures(analysis: Analysis, opts: FigureOptions = {}): Promise<FigureSet> {
  const only = opts.only ? new Set(opts.only) : null;
  if (only) {
    const unknown = [...only].filter((id) => !CHARTS.some((c) => c.id === id));
    if (unknown.length) {
      throw new ReportError(`no chart named ${unknown.map((id) => quote(id)).join(', ')}; the charts are ${CHARTS.map((c) => c.id).join(', ')}`);
    }
  }
  const charts = reportCharts(analysis).flatMap((c) => (c.chart && (!only || only.has(c.chart.id)) ? [c.chart] : []));
  const raster = opts.png === false ? null : await loadRasterizer();
  const scale = opts.scale ?? 3;
  const figures: FigureFile[] = [];
  for (const chart of charts) {
    const svg = standaloneSvg(await renderSvg(chart.spec, chart.id));
    const png = typeof raster === 'function' ? raster(svg, scale) : undefined;
    figures.push({ id: chart.id, title: chart.title, caption: chart.caption, svg, html: figureHtml(chart.title, svg), ...(png ? { png } : {}) });
    opts.onProgress?.(figures.length, charts.length, chart.id);
  }
  return { figures, pngUnavailable: typeof raster === 'string' ? raster : null };
}
