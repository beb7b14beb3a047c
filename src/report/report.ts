import type { Analysis } from '../analyze/schema.js';
import type { Chart } from './charts/common.js';
import { corrHeatmapChart } from './charts/corr-heatmap.js';
import { corrHistogramChart } from './charts/corr-histogram.js';
import { isobnFactorsChart } from './charts/isobn-factors.js';
import { pcaScatterChart } from './charts/pca-scatter.js';
import { spectrumChart } from './charts/spectrum.js';
import { stdHistogramChart } from './charts/std-histogram.js';
import { stdSortedChart } from './charts/std-sorted.js';
import { ReportError } from './errors.js';
import { formatNumber } from './format.js';
import { pageHtml, type FigurePart, type SectionPart } from './html.js';
import { browserBundles, shareImages } from './interactive.js';
import { inputLabels } from './model.js';
import { provenanceHtml } from './provenance.js';
import { renderSvg } from './render.js';
import { summaryTablesHtml } from './summary-table.js';

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
}

const NO_DIAGNOSTICS = 'This analysis carries no per-dimension diagnostics (it was saved without them), so this figure cannot be drawn.';

const RESCALING_NOTE = `<div class="note"><p><strong>Rescaling leaves correlations unchanged.</strong>
IsoBN, its running variant and standardization multiply each dimension i by its own factor a<sub>i</sub>.
A correlation ρ<sub>ij</sub> = cov<sub>ij</sub> / (s<sub>i</sub> s<sub>j</sub>) then becomes
a<sub>i</sub>a<sub>j</sub> cov<sub>ij</sub> / (a<sub>i</sub>s<sub>i</sub> · a<sub>j</sub>s<sub>j</sub>) = ρ<sub>ij</sub>:
the heatmap, the histogram of correlations and the mean |correlation| are exactly the same before and after.</p>
<p>What a rescaling does change is the scale of each dimension: the per-dimension standard deviations
(<a href="#spread">section 2</a>), and through them the covariance, its eigen-spectrum (<a href="#spectrum">section 4</a>),
IsoScore, I(W) and the average cosine (<a href="#summary">section 1</a>). Only transforms that rotate the space,
whitening and all-but-the-top (ABTT), change the correlations.</p></div>`;

function checkAnalysis(a: Analysis): void {
  const ok = a && typeof a === 'object' && Array.isArray(a.inputs) && a.inputs.length > 0 && Array.isArray(a.results) && a.results.length > 0;
  if (!ok) throw new ReportError('not an isotropy analysis: expected "inputs" and "results" (the output of isotropy analyze --json)');
  for (const r of a.results) {
    if (!a.inputs[r.input]) throw new ReportError(`analysis result for input ${r.input}, but there are only ${a.inputs.length} inputs`);
  }
}

/**
 * Renders an analysis as one self-contained HTML page: a header with provenance, a table of
 * contents, the summary table and the paper's diagnostics (std histogram, sorted stds,
 * correlation heatmap and histogram, eigen-spectrum, IsoBN factors, PCA scatter) as SVG drawn
 * on the server. The page references nothing outside itself (no web fonts, no CDN), and every
 * string from the analysis (paths, labels) is escaped.
 *
 * Figures that need `analysis.diagnostics` are replaced by a note when the analysis has none.
 *
 * @throws ReportError when `analysis` is not an analysis
 */
export async function renderReport(analysis: Analysis, opts: ReportOptions = {}): Promise<string> {
  checkAnalysis(analysis);
  const labels = inputLabels(analysis);
  const hasDiag = Boolean(analysis.diagnostics?.length);
  let figureNo = 0;
  const specs: Record<string, unknown> = {};

  const section = async (id: string, title: string, charts: [Chart | null, string][], intro?: string): Promise<SectionPart> => {
    const figures: FigurePart[] = [];
    const missing: string[] = [];
    for (const [chart, whyMissing] of charts) {
      if (!chart) {
        missing.push(whyMissing);
        continue;
      }
      const svg = await renderSvg(chart.spec, chart.id);
      figures.push({ id: chart.id, number: ++figureNo, title: chart.title, caption: chart.caption, svg });
      if (opts.interactive) specs[chart.id] = shareImages(chart.spec, svg);
    }
    return { id, title, intro, figures, missing };
  };

  const d = analysis.inputs.map((i) => i.dims);
  const noIsobn = hasDiag
    ? 'No IsoBN transform in this analysis: run it with --transform isobn to see which dimensions IsoBN penalizes.'
    : NO_DIAGNOSTICS;
  const sections: SectionPart[] = [
    {
      id: 'summary',
      title: 'Summary of the metrics',
      intro: '<p>Every metric before and after each transform. Under each value after a transform: the change from before, '
        + 'green when it moves towards isotropy and red when it moves away. The "isotropic" column gives the value of a '
        + 'perfectly isotropic embedding of the same size.</p>\n' + summaryTablesHtml(analysis),
      figures: [],
    },
    await section('spread', 'Spread of the dimensions', [[stdHistogramChart(analysis), NO_DIAGNOSTICS], [stdSortedChart(analysis), '']]),
    await section('correlations', 'Correlations between dimensions', [[corrHeatmapChart(analysis), NO_DIAGNOSTICS], [corrHistogramChart(analysis), '']], RESCALING_NOTE),
    await section('spectrum', 'Eigen-spectrum', [[spectrumChart(analysis), '']]),
    await section('isobn', 'IsoBN factors', [[isobnFactorsChart(analysis), noIsobn]]),
    await section('pca', 'PCA scatter of a sample', [[pcaScatterChart(analysis), NO_DIAGNOSTICS]]),
  ];
  for (const s of sections) s.missing = [...new Set((s.missing ?? []).filter(Boolean))];

  const tool = analysis.tool ? `${analysis.tool.name} ${analysis.tool.version}` : 'isotropy-toolkit';
  const sizes = analysis.inputs.map((inp) => `${formatNumber(inp.rows)} × ${formatNumber(inp.dims)}`).join(', ');
  return pageHtml({
    title: opts.title ?? `Isotropy report: ${labels.join(', ')}`,
    lead: `How isotropic ${analysis.inputs.length > 1 ? 'are these embeddings' : 'is this embedding'} (${sizes}), and what does each transform do to ${analysis.inputs.length > 1 ? 'them' : 'it'}? `
      + `An isotropic embedding spreads its variance evenly over all ${d.length === 1 ? d[0] : 'its'} dimensions and directions.`,
    provenance: provenanceHtml(analysis),
    sections,
    footer: `Made by ${tool}${analysis.tool ? ` on ${analysis.tool.date}` : ''}. This file is self-contained: it loads nothing from the network`
      + `${opts.interactive ? '; the interactive charts run on the inlined vega, vega-lite and vega-embed' : ''}.`,
    interactive: opts.interactive ? { bundles: browserBundles(), specs } : undefined,
  });
}
