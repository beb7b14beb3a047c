import { FONT } from './charts/common.js';

/** The page's CSS: system fonts, A4 print layout, nothing loaded. */
export const REPORT_CSS = `
:root { --ink: #1d1d1f; --muted: #5b5b60; --rule: #d8d8dc; --better: #1a7f37; --worse: #b42318; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { font-family: ${FONT}; color: var(--ink); margin: 0 auto; max-width: 780px; padding: 24px 20px 48px; line-height: 1.45; font-size: 15px; background: #fff; }
h1 { font-size: 1.6em; margin: 0 0 .2em; overflow-wrap: anywhere; }
h2 { font-size: 1.25em; margin: 1.8em 0 .5em; padding-bottom: .2em; border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.05em; margin: .8em 0 .3em; overflow-wrap: anywhere; }
p { margin: .5em 0; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: .88em; overflow-wrap: anywhere; }
.lead { color: var(--muted); margin: 0 0 1em; }
.provenance { border: 1px solid var(--rule); border-radius: 6px; padding: 4px 14px 8px; background: #fafafb; font-size: .9em; }
.provenance dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: .3em 0 .6em; }
.provenance dt { color: var(--muted); }
.provenance dd { margin: 0; min-width: 0; }
.provenance .tool { color: var(--muted); margin: .4em 0 .2em; }
code.hash { word-break: break-all; }
table.inputs { border-collapse: collapse; margin: .5em 0 .3em; width: 100%; font-size: .92em; }
table.inputs th, table.inputs td { text-align: left; vertical-align: top; padding: 2px 12px 2px 0; min-width: 0; }
table.inputs thead th { font-size: 1.05em; }
table.inputs th[scope=row] { color: var(--muted); font-weight: normal; white-space: nowrap; }
table.inputs td code { overflow-wrap: anywhere; }
table.inputs code.hash { font-size: .85em; }
/* a table of many columns breaks out of the text column, centred on it */
.table-wrap.wide { width: min(1100px, calc(100vw - 40px)); margin-left: calc(50% - min(550px, calc(50vw - 20px))); }
nav.toc ol { margin: .3em 0; padding-left: 1.4em; columns: 2; }
nav.toc a { color: inherit; }
.note { border-left: 4px solid #4c78a8; background: #f4f7fb; padding: 8px 14px; margin: 1em 0; font-size: .93em; }
.missing { color: var(--muted); font-style: italic; }
figure.chart { margin: 1.2em 0 1.8em; break-inside: avoid; page-break-inside: avoid; }
figure.chart figcaption { font-weight: 600; margin-bottom: .4em; }
.chart-body { overflow-x: auto; }
.chart-body svg { display: block; max-width: 100%; height: auto; }
.chart-body .static + .live:empty { display: none; }
p.caption { color: var(--muted); font-size: .88em; margin-top: .3em; }
.table-wrap { overflow-x: auto; }
table.summary { border-collapse: collapse; font-size: .82em; width: 100%; margin: .6em 0 1.2em; }
table.summary caption { text-align: left; font-weight: 600; padding: 4px 0; overflow-wrap: anywhere; }
table.summary th, table.summary td { padding: 4px 6px 0; vertical-align: top; text-align: left; }
table.summary thead th { border-top: 3px solid transparent; border-bottom: 1px solid var(--rule); font-weight: 600; white-space: nowrap; padding-bottom: 4px; }
table.summary tbody.metric { border-bottom: 1px solid var(--rule); break-inside: avoid; page-break-inside: avoid; }
table.summary th[scope=row] { font-weight: 600; min-width: 10em; }
table.summary tr.read td { color: var(--muted); font-size: .92em; padding: 1px 6px 6px; }
table.summary td.iso { color: var(--muted); white-space: nowrap; }
table.summary td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.summary .change { display: block; color: var(--muted); font-size: .88em; }
table.summary .change.better { color: var(--better); }
table.summary .change.worse { color: var(--worse); }
table.summary th.group { text-align: center; font-weight: 600; border-top: 0; border-bottom: 1px solid var(--rule); overflow-wrap: anywhere; white-space: normal; }
table.summary .group-start { border-left: 1px solid var(--rule); }
table.summary td.na { color: var(--muted); cursor: help; }
table.summary td.na sup { font-size: .75em; margin-left: 1px; }
.table-notes { font-size: .8em; color: var(--muted); margin: -.6em 0 1em; padding-left: 1.4em; }
p.table-notes { padding-left: 0; }
footer { margin-top: 2.5em; color: var(--muted); font-size: .85em; border-top: 1px solid var(--rule); padding-top: .6em; }
@page { size: A4; margin: 14mm 12mm 16mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .chart-body { overflow: visible; }
  .table-wrap { overflow: visible; }
  .table-wrap.wide { width: auto; margin-left: 0; }
  table.summary { font-size: 8pt; }
  .vega-embed details, .vega-actions { display: none !important; }
  section { break-before: auto; }
}
`;
