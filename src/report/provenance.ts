import type { Analysis, InputInfo } from '../analyze/schema.js';
import { escapeHtml } from './escape.js';
import { formatNumber } from './format.js';
import { inputLabels, reportViews, viewsOf } from './model.js';

function shapeText(inp: InputInfo): string {
  const shape = inp.shape ?? [inp.rows, inp.dims];
  const dims = shape.map((s) => formatNumber(s)).join(' × ');
  return inp.layer !== undefined && inp.layer !== null ? `${dims} (layer ${inp.layer}: ${formatNumber(inp.rows)} × ${formatNumber(inp.dims)})` : dims;
}

/** "IsoBN (eps = 0.001, beta = 0.5); whiten (keep = 768)" for the transforms of one input. */
export function transformsText(a: Analysis, input: number): string {
  const views = viewsOf(reportViews(a), input).filter((v) => v.kind !== 'none');
  if (!views.length) return 'none';
  return views.map((v) => {
    const params = Object.entries(v.result.params ?? {}).map(([k, x]) => `${k} = ${formatNumber(x)}`).join(', ');
    return params ? `${v.name} (${params})` : v.name;
  }).join('; ');
}

/**
 * The provenance block of the report header, one description list per input: file, shape,
 * dtype, order, sha256, dropped rows, transforms and parameters, PCA sample; then the tool.
 * Every string from the analysis is escaped.
 */
export function provenanceHtml(a: Analysis): string {
  const labels = inputLabels(a);
  const blocks = a.inputs.map((inp, i) => {
    const sample = a.samples?.find((s) => s.input === i);
    const items: [string, string][] = [
      ['file', `<code>${escapeHtml(inp.path)}</code>`],
      ['shape', escapeHtml(shapeText(inp))],
      ['dtype, order', `<code>${escapeHtml(inp.dtype)}</code>, ${inp.fortranOrder ? 'Fortran (column-major)' : 'C (row-major)'}`],
      ['sha256', inp.sha256 ? `<code class="hash">${escapeHtml(inp.sha256)}</code>` : 'not recorded (in-memory input)'],
      ['rows dropped', `${formatNumber(inp.droppedRows)} with NaN/Inf${inp.zeroRows ? `; ${formatNumber(inp.zeroRows)} all-zero rows left out of the cosine` : ''}`],
      ['transforms', escapeHtml(transformsText(a, i))],
    ];
    if (inp.shards?.length) items.push(['merged from', inp.shards.map((s) => `<code>${escapeHtml(s)}</code>`).join(', ')]);
    if (sample) items.push(['PCA sample', `${formatNumber(sample.rows)} rows, seed ${formatNumber(sample.seed)}`]);
    const dl = items.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('');
    return `<div class="input"><h3>${escapeHtml(labels[i])}</h3><dl>${dl}</dl></div>`;
  }).join('\n');
  const tool = a.tool
    ? `${escapeHtml(a.tool.name)} ${escapeHtml(a.tool.version)}, ${escapeHtml(a.tool.date)}`
    : 'not recorded';
  return `<div class="provenance">${blocks}\n<p class="tool">Made with ${tool}.</p></div>`;
}
