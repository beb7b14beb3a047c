/**
 * Sentence lists for the extractor: plain text (one per line), JSON lines, TSV (GLUE style) and
 * CSV (RFC 4180). Inputs are lists of sentences, small next to the embeddings they produce, so the
 * file is read whole.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { quote } from '../io/errors.js';
import { splitLines } from '../io/text-rows.js';
import { ExtractError } from './types.js';

/** The file formats `readSentences` understands. */
export type InputFormat = 'text' | 'jsonl' | 'tsv' | 'csv';

/** Sentences read from one input file, in file order. */
export interface SentenceInput {
  /** First sentences, never empty or whitespace-only. */
  sentences: string[];
  /** Second sentences (same length as `sentences`), present only when `pairField` was given; may be `''`. */
  pairs?: string[];
  /** Empty/whitespace-only lines or records skipped (a record is skipped when its first sentence is empty). */
  skippedEmpty: number;
  /** The format the file was read as (from the options or the extension). */
  format: InputFormat;
  /** SHA-256 of the file's bytes, lower-case hex: records exactly which input produced the embeddings. */
  sha256: string;
}

/** Options of {@link readSentences}. */
export interface ReadSentencesOptions {
  /** JSONL: the field holding the sentence; dots reach into nested objects (`a.b`). Alias of `column` for JSONL. */
  field?: string;
  /** TSV/CSV: the header name of the sentence column, or its 0-based index. Alias of `field` for TSV/CSV. */
  column?: string;
  /** The second sentence of a pair: a JSONL field or a TSV/CSV column, like `field`/`column`. */
  pairField?: string;
  /** Overrides the format guessed from the extension. */
  format?: InputFormat;
}

const FORMATS: readonly InputFormat[] = ['text', 'jsonl', 'tsv', 'csv'];

/**
 * Reads the sentences (and optionally pair sentences) of an input file.
 *
 * Format: `opts.format`, else the extension: `.jsonl`/`.ndjson` JSON lines, `.tsv`, `.csv`,
 * anything else plain text. The bytes must be UTF-8; a BOM is dropped, and so are the `\r` of
 * CRLF line ends.
 * - text: one sentence per line, kept as written (not trimmed); `field`/`column`/`pairField` are
 *   refused.
 * - jsonl: one JSON object per line; `field` is required. Numbers and booleans are converted to
 *   text, `null` counts as empty; objects and arrays are refused.
 * - tsv: split on tabs, no quoting (GLUE files); first row is the header.
 * - csv: RFC 4180 (quoted fields with commas, `""` escapes and line breaks); first row is the
 *   header. Text after a closing quote is kept, as Python's csv module does.
 * For TSV/CSV, `column` may be omitted when the header has a single column.
 *
 * Blank lines and records whose first sentence is empty or whitespace-only are skipped and
 * counted in `skippedEmpty`; an empty pair sentence is kept.
 * @param path input file
 * @throws ExtractError naming the file (and line) and the fix: missing or unreadable file, not
 *   UTF-8, no sentences, bad JSON, a missing field, an unknown column, options that do not fit
 *   the format
 */
export async function readSentences(path: string, opts: ReadSentencesOptions = {}): Promise<SentenceInput> {
  const format = opts.format ?? formatOf(path);
  if (!FORMATS.includes(format)) {
    throw new ExtractError(`${path}: unknown input format ${quote(format)}; use one of ${FORMATS.join(', ')}`);
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ExtractError(`${path}: no such file; check the --input path`);
    if (code === 'EISDIR') throw new ExtractError(`${path}: is a directory; --input needs a file`);
    throw new ExtractError(`${path}: cannot read: ${(e as Error).message}`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let text: string;
  try {
    // ignoreBOM: false means the decoder consumes a leading BOM.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ExtractError(`${path}: not UTF-8 text; re-save it as UTF-8`);
  }

  let read: { sentences: string[]; pairs: string[]; skippedEmpty: number };
  if (format === 'text') read = readText(text, path, opts);
  else if (format === 'jsonl') read = readJsonl(text, path, opts);
  else read = readTable(format, text, path, opts);

  if (read.sentences.length === 0) {
    const why = read.skippedEmpty > 0 ? ` (${read.skippedEmpty} empty ${read.skippedEmpty === 1 ? 'line' : 'lines'} or records skipped)` : '';
    throw new ExtractError(`no sentences in ${path}${why}`);
  }
  const result: SentenceInput = { sentences: read.sentences, skippedEmpty: read.skippedEmpty, format, sha256 };
  if (opts.pairField !== undefined) result.pairs = read.pairs;
  return result;
}

function formatOf(path: string): InputFormat {
  switch (extname(path).toLowerCase()) {
    case '.jsonl':
    case '.ndjson':
      return 'jsonl';
    case '.tsv':
      return 'tsv';
    case '.csv':
      return 'csv';
    default:
      return 'text';
  }
}


function isBlank(s: string): boolean {
  return s.trim() === '';
}

function readText(text: string, path: string, opts: ReadSentencesOptions) {
  const given = (['field', 'column', 'pairField'] as const).filter((k) => opts[k] !== undefined);
  if (given.length > 0) {
    throw new ExtractError(`${path}: ${given.join('/')} given, but the file is read as plain text (one sentence per line); name it .jsonl, .tsv or .csv, or pass --format jsonl|tsv|csv`);
  }
  const sentences: string[] = [];
  let skippedEmpty = 0;
  for (const line of splitLines(text)) {
    if (isBlank(line)) skippedEmpty++;
    else sentences.push(line);
  }
  return { sentences, pairs: [], skippedEmpty };
}

// ---------------------------------------------------------------------------------------------
// JSON lines

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A field by exact key first (keys may contain dots), then as a dotted path. */
function lookup(record: Json, field: string): unknown {
  if (Object.hasOwn(record, field)) return record[field];
  let value: unknown = record;
  for (const part of field.split('.')) {
    if (!isObject(value) || !Object.hasOwn(value, part)) return undefined;
    value = value[part];
  }
  return value;
}

/** A record's keys for a message: each quoted, at most the first 20. */
function keysOf(record: Json): string {
  const keys = Object.keys(record);
  if (keys.length === 0) return '(none)';
  const shown = keys.slice(0, 20).map((k) => quote(k, 40)).join(', ');
  return keys.length > 20 ? `${shown}, ... (${keys.length} keys)` : shown;
}

function readJsonl(text: string, path: string, opts: ReadSentencesOptions) {
  const field = opts.field ?? opts.column;
  const sentences: string[] = [];
  const pairs: string[] = [];
  let skippedEmpty = 0;
  splitLines(text).forEach((line, i) => {
    const lineNo = i + 1;
    if (isBlank(line)) {
      skippedEmpty++;
      return;
    }
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (e) {
      throw new ExtractError(`${path}: bad JSON on line ${lineNo} (${(e as Error).message}); each line must be one JSON object`);
    }
    if (!isObject(record)) {
      throw new ExtractError(`${path}: line ${lineNo} is not a JSON object; each line must be one object like {"sentence": "..."}`);
    }
    if (field === undefined) {
      throw new ExtractError(`${path}: JSON lines need --field to name the sentence; the first record has keys: ${keysOf(record)}`);
    }
    const take = (name: string, what: string): string => {
      const value = lookup(record as Json, name);
      if (value === undefined) {
        throw new ExtractError(`${path}: line ${lineNo} has no field ${quote(name)} (${what}); its keys: ${keysOf(record as Json)}`);
      }
      return asText(value, () => `${path}: line ${lineNo}: field ${quote(name)} is ${Array.isArray(value) ? 'an array' : 'an object'}, not text`);
    };
    const sentence = take(field, '--field');
    if (isBlank(sentence)) {
      skippedEmpty++;
      return;
    }
    sentences.push(sentence);
    if (opts.pairField !== undefined) pairs.push(take(opts.pairField, '--pair-field'));
  });
  return { sentences, pairs, skippedEmpty };
}

function asText(value: unknown, refuse: () => string): string {
  if (typeof value === 'string') return value;
  if (value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ExtractError(refuse());
}

// ---------------------------------------------------------------------------------------------
// TSV and CSV

interface Row {
  fields: string[];
  /** 1-based line where the row starts (the header is line 1). */
  line: number;
}

function readTable(format: 'tsv' | 'csv', text: string, path: string, opts: ReadSentencesOptions) {
  const rows: Row[] = format === 'tsv'
    ? splitLines(text).map((l, i) => ({ fields: l.split('\t'), line: i + 1 }))
    : parseCsv(text, path);
  const sentences: string[] = [];
  const pairs: string[] = [];
  let skippedEmpty = 0;
  if (rows.length === 0) return { sentences, pairs, skippedEmpty };
  const header = rows[0].fields;
  const spec = opts.column ?? opts.field;
  let col: number;
  if (spec === undefined) {
    if (header.length !== 1) {
      throw new ExtractError(`${path}: a ${format.toUpperCase()} file needs --column to name the sentence column; the header has: ${listHeader(header)}`);
    }
    col = 0;
  } else {
    col = resolveColumn(header, spec, path, '--column');
  }
  const pairCol = opts.pairField === undefined ? -1 : resolveColumn(header, opts.pairField, path, '--pair-field');

  const cell = (row: Row, c: number): string => {
    if (c >= row.fields.length) {
      throw new ExtractError(`${path}: line ${row.line} has ${row.fields.length} ${row.fields.length === 1 ? 'field' : 'fields'}, but column ${quote(header[c])} is field ${c + 1}${format === 'tsv' ? ' (TSV is split on tabs, without quoting)' : ''}`);
    }
    return row.fields[c];
  };
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    if (row.fields.length === 1 && isBlank(row.fields[0])) {
      skippedEmpty++;
      continue;
    }
    const sentence = cell(row, col);
    if (isBlank(sentence)) {
      skippedEmpty++;
      continue;
    }
    sentences.push(sentence);
    if (pairCol >= 0) pairs.push(cell(row, pairCol));
  }
  return { sentences, pairs, skippedEmpty };
}

/** The header's names for a message: each quoted, at most the first 20. */
function listHeader(header: string[]): string {
  const shown = header.slice(0, 20).map((h) => quote(h, 40)).join(', ');
  return header.length > 20 ? `${shown}, ... (${header.length} columns)` : shown;
}

/** A header name (exact, then ignoring surrounding spaces) or a 0-based index. */
function resolveColumn(header: string[], spec: string, path: string, flag: string): number {
  let idx = header.indexOf(spec);
  if (idx < 0) idx = header.findIndex((h) => h.trim() === spec.trim());
  if (idx < 0 && /^\d+$/.test(spec) && Number(spec) < header.length) idx = Number(spec);
  if (idx < 0) {
    throw new ExtractError(`${path}: no column ${quote(spec)}; the header has: ${listHeader(header)} (pass ${flag} with one of these names or a 0-based index)`);
  }
  return idx;
}

/**
 * RFC 4180 records. Line breaks are LF or CRLF; inside quotes they are kept verbatim. Lenient like
 * Python's csv module: a quote inside an unquoted field is literal, text after a closing quote
 * joins the field. Only an unclosed quote is an error, since it would swallow the rest of the file.
 */
function parseCsv(text: string, path: string): Row[] {
  const rows: Row[] = [];
  const n = text.length;
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let i = 0;
  let fieldStart = true;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */ && fieldStart) {
      const openLine = line;
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          throw new ExtractError(`${path}: the quoted field opened on line ${openLine} never closes; a quote inside a quoted field must be doubled ("")`);
        }
        const chunk = text.slice(i, q);
        field += chunk;
        line += countNewlines(chunk);
        if (text.charCodeAt(q + 1) === 0x22) {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      fieldStart = false;
    } else if (c === 0x2c /* , */) {
      fields.push(field);
      field = '';
      fieldStart = true;
      i++;
    } else if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) === 0x0a)) {
      fields.push(field);
      rows.push({ fields, line: rowLine });
      fields = [];
      field = '';
      fieldStart = true;
      i += c === 0x0d ? 2 : 1;
      line++;
      rowLine = line;
    } else {
      // Unquoted run: up to the next comma or line break.
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x2c || d === 0x0a || (d === 0x0d && text.charCodeAt(j + 1) === 0x0a)) break;
        j++;
      }
      field += text.slice(i, j);
      fieldStart = false;
      i = j;
    }
  }
  // A last row without a final line break.
  if (!fieldStart || fields.length > 0) {
    fields.push(field);
    rows.push({ fields, line: rowLine });
  }
  return rows;
}

function countNewlines(s: string): number {
  let k = 0;
  for (let p = s.indexOf('\n'); p >= 0; p = s.indexOf('\n', p + 1)) k++;
  return k;
}
