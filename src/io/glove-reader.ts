import type { ByteSource } from './byte-source.js';
import { npyFail, quote } from './errors.js';
import type { FormatContext } from './open-format.js';
import { fastNumbers, parseNumber, scanText, textSource, type TextFormat } from './text-rows.js';
import type { EmbeddingSource, OpenOptions } from './types.js';

/** Splits on runs of spaces/tabs (GloVe uses one space; word2vec text often ends lines with one). */
function tokens(line: string): string[] {
  const t = line.trim();
  const fast = t.split(' ');
  for (const x of fast) if (x === '' || x.includes('\t')) return t.split(/[ \t]+/);
  return fast;
}

/**
 * Opens a GloVe text file (`word v1 v2 ... vd` per line) or a word2vec text file (the same after
 * an `n d` header line, which must agree with the file). The first token of each line is the
 * row's label (`source.labels()`), the rest the vector; a word holding spaces (a few lines of
 * glove.840B) is everything before the last d numbers. The width comes from the header or the
 * first line; a line with another count, or a value that is not a number, fails naming the line.
 *
 * Our own code: splitting lines of numbers needs no library, and the reader keeps line offsets
 * (checkpoints) that a generic CSV parser would not give.
 */
export async function openGlove(bytes: ByteSource, _opts: OpenOptions, _ctx: FormatContext): Promise<EmbeddingSource> {
  const path = bytes.name;
  try {
    const scan = await scanText(bytes, 2);
    if (scan.first.length === 0) throw npyFail(path, 'no rows to analyze: the file has no lines');
    const head = tokens(scan.first[0].text);
    let headerLines = 0;
    let dims: number;
    let declaredRows: number | null = null;
    if (head.length === 2 && /^\d+$/.test(head[0]) && /^\d+$/.test(head[1])) {
      headerLines = 1;
      declaredRows = Number(head[0]);
      dims = Number(head[1]);
    } else {
      dims = head.length - 1;
    }
    if (!(dims > 0)) throw npyFail(path, `line ${scan.first[0].line} has no vector after the word: expected "word v1 v2 ... vd"`);
    if (declaredRows !== null && declaredRows !== scan.lines - 1) {
      throw npyFail(path, `the word2vec header says ${declaredRows} rows but the file has ${scan.lines - 1}: the file is truncated or the header lies; re-save it`);
    }
    const fmt: TextFormat = {
      format: 'glove',
      headerLines,
      dims,
      dtype: 'text',
      notes: [],
      parse(text, line, _row, out, o) {
        const space = text.indexOf(' ');
        const fast = space > 0 ? fastNumbers(text.slice(space + 1).trimEnd().replaceAll(' ', ',')) : null;
        if (fast !== null && fast.length === dims) {
          out.set(fast, o);
          return;
        }
        const t = tokens(text);
        if (t.length < dims + 1) {
          throw npyFail(path, `line ${line} has ${t.length - 1} values after the word but line ${scan.first[headerLines]?.line ?? 1} has ${dims}: every row needs the same number of values`);
        }
        const first = t.length - dims;
        if (first > 1 && parseNumber(t[1]) !== null) {
          throw npyFail(path, `line ${line} has ${t.length - 1} values after the word but line ${scan.first[headerLines]?.line ?? 1} has ${dims}: every row needs the same number of values`);
        }
        for (let j = 0; j < dims; j++) {
          const v = parseNumber(t[first + j]);
          if (v === null) throw npyFail(path, `line ${line}, value ${j + 1}: ${quote(t[first + j], 40)} is not a number`);
          out[o + j] = v;
        }
      },
      label(text) {
        const t = tokens(text);
        return t.slice(0, Math.max(1, t.length - dims)).join(' ');
      },
    };
    return textSource(bytes, scan, fmt);
  } catch (err) {
    await bytes.close().catch(() => undefined);
    throw err;
  }
}
