import { escapeHtml, jsonForScript } from './escape.js';
import { EMBED_SCRIPT } from './interactive.js';
import { REPORT_CSS } from './style.js';

/** One figure as it goes on the page. */
export interface FigurePart {
  id: string;
  title: string;
  caption: string;
  svg: string;
}

/** One section: a heading, HTML before the figures, the figures, or a note when it has none. */
export interface SectionPart {
  id: string;
  title: string;
  /** trusted HTML (built by the report with every user string escaped) */
  intro?: string;
  figures: FigurePart[];
  /** trusted HTML after the figures */
  after?: string;
  /** shown instead of figures that could not be drawn (plain text) */
  missing?: string[];
}

export interface PageParts {
  title: string;
  /** plain text under the title */
  lead: string;
  /** trusted HTML */
  provenance: string;
  sections: SectionPart[];
  /** plain text for the footer */
  footer: string;
  /** interactive pages: the scripts to inline, and each figure's Vega-Lite spec by id */
  interactive?: { bundles: string[]; specs: Record<string, unknown> };
}

/**
 * Content-Security-Policy of the page: nothing may be loaded from anywhere; images only from
 * data: URLs (the heatmaps). Interactive pages run their inline scripts, and Vega compiles its
 * expressions with `new Function`, hence 'unsafe-eval'.
 */
function csp(interactive: boolean): string {
  const script = interactive ? "'unsafe-inline' 'unsafe-eval'" : "'none'";
  return `default-src 'none'; img-src data: blob:; style-src 'unsafe-inline'; script-src ${script}; base-uri 'none'; form-action 'none'`;
}

function figureHtml(f: FigurePart, interactive: boolean): string {
  const body = interactive ? `<div class="static">${f.svg}</div><div class="live"></div>` : f.svg;
  return `<figure class="chart" id="fig-${f.id}">
<figcaption>${escapeHtml(f.title)}</figcaption>
<div class="chart-body" id="chart-${f.id}" data-chart="${f.id}">${body}</div>
<p class="caption">${escapeHtml(f.caption)}</p>
</figure>`;
}

/** Assembles the report page: one self-contained HTML document. */
export function pageHtml(p: PageParts): string {
  const interactive = Boolean(p.interactive);
  const toc = p.sections.map((s) => `<li><a href="#${s.id}">${escapeHtml(s.title)}</a></li>`).join('');
  const sections = p.sections.map((s, k) => {
    const missing = (s.missing ?? []).map((m) => `<p class="missing">${escapeHtml(m)}</p>`).join('\n');
    const figures = s.figures.map((f) => figureHtml(f, interactive)).join('\n');
    return `<section id="${s.id}">\n<h2>${k + 1}. ${escapeHtml(s.title)}</h2>\n${s.intro ?? ''}\n${figures}\n${s.after ?? ''}\n${missing}\n</section>`;
  }).join('\n');
  const scripts = p.interactive
    ? [
      ...p.interactive.bundles.map((b) => `<script>${b}</script>`),
      `<script type="application/json" id="report-specs">${jsonForScript(p.interactive.specs)}</script>`,
      `<script>${EMBED_SCRIPT}</script>`,
    ].join('\n')
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp(interactive)}">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(p.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(p.title)}</h1>
<p class="lead">${escapeHtml(p.lead)}</p>
${p.provenance}
</header>
<nav class="toc" aria-label="Contents">
<h2>Contents</h2>
<ol>${toc}</ol>
</nav>
<main>
${sections}
</main>
<footer>${escapeHtml(p.footer)}</footer>
${scripts}
</body>
</html>
`;
}
