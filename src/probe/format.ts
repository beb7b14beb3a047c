import { PROBE_ISOTROPY_METRICS, type ProbeResult, type Summary } from './schema.js';

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const num = (v: number) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : String(Number(v.toPrecision(4))));

function pm(s: Summary | null, f: (v: number) => string, fStd: (v: number) => string = f): string {
  if (s === null) return '-';
  return s.std === 0 ? f(s.mean) : `${f(s.mean)} ± ${fStd(s.std)}`;
}

function table(header: string[], body: string[][]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ').trimEnd();
  return [line(header), ...body.map(line)];
}

/**
 * The text report of `isotropy probe`: accuracy and epochs to the final accuracy per classifier,
 * with and without IsoBN (mean ± population std over seeds x folds), then the isotropy of each
 * classifier's input.
 */
export function formatProbe(r: ProbeResult): string {
  const p = r.params;
  const out: string[] = [];
  const classes = r.labels.classes.map((c) => `${c.name}: ${c.count}`).join(', ');
  const { input, labels } = r;
  const leftOut = [
    ...(input.unlabelledRows ? [`${input.unlabelledRows} rows without a label`] : []),
    ...(input.droppedRows ? [`${input.droppedRows} rows with NaN/Inf`] : []),
  ];
  out.push(`${input.path}${input.layer !== undefined ? ` (layer ${input.layer})` : ''}: ${input.rows} rows x ${input.dims} dims${leftOut.length ? ` (left out: ${leftOut.join(', ')})` : ''}`);
  out.push(`labels ${labels.path}${labels.joinedOn !== undefined ? ` (joined to the rows by word, column ${JSON.stringify(labels.joinedOn)})` : ''}: ${labels.classes.length} classes (${classes}); majority class ${pct(r.majority)}`);
  out.push(`${p.folds}-fold stratified CV x ${p.seeds} seeds (from ${p.seed}), ${p.epochs} epochs, batch ${p.batchSize}, Adam lr ${p.learningRate}` +
    `${p.models.includes('mlp') ? `, mlp hidden ${p.hidden}` : ''}, backend ${p.backend}` +
    (p.isobn ? `; IsoBN momentum ${p.isobn.momentum}, eps ${p.isobn.eps}, beta ${p.isobn.beta}` : ''));
  out.push('');
  const paired = r.arms.some((a) => a.vsPlain);
  const points = (v: number) => `${v > 0 ? '+' : ''}${(100 * v).toFixed(1)}`;
  out.push(...table(
    ['model', 'IsoBN', 'accuracy', 'epochs to final', ...(paired ? ['IsoBN - no IsoBN (points)', 'runs up/down/same'] : [])],
    r.arms.map((a) => [
      a.model, a.isobn ? 'yes' : 'no', pm(a.accuracy, pct), pm(a.epochsToFinal, (v) => v.toFixed(1)),
      ...(paired ? [a.vsPlain ? pm(a.vsPlain, points, (v) => (100 * v).toFixed(1)) : '', a.vsPlain ? `${a.vsPlain.better}/${a.vsPlain.worse}/${a.vsPlain.same}` : ''] : []),
    ]),
  ));
  const withIso = r.arms.filter((a) => a.isotropy !== null);
  if (withIso.length > 0) {
    out.push('');
    out.push("isotropy of the classifier's input (all rows):");
    const plain = withIso.find((a) => !a.isobn);
    const rows = [
      ...(plain ? [{ name: 'embeddings', iso: plain.isotropy! }] : []),
      ...withIso.filter((a) => a.isobn).map((a) => ({ name: `after IsoBN (${a.model} runs)`, iso: a.isotropy! })),
    ];
    out.push(...table(['input', ...PROBE_ISOTROPY_METRICS], rows.map((row) => [row.name, ...PROBE_ISOTROPY_METRICS.map((m) => pm(row.iso[m], num))])));
  }
  out.push('');
  out.push('accuracy: held-out, after the last epoch; epochs to final: first epoch at or above that accuracy; ± is the std over seeds x folds.');
  if (paired) out.push('IsoBN - no IsoBN: run by run, same folds, initial weights and batch order.');
  return out.join('\n') + '\n';
}
