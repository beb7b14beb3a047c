import type { ByteSource } from './byte-source.js';
import { npyFail } from './errors.js';
import { cursorSource, type RowCursor } from './row-source.js';
import type { EmbeddingSource } from './types.js';

/** Bytes of text read and decoded per step; each step starts at a line start (a checkpoint). */
const CHUNK_BYTES = 4 << 20;

/** A run of whole lines of a text file. */
interface LineChunk {
  /** file offset of the first line */
  offset: number;
  /** 1-based line number of the first line */
  line: number;
  lines: string[];
}

/**
 * Whole lines of `bytes` from `offset` on, a few MiB at a time (cut at the last newline, so a
 * chunk never splits a line or a UTF-8 character). Lines lose their `\r\n` / `\n`.
 */
async function* lineChunks(bytes: ByteSource, offset: number, line: number): AsyncGenerator<LineChunk> {
  const decoder = new TextDecoder('utf-8');
  let pos = offset;
  let carry = new Uint8Array(0);
  while (pos < bytes.size || carry.length > 0) {
    const n = Math.min(CHUNK_BYTES, bytes.size - pos);
    const fresh = n > 0 ? await bytes.read(pos, n) : new Uint8Array(0);
    const buf = new Uint8Array(carry.length + fresh.length);
    buf.set(carry);
    buf.set(fresh, carry.length);
    const start = pos - carry.length;
    pos += n;
    const atEnd = pos >= bytes.size;
    let cut = atEnd ? buf.length : buf.lastIndexOf(0x0a) + 1;
    if (cut === 0) {
      // no newline yet: a very long line; read on
      carry = buf;
      continue;
    }
    if (atEnd) cut = buf.length;
    const text = decoder.decode(buf.subarray(0, cut));
    carry = buf.slice(cut);
    const lines = splitLines(text);
    yield { offset: start, line, lines };
    line += lines.length;
    if (atEnd) break;
  }
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 0xfeff) return false;
  }
  return true;
}

/** Lines without their terminators (`\n` or `\r\n`); a final line break does not start an extra empty line. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** How a text format turns lines into rows. */
export interface TextFormat {
  format: string;
  /** non-blank lines before the data (a CSV header, a word2vec "n d" line) */
  headerLines: number;
  dims: number;
  dtype: string;
  notes: string[];
  /**
   * Parses data line `text` (1-based `line` in the file, `row` 0-based) into `out[o, o + dims)`;
   * throws an NpyError naming the line for ragged rows or non-numbers.
   */
  parse(text: string, line: number, row: number, out: Float64Array, o: number): void;
  /** The row's label (GloVe's word), for formats with labels. */
  label?(text: string): string;
}

/** What {@link scanText} learns in one read of a text file. */
export interface TextScan {
  /** non-blank lines */
  lines: number;
  /** the first non-blank lines (for detecting the header and the width), at most `keep` */
  first: { text: string; line: number }[];
  /** chunk starts: file offset, 1-based line number, non-blank lines before it */
  checkpoints: { offset: number; line: number; nonBlank: number }[];
}

/**
 * Reads a text file once: counts non-blank lines and records where each chunk starts, so that a
 * later pass can start near any row instead of at the top.
 */
export async function scanText(bytes: ByteSource, keep = 5): Promise<TextScan> {
  const scan: TextScan = { lines: 0, first: [], checkpoints: [] };
  const decoder = new TextDecoder('utf-8');
  let line = 1;
  // Bytes only: newlines are found with indexOf and no text is decoded but the first lines.
  for (let pos = 0; pos < bytes.size; ) {
    const n = Math.min(CHUNK_BYTES, bytes.size - pos);
    let buf = await bytes.read(pos, n);
    const atEnd = pos + n >= bytes.size;
    let cut = atEnd ? buf.length : buf.lastIndexOf(0x0a) + 1;
    if (cut === 0) {
      // a line longer than a chunk: read until its end
      let more = n;
      while (cut === 0 && pos + more < bytes.size) {
        more = Math.min(more * 2, bytes.size - pos);
        buf = await bytes.read(pos, more);
        cut = pos + more >= bytes.size ? buf.length : buf.lastIndexOf(0x0a) + 1;
      }
      if (cut === 0) cut = buf.length;
    }
    scan.checkpoints.push({ offset: pos, line, nonBlank: scan.lines });
    let a = 0;
    while (a < cut) {
      let b = buf.indexOf(0x0a, a);
      if (b < 0 || b >= cut) b = cut;
      let k = a;
      while (k < b && (buf[k] === 0x20 || buf[k] === 0x09 || buf[k] === 0x0d)) k++;
      // a UTF-8 byte order mark alone is blank too
      const blank = k === b || (b - k === 3 && buf[k] === 0xef && buf[k + 1] === 0xbb && buf[k + 2] === 0xbf);
      if (!blank) {
        if (scan.first.length < keep) {
          scan.first.push({ text: decoder.decode(buf.subarray(a, b)).replace(/\r$/, '').replace(/^\ufeff/, ''), line });
        }
        scan.lines++;
      }
      line++;
      a = b + 1;
    }
    pos += cut;
  }
  return scan;
}

/**
 * The EmbeddingSource of a scanned text file: rows are the non-blank lines after the header,
 * parsed by `fmt` on every pass; `blocks({start})` starts at the nearest checkpoint.
 */
export function textSource(bytes: ByteSource, scan: TextScan, fmt: TextFormat): EmbeddingSource {
  const path = bytes.name;
  const rows = scan.lines - fmt.headerLines;
  if (rows <= 0) {
    throw npyFail(path, `no rows to analyze: the file has ${scan.lines === 0 ? 'no lines' : 'a header and no data lines'}`);
  }
  const rowOf = (nonBlank: number) => Math.max(0, nonBlank - fmt.headerLines);
  const checkpointIndex = (row: number) => {
    let i = 0;
    while (i + 1 < scan.checkpoints.length && rowOf(scan.checkpoints[i + 1].nonBlank) <= row && scan.checkpoints[i + 1].nonBlank >= fmt.headerLines) i++;
    return i;
  };
  const open = (i: number) => new TextRows(bytes, scan.checkpoints[i], fmt, rowOf(scan.checkpoints[i].nonBlank));
  return cursorSource(
    { path, format: fmt.format, rows, dims: fmt.dims, dtype: fmt.dtype, shape: [rows, fmt.dims], layer: null, notes: fmt.notes, rowBytes: fmt.dims * 10 },
    {
      openAt: async (row) => open(checkpointIndex(row)),
      checkpointBefore: (row) => rowOf(scan.checkpoints[checkpointIndex(row)].nonBlank),
      close: () => bytes.close(),
      ...(fmt.label
        ? {
            async labels() {
              const out: string[] = [];
              const cur = open(0);
              try {
                for (let t = await cur.nextLine(); t !== null; t = await cur.nextLine()) out.push(fmt.label!(t.text));
              } finally {
                await cur.close();
              }
              return out;
            },
          }
        : {}),
    },
  );
}

class TextRows implements RowCursor {
  position: number;
  private readonly chunks: AsyncGenerator<LineChunk>;
  private chunk: LineChunk | null = null;
  private i = 0;
  private nonBlank: number;

  constructor(
    bytes: ByteSource,
    at: { offset: number; line: number; nonBlank: number },
    private readonly fmt: TextFormat,
    row: number,
  ) {
    this.chunks = lineChunks(bytes, at.offset, at.line);
    this.nonBlank = at.nonBlank;
    this.position = row;
  }

  /** The next data line (blank and header lines skipped), or null at the end. */
  async nextLine(): Promise<{ text: string; line: number } | null> {
    for (;;) {
      if (this.chunk === null || this.i >= this.chunk.lines.length) {
        const next = await this.chunks.next();
        if (next.done) return null;
        this.chunk = next.value;
        this.i = 0;
        continue;
      }
      const text = this.chunk.lines[this.i];
      const line = this.chunk.line + this.i;
      this.i++;
      if (isBlank(text)) continue;
      this.nonBlank++;
      if (this.nonBlank <= this.fmt.headerLines) continue;
      return { text: this.nonBlank === 1 ? text.replace(/^\ufeff/, '') : text, line };
    }
  }

  async read(out: Float64Array, outRow: number, maxRows: number): Promise<number> {
    let k = 0;
    while (k < maxRows) {
      const t = await this.nextLine();
      if (t === null) break;
      this.fmt.parse(t.text, t.line, this.position, out, (outRow + k) * this.fmt.dims);
      k++;
      this.position++;
    }
    return k;
  }

  async skip(count: number): Promise<void> {
    for (let k = 0; k < count; k++) {
      if ((await this.nextLine()) === null) return;
      this.position++;
    }
  }

  async close(): Promise<void> {
    await this.chunks.return(undefined);
  }
}

/**
 * The numbers of `fields` (already comma-separated) through the native JSON parser, which is
 * several times faster than splitting and converting each field; null when the text is not plain
 * JSON numbers (nan/inf spellings, quotes, empty fields, a stray word), so that the caller takes
 * its exact path, which also names the bad field.
 */
export function fastNumbers(fields: string): number[] | null {
  let v: unknown;
  try {
    v = JSON.parse(`[${fields}]`);
  } catch {
    return null;
  }
  if (!Array.isArray(v)) return null;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'number') return null;
  return v as number[];
}

/**
 * A number as text formats write it: anything `Number()` reads except blank text, and the
 * nan/inf spellings of numpy, pandas and C (`nan`, `NaN`, `inf`, `-Infinity`, ...).
 *
 * @returns the value, or null for text that is not a number (the caller names the line).
 */
export function parseNumber(t: string): number | null {
  const v = Number(t);
  if (!Number.isNaN(v)) return v === 0 && isBlank(t) ? null : v;
  const s = t.trim().toLowerCase().replace(/^\+/, '');
  if (s === 'nan' || s === '-nan') return NaN;
  if (s === 'inf' || s === 'infinity') return Infinity;
  if (s === '-inf' || s === '-infinity') return -Infinity;
  return null;
}
