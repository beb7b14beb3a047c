import type { Analysis } from '../analyze/schema.js';
import type { ProbeResult } from '../probe/schema.js';
import { checkProbeResult } from '../probe/validate.js';
import { CHARTS, type ChartEntry } from './charts/index.js';
import type { Chart } from './charts/common.js';
import { ReportError } from './errors.js';
import { formatNumber } from './format.js';
import { pageHtml, type FigurePart, type SectionPart } from './html.js';
import { browserBundles, shareImages } from './interactive.js';
import { hasLayers, inputLabels } from './model.js';
import { probeSectionHtml } from './probe-section.js';
import { provenanceHtml } from './provenance.js';
import { renderSvg } from './render.js';
import { summaryTableHtml } from './summary-table.js';

/** Options of {@link renderReport}. */
export interface ReportOptions {
  /**
   * also inline the vega, vega-lite and vega-embed browser bundles (about 0.8 MB) and the chart
   * specs, so that the charts get tooltips and wheel zoom, still without any network access;
   * default false (static SVG only, no script at all)
   */
  interactive?: boolean;
  /** page title; default "Isotropy report: <labels>" */
  title?: string;
  /** called after each chart is drawn: `done` of `total` charts, and the chart's id */
  onProgress?: (done: number, total: number, id: string) => void;
  /**
   * a probe result (`isotropy probe --json`, `probeFiles`) to show in a last section: accuracy with
   * and without IsoBN, and the isotropy of the classifier's input; checked with `checkProbeResult`
   */
  probe?: ProbeResult;
}

const NO_DIAGNOSTICS = 'This analysis carries no per-dimension diagnostics (it was saved without them), so this figure cannot be drawn.';

const RESCALING_NOTE = `<div class="note"><p><strong>Rescaling leaves correlations unchanged.</strong>
IsoBN, its running variant and standardization multiply each dimension i by its own factor a<sub>i</sub>.
A correlation ρ<sub>ij</sub> = cov<sub>ij</sub> / (s<sub>i</sub> s<sub>j</sub>) then becomes
a<sub>i</sub>a<sub>j</sub> cov<sub>ij</sub> / (a<sub>i</sub>s<sub>i</sub> · a<sub>j</sub>s<sub>j</sub>) = ρ<sub>ij</sub>:
the heatmap, the histogram of correlations and the mean |correlation| are exactly the same before and after.</p>
<p>What a rescaling does change is the scale of each dimension: the per-dimension standard deviations
(<a href="#spread">spread of the dimensions</a>), and through them the covariance, its eigen-spectrum (<a href="#spectrum">eigen-spectrum</a>),
IsoScore, I(W) and the average cosine (<a href="#summary">the summary</a>). Only transforms that rotate the space,
whitening and all-but-the-top (ABTT), change the correlations.</p></div>`;

/** Throws a {@link ReportError} unless `a` looks like an analysis whose results point at its inputs. */
function checkAnalysis(a: Analysis): void {
  const ok = a && typeof a === 'object' && Array.isArray(a.inputs) && a.inputs.length > 0 && Array.isArray(a.results) && a.results.length > 0;
  if (!ok) throw new ReportError('not an isotropy analysis: expected "inputs" and "results" (the output of isotropy analyze --json)');
  for (const r of a.results) {
    if (!a.inputs[r.input]) throw new ReportError(`analysis result for input ${r.input}, but there are only ${a.inputs.length} inputs`);
  }
}

/** Why a chart could not be drawn, as a sentence for the page; "" when that needs no saying. */
function whyMissing(entry: ChartEntry, a: Analysis): string {
  const hasDiag = Boolean(a.diagnostics?.length);
  if (entry.needsDiagnostics && !hasDiag) return NO_DIAGNOSTICS;
  if (entry.id === 'isobn-factors') return 'No IsoBN transform in this analysis: run it with --transform isobn to see which dimensions IsoBN penalizes.';
  if (entry.id === 'rogue-dims') {
    const reason = a.results.find((r) => r.transform === 'none' && r.nullReasons?.rogueDims)?.nullReasons?.rogueDims;
    return `No rogue-dimension shares in this analysis${reason ? `: ${reason}` : ' (it was made by an older isotropy)'}.`;
  }
  return '';
}

/** Every chart the analysis can draw, in page order, with why the others cannot be drawn. */
export function reportCharts(a: Analysis): { entry: ChartEntry; chart: Chart | null; missing: string }[] {
  checkAnalysis(a);
  return CHARTS.filter((e) => e.section !== 'layers' || hasLayers(a)).map((entry) => {
    const chart = entry.build(a);
    return { entry, chart, missing: chart ? '' : whyMissing(entry, a) };
  });
}

/**
 * Renders an analysis as one self-contained HTML page: a header with provenance, a table of
 * contents, every headline metric at a glance and the summary table (a column per view, grouped
 * by input), then the charts: the spread of the per-dimension stds (the paper's Figure 1), rogue
 * dimensions, sorted stds, the correlation heatmap (the paper's Figure 2) and histogram, the
 * eigen-spectrum and cumulative variance, the metrics across layers (analyses of several layers),
 * IsoBN's factors and the PCA scatter, as SVG drawn on the server. The page references nothing
 * outside itself (no web fonts, no CDN), and every string from the analysis (paths, labels) is
 * escaped. Figures that need `analysis.diagnostics` are replaced by a note when it has none.
 * With `probe`, a last section shows the probe's result (see {@link probeSectionHtml}).
 *
 * @throws ReportError when `analysis` is not an analysis; ProbeError when `probe` is not a probe result
 */
export async function renderReport(analysis: Analysis, opts: ReportOptions = {}): Promise<string> {
  const probe = opts.probe === undefined ? undefined : checkProbeResult(opts.probe, 'ReportOptions.probe');
  const charts = reportCharts(analysis);
  const labels = inputLabels(analysis);
  const specs: Record<string, unknown> = {};
  const drawn = charts.filter((c) => c.chart).length;
  let done = 0;

  const section = async (id: ChartEntry['section'], title: string, intro?: string): Promise<SectionPart> => {
    const figures: FigurePart[] = [];
    const missing: string[] = [];
    for (const { entry, chart, missing: why } of charts.filter((c) => c.entry.section === id)) {
      if (!chart) {
        if (why && !missing.includes(why)) missing.push(why);
        continue;
      }
      const svg = await renderSvg(chart.spec, chart.id);
      figures.push({ id: chart.id, title: chart.title, caption: chart.caption, svg });
      if (opts.interactive) specs[chart.id] = shareImages(chart.spec, svg);
      opts.onProgress?.(++done, drawn, entry.id);
    }
    return { id, title, intro, figures, missing };
  };

  const d = [...new Set(analysis.inputs.map((i) => i.dims))];
  const many = analysis.inputs.length > 1;
  const sections: SectionPart[] = [
    await section('summary', 'Summary of the metrics',
      '<p>Every metric before and after each transform. In the table, under each value after a transform: the change from before '
      + '(a ratio for metrics that span orders of magnitude), green when it moves towards isotropy and red when it moves away. '
      + 'The "isotropic" column gives the value of a perfectly isotropic embedding of the same size; "n/a" marks a value that '
      + 'could not be computed, with the reason on hover and under the table.</p>'),
    await section('spread', 'Spread of the dimensions'),
    await section('correlations', 'Correlations between dimensions', RESCALING_NOTE),
    await section('spectrum', 'Eigen-spectrum'),
    ...(hasLayers(analysis) ? [await section('layers', 'Across layers')] : []),
    await section('isobn', 'IsoBN factors'),
    await section('pca', 'PCA scatter of a sample'),
    ...(probe ? [{ id: 'probe', title: 'Does IsoBN help a classifier? (probe)', intro: probeSectionHtml(probe), figures: [] }] : []),
  ];
  // the table goes after the glance chart
  sections[0].after = summaryTableHtml(analysis);

  const tool = analysis.tool ? `${analysis.tool.name} ${analysis.tool.version}` : 'isotropy-toolkit';
  const sizes = analysis.inputs.map((inp) => `${formatNumber(inp.rows)} × ${formatNumber(inp.dims)}`).join(', ');
  return pageHtml({
    title: opts.title ?? `Isotropy report: ${labels.join(', ')}`,
    lead: `How isotropic ${many ? 'are these embeddings' : 'is this embedding'} (${sizes}), and what does each transform do to ${many ? 'them' : 'it'}? `
      + `An isotropic embedding spreads its variance evenly over all ${d.length === 1 ? d[0] : 'its'} dimensions and directions.`,
    provenance: provenanceHtml(analysis),
    sections,
    footer: `Made by ${tool}${analysis.tool ? ` on ${analysis.tool.date}` : ''}. This file is self-contained: it loads nothing from the network`
      + `${opts.interactive ? '; the interactive charts run on the inlined vega, vega-lite and vega-embed' : ''}.`,
    interactive: opts.interactive ? { bundles: browserBundles(), specs } : undefined,
  });
}
