import type { Analysis, InputInfo } from '../analyze/schema.js';
import { escapeHtml } from './escape.js';
import { formatNumber } from './format.js';
import { inputLabels, reportViews, viewsOf } from './model.js';

function shapeText(inp: InputInfo): string {
  const shape = inp.shape ?? [inp.rows, inp.dims];
  const dims = shape.map((s) => formatNumber(s)).join(' × ');
  if (inp.layers?.length) return `${dims} (layers ${inp.layers.join(', ')}: ${formatNumber(inp.rows)} × ${formatNumber(inp.dims)} each)`;
  return inp.layer !== undefined && inp.layer !== null ? `${dims} (layer ${inp.layer}: ${formatNumber(inp.rows)} × ${formatNumber(inp.dims)})` : dims;
}

/** "IsoBN (eps = 0.001, beta = 0.5); whiten (keep = 768)" for the transforms of one input. */
export function transformsText(a: Analysis, input: number): string {
  const seen = new Set<string>();
  const views = viewsOf(reportViews(a), input).filter((v) => v.kind !== 'none' && (seen.has(v.kind) ? false : (seen.add(v.kind), true)));
  if (!views.length) return 'none';
  return views.map((v) => {
    const params = Object.entries(v.result.params ?? {}).map(([k, x]) => `${k} = ${formatNumber(x)}`).join(', ');
    return params ? `${v.name} (${params})` : v.name;
  }).join('; ');
}

/** The files of a dataset read as one: how many, the first and last (the JSON lists all, with their sha256). */
function filesText(inp: InputInfo): string {
  const files = inp.files!;
  const code = (f: { path: string; rows: number }) => `<code>${escapeHtml(f.path)}</code> (${formatNumber(f.rows)} rows)`;
  const shown = files.length <= 3 ? files.map(code).join(', ') : `${code(files[0])}, ..., ${code(files[files.length - 1])}`;
  return `${formatNumber(files.length)}: ${shown}`;
}

/** Where no one sha256 stands for the input: per file, or the remote file's ETag and size. */
function filesIdentity(inp: InputInfo): string {
  const files = inp.files!;
  if (files.length > 1) return `one per file, in the JSON (${formatNumber(files.filter((f) => f.sha256).length)} of ${formatNumber(files.length)} recorded)`;
  const f = files[0];
  const etag = f.etag ? `ETag <code>${escapeHtml(f.etag)}</code>, ` : '';
  return `not recorded (remote file not read whole: ${etag}${formatNumber(f.size ?? 0)} bytes, ${formatNumber(f.fetched ?? 0)} fetched)`;
}

/** The provenance items of one input, as [name, trusted HTML] pairs. */
function items(a: Analysis, i: number): [string, string][] {
  const inp = a.inputs[i];
  const sample = a.samples?.find((s) => s.input === i);
  const out: [string, string][] = [
    ['file', `<code>${escapeHtml(inp.path)}</code>`],
    ['shape', escapeHtml(shapeText(inp))],
    ['dtype, order', `<code>${escapeHtml(inp.dtype)}</code>, ${inp.fortranOrder ? 'Fortran (column-major)' : 'C (row-major)'}`],
    ['sha256', inp.sha256 ? `<code class="hash">${escapeHtml(inp.sha256)}</code>` : inp.files?.length ? filesIdentity(inp) : 'not recorded (in-memory input)'],
    ['rows dropped', `${formatNumber(inp.droppedRows)} with NaN/Inf${inp.zeroRows ? `; ${formatNumber(inp.zeroRows)} all-zero rows left out of the cosine` : ''}`],
    ['transforms', escapeHtml(transformsText(a, i))],
  ];
  if (inp.files && (inp.files.length > 1 || inp.files[0].path !== inp.path)) out.push(['files', filesText(inp)]);
  if (inp.shards?.length) out.push(['merged from', inp.shards.map((s) => `<code>${escapeHtml(s)}</code>`).join(', ')]);
  if (sample) out.push(['PCA sample', `${formatNumber(sample.rows)} rows, seed ${formatNumber(sample.seed)}`]);
  return out;
}

/**
 * The provenance block of the report header: file, shape, dtype, order, sha256, dropped rows,
 * transforms and parameters, PCA sample of each input, then the tool. One input: a description
 * list; several: one table with a column per input, where a line that is the same for every input
 * is written once across them. Every string from the analysis is escaped.
 */
export function provenanceHtml(a: Analysis): string {
  const labels = inputLabels(a);
  let body: string;
  if (a.inputs.length === 1) {
    const dl = items(a, 0).map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('');
    body = `<div class="input"><h3>${escapeHtml(labels[0])}</h3><dl>${dl}</dl></div>`;
  } else {
    const per = a.inputs.map((_, i) => new Map(items(a, i)));
    const names = [...new Set(per.flatMap((m) => [...m.keys()]))];
    const n = a.inputs.length;
    const rows = names.map((name) => {
      const cells = per.map((m) => m.get(name) ?? '');
      const same = cells.every((c) => c === cells[0]);
      const tds = same ? `<td colspan="${n}">${cells[0]}</td>` : cells.map((c) => `<td>${c}</td>`).join('');
      return `<tr><th scope="row">${name}</th>${tds}</tr>`;
    }).join('');
    const head = `<tr><td></td>${labels.map((l) => `<th scope="col">${escapeHtml(l)}</th>`).join('')}</tr>`;
    body = `<div class="table-wrap"><table class="inputs"><thead>${head}</thead><tbody>${rows}</tbody></table></div>`;
  }
  const tool = a.tool
    ? `${escapeHtml(a.tool.name)} ${escapeHtml(a.tool.version)}, ${escapeHtml(a.tool.date)}`
    : 'not recorded';
  return `<div class="provenance">${body}\n<p class="tool">Made with ${tool}.</p></div>`;
}
