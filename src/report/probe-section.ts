import { PROBE_ISOTROPY_METRICS, type ProbeArm, type ProbeResult, type Summary } from '../probe/schema.js';
import { escapeHtml } from './escape.js';
import { formatChange, formatNumber } from './format.js';
import { METRICS, type MetricDef } from './metrics.js';
import { changeClass } from './summary-table.js';

/** Most classes named in the section's text; the rest are counted. */
const MAX_CLASSES_SHOWN = 12;
/** Class names longer than this are cut (the JSON keeps them whole). */
const MAX_CLASS_NAME = 60;

const MODEL_SHORT = { linear: 'linear', mlp: 'MLP' } as const;

const minus = (s: string) => s.replace(/-/g, '−');
const pct = (v: number) => minus(`${(100 * v).toFixed(1)}%`);
const points = (v: number) => minus(`${v > 0 ? '+' : ''}${(100 * v).toFixed(1)}`);

function pm(s: Summary, f: (v: number) => string, fStd: (v: number) => string = f): string {
  return s.std === 0 ? f(s.mean) : `${f(s.mean)} ± ${fStd(s.std)}`;
}

function cut(name: string): string {
  return name.length > MAX_CLASS_NAME ? `${name.slice(0, MAX_CLASS_NAME - 1)}…` : name;
}

/** The first paragraph: what was probed, with which labels, and the majority baseline. */
function whatHtml(r: ProbeResult): string {
  const { input, labels } = r;
  const leftOut = [
    ...(input.unlabelledRows ? [`${formatNumber(input.unlabelledRows)} rows without a label`] : []),
    ...(input.droppedRows ? [`${formatNumber(input.droppedRows)} rows holding NaN/Inf`] : []),
  ];
  const shown = labels.classes.slice(0, MAX_CLASSES_SHOWN).map((c) => `${escapeHtml(cut(c.name))}: ${formatNumber(c.count)}`);
  const more = labels.classes.length - shown.length;
  const classes = `${shown.join(', ')}${more > 0 ? `, and ${formatNumber(more)} more` : ''}`;
  return `<p>Classifiers trained on the frozen vectors of <code>${escapeHtml(input.path)}</code>`
    + `${input.layer !== undefined ? ` (layer ${formatNumber(input.layer)})` : ''}: ${formatNumber(input.rows)} rows × ${formatNumber(input.dims)} dimensions`
    + `${leftOut.length ? ` (left out: ${leftOut.join(', ')})` : ''}. Labels from <code>${escapeHtml(labels.path)}</code>`
    + `${labels.joinedOn !== undefined ? `, joined to the rows by word (column <code>${escapeHtml(labels.joinedOn)}</code>)` : ''}`
    + `${labels.threshold !== undefined ? `, numbers split at ${escapeHtml(formatNumber(labels.threshold))}` : ''}: `
    + `${formatNumber(labels.classes.length)} classes (${classes}). Always answering the largest class scores ${pct(r.majority)}.</p>`;
}

/** The training setup, one line. */
function setupHtml(r: ProbeResult): string {
  const p = r.params;
  const iso = p.isobn ? `; IsoBN layer: momentum ${formatNumber(p.isobn.momentum)}, eps ${formatNumber(p.isobn.eps)}, beta ${formatNumber(p.isobn.beta)}` : '';
  const models = p.models.map((m) => (m === 'linear' ? 'linear: softmax regression' : `MLP: one ReLU hidden layer of ${formatNumber(p.hidden)} units, then softmax`));
  return `<p class="table-notes">${models.join('; ')}. ${formatNumber(p.folds)}-fold stratified cross-validation × ${formatNumber(p.seeds)} seed${p.seeds === 1 ? '' : 's'} `
    + `(from ${formatNumber(p.seed)}), ${formatNumber(p.epochs)} epochs, batch ${formatNumber(p.batchSize)}, Adam with learning rate ${formatNumber(p.learningRate)}`
    + `, tfjs backend ${escapeHtml(p.backend)}${iso}.</p>`;
}


/** The accuracy table: a row per classifier, with and without IsoBN. */
function accuracyHtml(r: ProbeResult): string {
  const paired = r.arms.some((a) => a.vsPlain);
  const head = ['classifier', 'IsoBN', 'accuracy', 'epochs to final', ...(paired ? ['IsoBN − no IsoBN, points', 'runs up/down/same'] : [])];
  const body = r.arms.map((a) => {
    const v = a.vsPlain;
    const change = v ? `<td class="num">${pm(v, points, (x) => (100 * x).toFixed(1))}</td><td class="num">${v.better} / ${v.worse} / ${v.same}</td>` : (paired ? '<td></td><td></td>' : '');
    return `<tr><th scope="row">${MODEL_SHORT[a.model]}</th><td>${a.isobn ? 'yes' : 'no'}</td>`
      + `<td class="num">${pm(a.accuracy, pct)}</td><td class="num">${pm(a.epochsToFinal, (x) => x.toFixed(1))}</td>${change}</tr>`;
  }).join('\n');
  return `<div class="table-wrap"><table class="summary probe"><caption>Held-out accuracy (mean ± std over ${formatNumber(r.params.seeds * r.params.folds)} runs)</caption>`
    + `<thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead>\n<tbody>${body}</tbody></table></div>`;
}

/** The isotropy table: the vectors themselves, then the trained IsoBN layer's output per classifier. */
function isotropyHtml(r: ProbeResult): string {
  const withIso = r.arms.filter((a): a is ProbeArm & { isotropy: NonNullable<ProbeArm['isotropy']> } => a.isotropy !== null);
  if (withIso.length === 0) return '<p class="missing">The probe was run without the isotropy of the classifier\'s input.</p>';
  const defs = PROBE_ISOTROPY_METRICS.map((key) => METRICS.find((m) => m.key === key)).filter((m): m is MetricDef => m !== undefined);
  const plain = withIso.find((a) => !a.isobn);
  const rows = [
    ...(plain ? [{ name: 'the vectors (no IsoBN)', iso: plain.isotropy }] : []),
    ...withIso.filter((a) => a.isobn).map((a) => ({ name: `after IsoBN (${MODEL_SHORT[a.model]} runs)`, iso: a.isotropy })),
  ];
  const value = (m: MetricDef, s: Summary | null, before: Summary | null): string => {
    if (s === null) return '<td class="num na" title="not defined for this input">n/a</td>';
    const std = s.std > 0 ? ` ± ${formatNumber(s.std)}` : '';
    const b = before?.mean ?? null;
    const change = formatChange(b, s.mean, { ratio: m.log });
    const c = change ? changeClass(m.better, b, s.mean) : '';
    return `<td class="num">${formatNumber(s.mean)}${std}${change ? `<span class="change ${c}">${escapeHtml(change)}</span>` : ''}</td>`;
  };
  const body = rows.map((row) => `<tr><th scope="row">${row.name}</th>${defs.map((m) => {
    const key = m.key as (typeof PROBE_ISOTROPY_METRICS)[number];
    return value(m, row.iso[key], plain && row.iso !== plain.isotropy ? plain.isotropy[key] : null);
  }).join('')}</tr>`).join('\n');
  const ideal = `<tr class="read"><th scope="row">perfectly isotropic</th>${defs.map((m) => `<td class="num">${escapeHtml(m.isotropic(r.input.dims))}</td>`).join('')}</tr>`;
  const head = `<tr><th scope="col">input</th>${defs.map((m) => `<th scope="col" title="${escapeHtml(m.name)}">${escapeHtml(m.short)}</th>`).join('')}</tr>`;
  return `<div class="table-wrap"><table class="summary probe"><caption>Isotropy of the classifier's input (all rows)</caption>`
    + `<thead>${head}</thead>\n<tbody>${body}\n${ideal}</tbody></table></div>`;
}

const READING = `<div class="note"><p><strong>How to read it.</strong> Accuracy is measured on the held-out fold after the last epoch;
"epochs to final" is the first epoch that reached it. The runs with and without IsoBN share their folds, initial weights and
batch order, so "IsoBN − no IsoBN" is a paired difference, run by run: when its mean is smaller than its ± spread and about as
many runs went up as down, IsoBN made no difference to these classifiers. The second table shows what each classifier sees:
the vectors, and the trained IsoBN layer's output (the change from the vectors under each value, green towards isotropy). IsoBN
can make the input more isotropic without making the classes easier to separate: a classifier's first layer can absorb a
per-dimension rescaling of frozen vectors. The paper's gains are for fine-tuning, where the encoder moves too.</p></div>`;

/**
 * The report's probe section (`isotropy probe --json`): what was probed, the setup, the accuracy
 * table (each classifier with and without IsoBN: accuracy and epochs to the final accuracy, mean
 * ± std over seeds × folds, and the paired change), the isotropy of each classifier's input, and
 * how to read them. Every string from the result (paths, class names, backend) is escaped.
 */
export function probeSectionHtml(r: ProbeResult): string {
  return [whatHtml(r), accuracyHtml(r), setupHtml(r), isotropyHtml(r), READING].join('\n');
}
