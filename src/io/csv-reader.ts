import { extname } from 'node:path';
import type { ByteSource } from './byte-source.js';
import { npyFail, quote } from './errors.js';
import type { FormatContext } from './open-format.js';
import { fastNumbers, parseNumber, scanText, textSource, type TextFormat } from './text-rows.js';
import type { EmbeddingSource, OpenOptions } from './types.js';

function unquote(f: string): string {
  const t = f.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t;
}

/**
 * Opens a CSV/TSV (or whitespace-separated) file of numbers, one row per line. The delimiter is a
 * tab when the first line has one (or the file is `.tsv`), else a comma when it has one, else
 * runs of spaces (np.savetxt's default). The first line is a header when one of its fields is not
 * a number, or when it is exactly 0, 1, ..., k-1 (pandas' column names); a header whose first
 * field is empty, or a first field named like an index (`Unnamed: 0`, `index`, `id`) with integer
 * values, marks an index column, which is dropped. Empty fields are missing values (NaN, pandas'
 * way of writing them). A line with another number of fields, or a field that is not a number,
 * fails naming the line.
 *
 * Our own code: a numbers-only CSV needs no general parser (quotes around numbers are stripped),
 * and it keeps line offsets so that later passes can start near any row.
 */
export async function openCsv(bytes: ByteSource, _opts: OpenOptions, _ctx: FormatContext): Promise<EmbeddingSource> {
  const path = bytes.name;
  try {
    const scan = await scanText(bytes, 3);
    if (scan.first.length === 0) throw npyFail(path, 'no rows to analyze: the file has no lines');
    const firstLine = scan.first[0].text;
    const ext = extname(path).toLowerCase();
    const delim: string | RegExp = firstLine.includes('\t') || ext === '.tsv' ? '\t' : firstLine.includes(',') || ext === '.csv' ? ',' : /[ ]+/;
    const split = typeof delim === 'string' ? (s: string) => s.split(delim) : (s: string) => s.trim().split(delim);
    const headerFields = split(firstLine).map(unquote);
    const numeric = headerFields.map((f) => f === '' || parseNumber(f) !== null);
    const sequence = headerFields.every((f, i) => f === String(i)) || headerFields.slice(1).every((f, i) => f === String(i));
    const header = numeric.some((x) => !x) || (sequence && scan.first.length > 1);
    let indexColumn = false;
    if (header) {
      const h0 = headerFields[0].toLowerCase();
      const next = scan.first[1] ? split(scan.first[1].text).map(unquote) : null;
      indexColumn = (h0 === '' || h0.startsWith('unnamed') || h0 === 'index' || h0 === 'id') && next !== null && /^\d+$/.test(next[0]);
      const named = headerFields.slice(indexColumn ? 1 : 0);
      const bad = named.find((f) => f !== '' && parseNumber(f) === null && next !== null && parseNumber(next[headerFields.indexOf(f)] ?? '') === null);
      if (bad !== undefined) {
        throw npyFail(path, `column ${quote(bad, 40)} is not numeric (line ${scan.first[1]!.line}: ${quote(next![headerFields.indexOf(bad)], 40)}): keep only the embedding columns`);
      }
    }
    const width = headerFields.length;
    const skip = indexColumn ? 1 : 0;
    const dims = width - skip;
    if (dims <= 0) throw npyFail(path, 'no vector columns: the file has only an index column');
    const dataStart = header ? scan.first[1]?.line : scan.first[0].line;
    const fmt: TextFormat = {
      format: delim === '\t' ? 'tsv' : 'csv',
      headerLines: header ? 1 : 0,
      dims,
      dtype: 'text',
      notes: [],
      parse(text, line, _row, out, o) {
        const fast = delim === ',' ? fastNumbers(text) : delim === '\t' ? fastNumbers(text.replaceAll('\t', ',')) : null;
        if (fast !== null && fast.length === width) {
          for (let j = 0; j < dims; j++) out[o + j] = fast[j + skip];
          return;
        }
        const f = split(text);
        if (f.length !== width) {
          throw npyFail(path, `line ${line} has ${f.length} fields but line ${header ? `${scan.first[0].line} (the header)` : dataStart} has ${width}: every row needs the same number of values`);
        }
        for (let j = 0; j < dims; j++) {
          const raw = f[j + skip];
          let v = parseNumber(raw);
          if (v === null) {
            const u = unquote(raw);
            v = u === '' ? NaN : parseNumber(u);
            if (v === null) throw npyFail(path, `line ${line}, column ${j + skip + 1}: ${quote(raw, 40)} is not a number`);
          }
          out[o + j] = v;
        }
      },
    };
    return textSource(bytes, scan, fmt);
  } catch (err) {
    await bytes.close().catch(() => undefined);
    throw err;
  }
}
