/**
 * isotropy-toolkit: how isotropic are your embeddings, and what does IsoBN do to them?
 *
 * Read embeddings in any format (`openEmbeddings`; `readEmbeddings`, `openNpy` for .npy), compute one-pass sufficient statistics
 * (`StatsAccumulator`) and the metrics built from them, transform with IsoBN and friends, and run
 * the whole analysis (`analyze`) as `isotropy analyze` does, and render it as one offline HTML page
 * (`renderReport`), or as one SVG (and PNG) per chart for a paper (`renderFigures`); the chart
 * builders are in `isotropy-toolkit/report`.
 */
import type { Analysis } from './analyze/index.js';
import type { FigureOptions, FigureSet, ReportOptions } from './report/index.js';

export * from './io/index.js';
export * from './stats/index.js';
export * from './transforms/index.js';
export * from './analyze/index.js';
export * from './extract/index.js';
export { ReportError } from './report/errors.js';
export { captionText } from './report/caption.js';
export type { ReportOptions, FigureFile, FigureOptions, FigureSet } from './report/index.js';
// a saved probe result, for the report (the probe itself, with tfjs, is `isotropy-toolkit/probe`)
export { checkProbeResult } from './probe/validate.js';
export { ProbeError } from './probe/errors.js';
export { PROBE_SCHEMA, type ProbeResult } from './probe/schema.js';

/**
 * An analysis (from {@link analyze}, with its diagnostics) as one self-contained HTML page: charts
 * pre-rendered to SVG, no network access when opened. Loads vega on first use (about 0.3 s), so
 * importing this package stays fast. `opts.probe` adds a section with a probe result.
 *
 * @throws ReportError when `analysis` is not one; ProbeError when `opts.probe` is not a probe result
 */
export async function renderReport(analysis: Analysis, opts?: ReportOptions): Promise<string> {
  const report = await import('./report/index.js');
  return report.renderReport(analysis, opts);
}

/**
 * Every chart of the report of an analysis as a standalone SVG with its title and caption, as an
 * HTML fragment for a notebook (`html`: the SVG as an `<img>`), and as PNG when the optional
 * package `@resvg/resvg-js` is installed (`pngUnavailable` says why not otherwise); `opts.only`
 * picks charts by id (`'std-histogram'`, `'corr-heatmap'`, `'spectrum'`, ...:
 * the ids of `CHARTS` in `isotropy-toolkit/report`). Loads vega on first use, so this also works
 * where `isotropy-toolkit/report` cannot be loaded synchronously (CommonJS `require`, the tslab
 * notebook kernel: vega's graph holds a top-level await).
 *
 * @throws ReportError when `analysis` is not one, or `opts.only` names no chart
 */
export async function renderFigures(analysis: Analysis, opts?: FigureOptions): Promise<FigureSet> {
  const report = await import('./report/index.js');
  return report.renderFigures(analysis, opts);
}
