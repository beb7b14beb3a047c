/**
 * The probe's input from files: the embeddings (any format `openEmbeddings` reads) held in memory,
 * and their labels, matched row by row or, for files whose rows carry words, by word.
 */
import { openEmbeddings, quote, type EmbeddingSource, type OpenOptions } from '../io/index.js';
import { NonFiniteRowError, StatsError } from '../stats/index.js';
import { ProbeError } from './errors.js';
import { encodeLabels, readLabels, type EncodedLabels, type LabelFormat, type LabelList } from './labels.js';

/** How {@link loadProbeInput} reads the two files. */
export interface ProbeInputOptions extends Pick<OpenOptions, 'layer' | 'key' | 'column' | 'field' | 'dropNonfinite'> {
  /** CSV/TSV column or JSONL field holding the label */
  labelColumn?: string;
  labelFormat?: LabelFormat;
  /** labels are numbers split into two classes, `<= threshold` and `> threshold` */
  threshold?: number;
  /**
   * Join the labels to the rows by word instead of by position: the CSV/TSV column or JSONL field
   * of the labels file holding the word. Needs an embeddings file whose rows carry words (GloVe,
   * word2vec); rows whose word has no label are left out.
   */
  labelWord?: string;
  /** called with each warning (rows left out) */
  onWarning?: (message: string) => void;
}

/** The rows the probe trains on, their classes, and what was left out on the way. */
export interface ProbeInput {
  data: Float64Array;
  rows: number;
  dims: number;
  /** the layer read from an (n, L, d) file, else null */
  layer: number | null;
  labels: EncodedLabels;
  /** rows left out for NaN/Inf (`dropNonfinite`) */
  droppedRows: number;
  /** rows left out because their word has no label; null unless joined by word */
  unlabelledRows: number | null;
}

/**
 * Reads the embeddings and their labels for the probe. By default the labels file holds one label
 * per row, in row order; with `labelWord` it holds (word, label) pairs, joined to the rows through
 * the words of a GloVe or word2vec file (each row with a labelled word gets that label; the others
 * are left out, with a warning). Rows holding NaN/Inf fail as in the analysis, or with
 * `dropNonfinite` are left out together with their labels.
 *
 * @throws ProbeError for bad labels (a count that differs from the rows, one class only, a word
 *   with two labels, no labelled row); NpyError for the embeddings file (with the analysis' flags:
 *   `layer`, `key`, `column`, `field`); StatsError for a NaN/Inf row without `dropNonfinite`
 */
export async function loadProbeInput(embeddings: string, labels: string, opts: ProbeInputOptions = {}): Promise<ProbeInput> {
  const list = await readLabels(labels, { column: opts.labelColumn, format: opts.labelFormat });
  const join = opts.labelWord !== undefined ? await wordTable(labels, list, opts) : null;
  // the analysis' reading options; dropNonfinite also reads null vectors (Parquet, Arrow) as NaN rows
  const source = await openEmbeddings(embeddings, { layer: opts.layer, key: opts.key, column: opts.column, field: opts.field, dropNonfinite: opts.dropNonfinite });
  try {
    const { rows, dims } = source;
    // label of each row: an index into `list`, or -1 for a row without one
    let labelOf: Int32Array;
    if (join) {
      labelOf = await joinByWord(source, embeddings, labels, join, opts);
    } else {
      if (list.values.length !== rows) {
        throw new ProbeError(`${labels}: ${list.values.length} labels for the ${rows} rows of ${embeddings}; give one label per row, in the same order`);
      }
      labelOf = Int32Array.from({ length: rows }, (_, i) => i);
    }
    const all = await readAll(source, embeddings);
    const keep: number[] = [];
    let dropped = 0;
    for (let r = 0; r < rows; r++) {
      if (labelOf[r] < 0) continue;
      const c = firstNonfinite(all, r, dims);
      if (c < 0) keep.push(r);
      else if (opts.dropNonfinite) dropped++;
      else throw new StatsError(`${embeddings}: ${new NonFiniteRowError(r, c, all[r * dims + c]).message}`);
    }
    if (dropped > 0) opts.onWarning?.(`${embeddings}: ${dropped} row${dropped === 1 ? '' : 's'} holding NaN/Inf left out, with ${dropped === 1 ? 'its label' : 'their labels'}`);
    if (keep.length === 0) throw new ProbeError(`${embeddings}: every labelled row holds NaN or Inf; nothing to train on`);
    const data = keep.length === rows ? all : gatherRows(all, keep, dims);
    const kept: LabelList = { ...list, values: keep.map((r) => list.values[labelOf[r]]), lines: keep.map((r) => list.lines[labelOf[r]]) };
    return {
      data,
      rows: keep.length,
      dims,
      layer: source.layer,
      labels: encodeLabels(kept, { threshold: opts.threshold }),
      droppedRows: dropped,
      unlabelledRows: join ? labelOf.reduce((n, k) => n + (k < 0 ? 1 : 0), 0) : null,
    };
  } finally {
    await source.close();
  }
}

/** Word -> index of its label in `list`; the words come from the same file's `labelWord` column. */
async function wordTable(labels: string, list: LabelList, opts: ProbeInputOptions): Promise<Map<string, number>> {
  if (list.format === 'text') {
    throw new ProbeError(`${labels}: --label-word needs a CSV/TSV or JSONL labels file with a word column and a label column (--label-column); this one is read as plain text`);
  }
  const words = await readLabels(labels, { column: opts.labelWord, format: opts.labelFormat });
  const table = new Map<string, number>();
  words.values.forEach((w, k) => {
    const word = String(w);
    const before = table.get(word);
    if (before !== undefined && String(list.values[before]) !== String(list.values[k])) {
      throw new ProbeError(
        `${labels}: the word ${quote(word)} has two labels, ${quote(list.values[before])} (line ${list.lines[before]}) and ${quote(list.values[k])} (line ${list.lines[k]}); give each word one label`,
      );
    }
    if (before === undefined) table.set(word, k);
  });
  return table;
}

/** The label (index into the labels list) of each row of `source`, by its word; -1 for none. */
async function joinByWord(
  source: EmbeddingSource, embeddings: string, labels: string, table: Map<string, number>, opts: ProbeInputOptions,
): Promise<Int32Array> {
  if (!source.labels) {
    throw new ProbeError(
      `${embeddings}: --label-word joins labels to rows by word, but the rows of this file carry no words (those of GloVe and word2vec files do); give one label per row instead`,
    );
  }
  const words = await source.labels();
  const labelOf = Int32Array.from(words, (w) => table.get(w) ?? -1);
  const used = new Set<number>();
  for (const k of labelOf) if (k >= 0) used.add(k);
  const unlabelled = labelOf.reduce((n, k) => n + (k < 0 ? 1 : 0), 0);
  if (used.size === 0) {
    throw new ProbeError(`none of the ${words.length} words of ${embeddings} is in the ${quote(opts.labelWord)} column of ${labels}; check --label-word (words are matched exactly, case included)`);
  }
  if (unlabelled > 0) opts.onWarning?.(`${embeddings}: ${unlabelled} of ${words.length} rows have no label in ${labels} (their word is not in it) and are left out`);
  const unused = table.size - used.size;
  if (unused > 0) opts.onWarning?.(`${labels}: ${unused} of ${table.size} labelled words are not in ${embeddings}`);
  return labelOf;
}

/** Every row of `source`, row-major, float64. */
async function readAll(source: EmbeddingSource, path: string): Promise<Float64Array> {
  let data: Float64Array;
  try {
    data = new Float64Array(source.rows * source.dims);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const gib = (source.rows * source.dims * 8) / 2 ** 30;
    throw new ProbeError(`${path}: too large for the probe, which holds every row in memory (${source.rows} x ${source.dims} float64 = ${gib.toFixed(1)} GiB); probe a sample of the rows`);
  }
  for await (const block of source.blocks()) data.set(block.data, block.start * source.dims);
  return data;
}

/** The column of the first NaN/Inf in row `r`, or -1. */
function firstNonfinite(data: Float64Array, r: number, dims: number): number {
  for (let c = 0, o = r * dims; c < dims; c++) if (data[o + c] - data[o + c] !== 0) return c;
  return -1;
}

function gatherRows(data: Float64Array, rows: readonly number[], dims: number): Float64Array {
  const out = new Float64Array(rows.length * dims);
  rows.forEach((r, k) => out.set(data.subarray(r * dims, (r + 1) * dims), k * dims));
  return out;
}
