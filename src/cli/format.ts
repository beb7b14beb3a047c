import type { Analysis, TransformResult } from '../index.js';

/**
 * A number as a person reads it in a table: 6 significant digits, exponent when far from 1;
 * `-` for a value that was not computed, `n/a` for one that is undefined for the data (`undefinedHere`).
 */
export function formatNumber(v: number | null | undefined, undefinedHere = false): string {
  if (v === null || v === undefined || Number.isNaN(v)) return undefinedHere ? 'n/a' : '-';
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

/** The aligned text table of `isotropy analyze`: one block per input, one column per transform. */
export function formatAnalysis(a: Analysis): string {
  const out: string[] = [];
  a.inputs.forEach((inp, i) => {
    const results = a.results.filter((r) => r.input === i);
    const shape = inp.shape ? `shape (${inp.shape.join(', ')}), layer ${inp.layer}, ` : '';
    out.push(`${inp.path}`);
    out.push(`  ${shape}${inp.rows} rows x ${inp.dims} dims, dtype ${inp.dtype}, ${inp.fortranOrder ? 'Fortran' : 'C'} order` +
      (inp.droppedRows ? `, ${inp.droppedRows} rows dropped (NaN/Inf)` : '') + (inp.zeroRows ? `, ${inp.zeroRows} zero rows` : '') +
      (inp.shards ? `, merged from ${inp.shards.length} shard(s)` : ''));
    out.push('');
    const header = ['metric', ...results.map((r) => r.transform)];
    const body = ROWS.map(([name, get]) => [name, ...results.map((r) => formatNumber(get(r), r.nullReasons?.[name] !== undefined))]);
    const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
    const line = (cells: string[]) => cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ').trimEnd();
    out.push(line(header));
    body.forEach((row) => out.push(line(row)));
    out.push('');
  });
  if (a.backend) out.push(`backend: ${a.backend.name}, ${a.backend.threads} thread(s)${a.backend.detail ? ` (${a.backend.detail})` : ''}`, '');
  out.push('Isotropic embeddings have isoScore and partitionIsotropy near 1, avgCosine, corr.meanAbs and std.cv near 0,');
  out.push('spectrum.top1 near 1/d and effectiveRank near d. partitionIsotropy needs a second pass over the rows ("-": not computed;');
  out.push('"n/a": undefined for these data, the reason is in the warnings and in --json\'s nullReasons).');
  return out.join('\n') + '\n';
}
