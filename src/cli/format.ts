import type { Analysis, TransformResult } from '../index.js';

/** A number as a person reads it in a table: 6 significant digits, exponent when far from 1; "n/a" when missing. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return 'n/a';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
}

const ROWS: Array<[string, (r: TransformResult) => number | null]> = [
  ['meanNorm', (r) => r.meanNorm],
  ['std.mean', (r) => r.std.mean],
  ['std.std', (r) => r.std.std],
  ['std.min', (r) => r.std.min],
  ['std.max', (r) => r.std.max],
  ['std.cv', (r) => r.std.cv],
  ['corr.meanAbs', (r) => r.corr.meanAbs],
  ['corr.maxAbs', (r) => r.corr.maxAbs],
  ['constantDims', (r) => r.constantDims],
  ['spectrum.top1', (r) => r.spectrum.top1],
  ['spectrum.top10', (r) => r.spectrum.top10],
  ['spectrum.effectiveRank', (r) => r.spectrum.effectiveRank],
  ['spectrum.condition', (r) => r.spectrum.condition],
  ['isoScore', (r) => r.isoScore],
  ['partitionIsotropy', (r) => r.partitionIsotropy],
  ['avgCosine', (r) => r.avgCosine],
];

/** Widest table before the columns are split into several tables, in characters. */
export const MAX_TABLE_WIDTH = 150;

/** Why a metric of a result is null: the analysis' reason, else the usual one. */
function whyNull(name: string, r: TransformResult): string {
  const own = r.nullReasons?.[name];
  if (own) return own;
  if (name === 'partitionIsotropy' || (name === 'avgCosine' && r.transform !== 'none')) return 'not computed: needs the second pass over the rows (--one-pass, or merged statistics)';
  if (name === 'spectrum.condition') return 'the covariance is rank-deficient: the condition number is infinite';
  return 'could not be computed';
}

/** Display names of the inputs: the label, else the path; repeats numbered. */
function inputNames(a: Analysis): string[] {
  const seen = new Map<string, number>();
  return a.inputs.map((inp) => {
    const base = inp.label ?? inp.path;
    const k = (seen.get(base) ?? 0) + 1;
    seen.set(base, k);
    return k === 1 ? base : `${base} (${k})`;
  });
}

/** `, read from 12 files` for a dataset; `, 1.2 MB of 40 MB fetched` for a remote file. */
function filesText(inp: Analysis['inputs'][number]): string {
  const files = inp.files;
  if (!files?.length) return '';
  const remote = files.filter((f) => f.size !== undefined);
  const mb = (b: number) => {
    const [div, unit] = b < 1e3 ? [1, 'bytes'] : b < 1e6 ? [1e3, 'KB'] : b < 1e9 ? [1e6, 'MB'] : [1e9, 'GB'];
    return `${Number((b / div).toPrecision(3))} ${unit}`;
  };
  const fetched = remote.length ? `, ${mb(remote.reduce((s, f) => s + (f.fetched ?? 0), 0))} of ${mb(remote.reduce((s, f) => s + (f.size ?? 0), 0))} fetched` : '';
  return `${files.length > 1 ? `, read from ${files.length} files` : ''}${fetched}`;
}

/**
 * The aligned text table of `isotropy analyze`: a header per input (path, shape), then one table
 * with a column per transform, grouped under each input's label (and layer) when there are
 * several; a metric that could not be computed reads "n/a", with the reasons listed under the
 * table. Very wide tables are split into several, a few inputs each.
 */
export function formatAnalysis(a: Analysis): string {
  const out: string[] = [];
  const names = inputNames(a);
  a.inputs.forEach((inp) => {
    const shape = inp.shape ? `shape (${inp.shape.join(', ')}), ${inp.layers?.length ? `layers ${inp.layers.join(', ')}` : `layer ${inp.layer}`}, ` : '';
    const stem = inp.path.split(/[\\/]/).pop()!.replace(/\.[^.]*$/, '');
    out.push(inp.label && inp.label !== inp.path && inp.label !== stem ? `${inp.path} (${inp.label})` : inp.path);
    out.push(`  ${shape}${inp.rows} rows x ${inp.dims} dims, dtype ${inp.dtype}, ${inp.fortranOrder ? 'Fortran' : 'C'} order` +
      (inp.droppedRows ? `, ${inp.droppedRows} rows dropped (NaN/Inf)` : '') + (inp.zeroRows ? `, ${inp.zeroRows} zero rows` : '') +
      (inp.shards ? `, merged from ${inp.shards.length} shard(s)` : '') + filesText(inp));
  });
  out.push('');

  // groups: (input, layer) in order, each with its results
  const layerOf = (r: TransformResult) => (typeof r.layer === 'number' ? r.layer : -1);
  const groups: { title: string; results: TransformResult[] }[] = [];
  for (const r of a.results) {
    const title = typeof r.layer === 'number' ? `${names[r.input]} layer ${r.layer}` : names[r.input];
    let g = groups.find((x) => x.results[0].input === r.input && layerOf(x.results[0]) === layerOf(r));
    if (!g) groups.push((g = { title, results: [] }));
    g.results.push(r);
  }
  const multi = groups.length > 1;
  const reasons: string[] = [];
  const cell = (name: string, get: (r: TransformResult) => number | null, r: TransformResult) => {
    const v = get(r);
    if (typeof v === 'number' && Number.isFinite(v)) return formatNumber(v);
    const why = `${name}: ${whyNull(name, r)}`;
    if (!reasons.includes(why)) reasons.push(why);
    return 'n/a';
  };
  const nameWidth = Math.max(6, ...ROWS.map(([n]) => n.length));
  // split the groups into tables no wider than MAX_TABLE_WIDTH
  const widthOf = (g: (typeof groups)[number]) => g.results.reduce((s, r) => s + 2 + Math.max(r.transform.length, ...ROWS.map(([n, get]) => cell(n, get, r).length)), 0);
  const chunks: (typeof groups)[] = [];
  for (const g of groups) {
    const last = chunks.at(-1);
    if (last && nameWidth + [...last, g].reduce((s, x) => s + Math.max(widthOf(x), x.title.length + 2), 0) <= MAX_TABLE_WIDTH) last.push(g);
    else chunks.push([g]);
  }
  for (const chunk of chunks) {
    const results = chunk.flatMap((g) => g.results);
    const header = ['metric', ...results.map((r) => r.transform)];
    const body = ROWS.map(([name, get]) => [name, ...results.map((r) => cell(name, get, r))]);
    const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
    // a group's label must fit over its columns: widen its first column if not
    if (multi) {
      let c = 1;
      for (const g of chunk) {
        const span = g.results.reduce((s, _, k) => s + widths[c + k] + (k ? 2 : 0), 0);
        if (g.title.length > span) widths[c] += g.title.length - span;
        c += g.results.length;
      }
    }
    const line = (cells: string[]) => cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ').trimEnd();
    if (multi) {
      let c = 1;
      const parts = [' '.repeat(widths[0])];
      for (const g of chunk) {
        const span = g.results.reduce((s, _, k) => s + widths[c + k] + (k ? 2 : 0), 0);
        parts.push(g.title.padStart(span));
        c += g.results.length;
      }
      out.push(parts.join('  ').trimEnd());
    }
    out.push(line(header));
    body.forEach((row) => out.push(line(row)));
    out.push('');
  }
  for (const r of reasons) out.push(`n/a ${r}`);
  const rogue = a.results.filter((r) => r.transform === 'none' && r.rogueDims?.length && r.avgCosine);
  for (const r of rogue) {
    const top = r.rogueDims!.slice(0, 3).map((x) => `dim ${x.dim} (${Math.round((100 * x.share) / r.avgCosine!)}%)`).join(', ');
    const title = groups.find((g) => g.results.includes(r))!.title;
    out.push(`rogue dims${multi ? ` of ${title}` : ''}, share of avgCosine: ${top}`);
  }
  if (reasons.length || rogue.length) out.push('');
  if (a.backend) out.push(`backend: ${a.backend.name}, ${a.backend.threads} thread(s)${a.backend.detail ? ` (${a.backend.detail})` : ''}`, '');
  out.push('Isotropic embeddings have isoScore and partitionIsotropy near 1, avgCosine, corr.meanAbs and std.cv near 0,');
  out.push('spectrum.top1 near 1/d and effectiveRank near d. partitionIsotropy needs a second pass over the rows.');
  return out.join('\n') + '\n';
}
