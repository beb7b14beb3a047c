/**
 * Class labels for the probe: one per embedding row, from a text file (one per line), a CSV/TSV
 * column or a JSON-lines field.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { quote } from '../io/index.js';
import { splitLines } from '../io/text-rows.js';
import { ProbeError } from './errors.js';

/** Label file formats; by default from the extension (`.csv`, `.tsv`, `.jsonl`/`.ndjson`, else text). */
export type LabelFormat = 'text' | 'csv' | 'tsv' | 'jsonl';

/** Options of {@link readLabels}. */
export interface ReadLabelsOptions {
  /** CSV/TSV: the header name of the label column or its 0-based index; JSONL: the field (dotted for nested). Optional for a one-column CSV/TSV. */
  column?: string;
  /** overrides the format guessed from the extension */
  format?: LabelFormat;
}

/** Labels as read, in file order, with the line each came from (for messages). */
export interface LabelList {
  path: string;
  format: LabelFormat;
  /** strings as written (trimmed); JSON numbers and booleans stay numbers and booleans */
  values: (string | number | boolean)[];
  /** 1-based line of each label in the file */
  lines: number[];
}

/** Labels turned into class indices. */
export interface EncodedLabels {
  /** class names, in index order */
  classes: string[];
  /** class index of each row */
  y: Int32Array;
  /** rows per class */
  counts: number[];
}

const FORMATS: readonly LabelFormat[] = ['text', 'csv', 'tsv', 'jsonl'];

/**
 * Reads one label per row. UTF-8; a BOM and the `\r` of CRLF line ends are dropped, labels are
 * trimmed, and a final line break does not add a label.
 * - text: one label per line; an empty line is an error (every row needs a label);
 * - csv / tsv: RFC 4180 with a header row; `column` names the column (or its 0-based index);
 * - jsonl: one object per line; `column` names the field; strings, numbers and booleans.
 *
 * @throws ProbeError naming the file (and line) and the fix: missing file, not UTF-8, no labels,
 *   an empty label, bad CSV/JSON, a missing column or field
 */
export async function readLabels(path: string, opts: ReadLabelsOptions = {}): Promise<LabelList> {
  const format = opts.format ?? formatOf(path);
  if (!FORMATS.includes(format)) throw new ProbeError(`${path}: unknown label format ${quote(format)}; use one of ${FORMATS.join(', ')}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ProbeError(`${path}: no such file; check the --labels path`);
    if (code === 'EISDIR') throw new ProbeError(`${path}: is a directory; --labels needs a file`);
    throw new ProbeError(`${path}: cannot read the labels: ${(e as Error).message}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ProbeError(`${path}: not UTF-8 text; re-save the labels as UTF-8`);
  }
  const list = format === 'text' ? readText(text, path, opts)
    : format === 'jsonl' ? readJsonl(text, path, opts)
      : readTable(text, path, format, opts);
  if (list.values.length === 0) throw new ProbeError(`${path}: no labels in the file; give one label per embedding row`);
  return { path, format, ...list };
}

/**
 * Class indices for labels: a {@link LabelList} from {@link readLabels}, or the labels themselves
 * in row order (an array built in code; messages then name an item `labels[i]`).
 * Without `threshold` every distinct label is a class (numbers and booleans by their text),
 * classes sorted by name. With `threshold` the labels must be numbers and there are two classes,
 * `<= T` and `> T` (e.g. valence scores split at 0).
 *
 * @throws ProbeError for a non-numeric label when `threshold` is given, or when all labels fall in
 *   one class
 */
export function encodeLabels(labels: LabelList | readonly (string | number | boolean)[], opts: { threshold?: number } = {}): EncodedLabels {
  const inCode = isLabelArray(labels);
  const list: LabelList = inCode ? { path: 'labels', format: 'text', values: [...labels], lines: labels.map((_, i) => i + 1) } : labels;
  const at = (i: number) => (inCode ? `labels[${i}]` : `${list.path}: line ${list.lines[i]}`);
  const { threshold } = opts;
  let names: string[];
  if (threshold !== undefined) {
    if (!Number.isFinite(threshold)) throw new ProbeError(`--threshold must be a finite number, got ${threshold}`);
    names = list.values.map((v, i) => {
      const x = asNumber(v);
      if (x === null) {
        throw new ProbeError(`${at(i)}: label ${quote(v)} is not a number; --threshold ${threshold} needs numeric labels`);
      }
      return x > threshold ? `> ${threshold}` : `<= ${threshold}`;
    });
  } else {
    names = list.values.map(String);
  }
  const present = new Set(names);
  const classes = threshold !== undefined
    ? [`<= ${threshold}`, `> ${threshold}`].filter((c) => present.has(c))
    : [...present].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (classes.length < 2) {
    throw new ProbeError(`${list.path}: all ${names.length} labels are in one class (${quote(classes[0])}); a probe needs at least two classes`);
  }
  const index = new Map(classes.map((c, i) => [c, i]));
  const y = Int32Array.from(names, (n) => index.get(n)!);
  const counts = classes.map(() => 0);
  for (const c of y) counts[c]++;
  return { classes, y, counts };
}

function isLabelArray(x: LabelList | readonly (string | number | boolean)[]): x is readonly (string | number | boolean)[] {
  return Array.isArray(x);
}

function formatOf(path: string): LabelFormat {
  switch (extname(path).toLowerCase()) {
    case '.csv': return 'csv';
    case '.tsv': return 'tsv';
    case '.jsonl':
    case '.ndjson': return 'jsonl';
    default: return 'text';
  }
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function asNumber(v: string | number | boolean): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && NUMBER.test(v)) return Number(v);
  return null;
}


function emptyLabel(path: string, line: number): ProbeError {
  return new ProbeError(`${path}: line ${line} has an empty label; every embedding row needs one (in the same order)`);
}

function readText(text: string, path: string, opts: ReadLabelsOptions) {
  if (opts.column !== undefined) {
    throw new ProbeError(`${path}: --label-column given, but the file is read as plain text (one label per line); name it .csv, .tsv or .jsonl`);
  }
  const values: string[] = [];
  const lines: number[] = [];
  splitLines(text).forEach((l, i) => {
    const v = l.trim();
    if (v === '') throw emptyLabel(path, i + 1);
    values.push(v);
    lines.push(i + 1);
  });
  return { values, lines };
}

function readJsonl(text: string, path: string, opts: ReadLabelsOptions) {
  const field = opts.column;
  const values: (string | number | boolean)[] = [];
  const lines: number[] = [];
  splitLines(text).forEach((l, i) => {
    const line = i + 1;
    if (l.trim() === '') throw emptyLabel(path, line);
    let record: unknown;
    try {
      record = JSON.parse(l);
    } catch (e) {
      throw new ProbeError(`${path}: bad JSON on line ${line} (${(e as Error).message}); each line must be one JSON object`);
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new ProbeError(`${path}: line ${line} is not a JSON object; each line must be one object like {"label": "pos"}`);
    }
    const keys = Object.keys(record);
    if (field === undefined) throw new ProbeError(`${path}: JSON lines need --label-column to name the label field; line ${line} has keys: ${quote(keys.join(', '))}`);
    const v = lookup(record as Record<string, unknown>, field);
    if (v === undefined) throw new ProbeError(`${path}: line ${line} has no field ${quote(field)}; its keys: ${quote(keys.join(', '))}`);
    if (v === null || (typeof v === 'string' && v.trim() === '')) throw emptyLabel(path, line);
    if (typeof v === 'string') values.push(v.trim());
    else if (typeof v === 'number' || typeof v === 'boolean') values.push(v);
    else throw new ProbeError(`${path}: line ${line}: field ${quote(field)} is ${Array.isArray(v) ? 'an array' : 'an object'}, not a label`);
    lines.push(line);
  });
  return { values, lines };
}

/** A field by exact key first (keys may contain dots), then as a dotted path. */
function lookup(record: Record<string, unknown>, field: string): unknown {
  if (Object.hasOwn(record, field)) return record[field];
  let value: unknown = record;
  for (const part of field.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function readTable(text: string, path: string, format: 'csv' | 'tsv', opts: ReadLabelsOptions) {
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parseCsv(text, {
      bom: true,
      delimiter: format === 'tsv' ? '\t' : ',',
      quote: format === 'tsv' ? false : '"',
      info: true,
      relax_column_count: true,
      skip_empty_lines: false,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    throw new ProbeError(`${path}: not valid ${format.toUpperCase()}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (rows.length === 0) return { values: [], lines: [] };
  const header = rows[0].record;
  let col: number;
  if (opts.column === undefined) {
    if (header.length !== 1) throw new ProbeError(`${path}: give --label-column to pick the label column; the header has: ${quote(header.join(', '))}`);
    col = 0;
  } else {
    col = header.indexOf(opts.column);
    if (col < 0) col = header.findIndex((h) => h.trim() === opts.column!.trim());
    if (col < 0 && /^\d+$/.test(opts.column) && Number(opts.column) < header.length) col = Number(opts.column);
    if (col < 0) throw new ProbeError(`${path}: no column ${quote(opts.column)}; the header has: ${quote(header.join(', '))} (give a name or a 0-based index)`);
  }
  const values: string[] = [];
  const lines: number[] = [];
  for (const { record, info } of rows.slice(1)) {
    const v = (record[col] ?? '').trim();
    if (v === '') throw emptyLabel(path, info.lines);
    values.push(v);
    lines.push(info.lines);
  }
  return { values, lines };
}
