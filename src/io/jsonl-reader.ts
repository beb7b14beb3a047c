import type { ByteSource } from './byte-source.js';
import { npyFail, quote } from './errors.js';
import type { FormatContext } from './open-format.js';
import { scanText, textSource, type TextFormat } from './text-rows.js';
import type { EmbeddingSource, OpenOptions } from './types.js';

/** The value at a dotted path (`data.embedding`, `items.0.vec`), or undefined. */
function at(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Little-endian float32s from base64 (embedding APIs' `encoding_format: "base64"`). */
function base64Floats(s: string): Float32Array | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  if (b.length % 4 !== 0) return null;
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

/**
 * Opens JSON Lines: one JSON object per line with the vector at `field` (default `embedding`,
 * dotted for nested objects, e.g. `data.0.embedding` for an API response), or one JSON array per
 * line. A vector is an array of numbers, or a base64 string of little-endian float32s (embedding
 * APIs' base64 encoding). Invalid JSON, a missing field, strings, nested lists and rows of another
 * length fail naming the line; a null vector or null element fails too, or with `dropNonfinite`
 * becomes a NaN row that the statistics drop and count.
 */
export async function openJsonl(bytes: ByteSource, opts: OpenOptions, _ctx: FormatContext): Promise<EmbeddingSource> {
  const path = bytes.name;
  const fieldName = opts.field ?? 'embedding';
  const field = fieldName.split('.');
  const dropNonfinite = opts.dropNonfinite ?? false;
  try {
    const scan = await scanText(bytes, 1);
    if (scan.first.length === 0) throw npyFail(path, 'no rows to analyze: the file has no lines');
    const vectorOf = (text: string, line: number): ArrayLike<unknown> | null => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw npyFail(path, `line ${line} is not valid JSON (${(err as Error).message}): ${quote(text, 60)}`);
      }
      const v = Array.isArray(value) ? value : at(value, field);
      if (v === undefined) {
        const keys = value !== null && typeof value === 'object' ? Object.keys(value).slice(0, 10).join(', ') : typeof value;
        throw npyFail(path, `line ${line} has no field ${quote(fieldName, 60)} (it has ${quote(keys, 80)}): name the vector's field with the field option (--field)`);
      }
      if (v === null) return null;
      if (typeof v === 'string') {
        const f = base64Floats(v);
        if (f === null) throw npyFail(path, `line ${line}: field ${quote(fieldName, 60)} is a string, not a vector: ${quote(v, 40)}`);
        return f;
      }
      if (!Array.isArray(v)) throw npyFail(path, `line ${line}: field ${quote(fieldName, 60)} is ${typeof v}, not a list of numbers`);
      return v;
    };
    const first = vectorOf(scan.first[0].text, scan.first[0].line);
    if (first === null || first.length === 0) {
      throw npyFail(path, `line ${scan.first[0].line}: the first vector is ${first === null ? 'null' : 'empty'}, so the width is unknown: drop such rows first`);
    }
    const dims = first.length;
    const firstLine = scan.first[0].line;
    const fmt: TextFormat = {
      format: 'jsonl',
      headerLines: 0,
      dims,
      dtype: 'json',
      notes: [],
      parse(text, line, _row, out, o) {
        const v = vectorOf(text, line);
        if (v === null) {
          if (!dropNonfinite) throw npyFail(path, `line ${line}: the vector is null: fill or drop such rows, or pass dropNonfinite (--drop-nonfinite) to skip them (they are counted)`);
          out.fill(NaN, o, o + dims);
          return;
        }
        if (v.length !== dims) {
          throw npyFail(path, `line ${line} has ${v.length} values but line ${firstLine} has ${dims}: every vector must have the same length`);
        }
        for (let j = 0; j < dims; j++) {
          const x = v[j];
          if (typeof x === 'number') out[o + j] = x;
          else if (x === null) {
            if (!dropNonfinite) throw npyFail(path, `line ${line}, value ${j + 1} is null: fill it, or pass dropNonfinite (--drop-nonfinite) to skip such rows`);
            out[o + j] = NaN;
          } else if (Array.isArray(x)) throw npyFail(path, `line ${line}, value ${j + 1} is a nested list: each row must be a flat list of numbers`);
          else throw npyFail(path, `line ${line}, value ${j + 1} is ${quote(x, 40)}, not a number`);
        }
      },
    };
    return textSource(bytes, scan, fmt);
  } catch (err) {
    await bytes.close().catch(() => undefined);
    throw err;
  }
}
