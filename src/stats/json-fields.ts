import { quote } from '../io/errors.js';
import { StatsError } from './errors.js';

/**
 * Field checks for the JSON files that carry numbers between machines (statistics shards, merge
 * plans, second-round partials). Every field is checked for its type, its range and, for arrays
 * of float64 (base64 of little-endian bytes), its exact length and finiteness, before anything
 * the size of the file says is allocated: a file may be damaged, edited or hostile, and a wrong
 * number must never come out of it. Each check throws a {@link StatsError} naming the field.
 */

/** A plain object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `o[key]` as an object; throws unless it is one. */
export function recordField(o: Record<string, unknown>, key: string, where = key): Record<string, unknown> {
  const v = o[key];
  if (!isRecord(v)) throw new StatsError(`${where} must be an object, found ${quote(v)}`);
  return v;
}

/**
 * `o[key]` as a whole number in [min, max] (max at most 2^53 - 1, so that sums of counts stay
 * exact); `1e308` or `2.5` are refused.
 */
export function intField(o: Record<string, unknown>, key: string, min = 0, max = Number.MAX_SAFE_INTEGER, where = key): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`;
    throw new StatsError(`${where} must be ${range}, found ${quote(v)}`);
  }
  return v;
}

/** `o[key]` as a finite number in [min, max]. */
export function numberField(o: Record<string, unknown>, key: string, min = -Infinity, max = Infinity, where = key): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new StatsError(`${where} must be a finite number${min > -Infinity || max < Infinity ? ` from ${min} to ${max}` : ''}, found ${quote(v)}`);
  }
  return v;
}

/** Longest name (a path, a dtype) a file may carry. */
export const MAX_NAME_CHARS = 4096;

/**
 * True for a name fit to print and to key on: a non-empty string of at most
 * {@link MAX_NAME_CHARS} characters without control characters (NUL, newlines, escapes) or
 * line separators, which would forge lines in messages and reports.
 */
export function isCleanName(v: unknown): v is string {
  // eslint-disable-next-line no-control-regex
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME_CHARS && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(v);
}

/** `o[key]` as a clean name ({@link isCleanName}). */
export function nameField(o: Record<string, unknown>, key: string, where = key): string {
  const v = o[key];
  if (!isCleanName(v)) {
    throw new StatsError(`${where} must be a non-empty name without control characters, found ${quote(v)}`);
  }
  return v;
}

/** `o[key]` as lower-case hex of exactly `chars` characters (a digest). */
export function hexField(o: Record<string, unknown>, key: string, chars: number, where = key): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length !== chars || !/^[0-9a-f]*$/.test(v)) {
    throw new StatsError(`${where} must be ${chars} lower-case hex digits, found ${quote(v)}`);
  }
  return v;
}

/** Which non-finite values an array may hold: none, or the given infinity (an empty max / min). */
export type FiniteRule = 'finite' | '+inf' | '-inf';

/**
 * `o[key]`: exactly `count` float64 values as base64 of their little-endian bytes. The string's
 * length is checked before decoding (so a forged size allocates nothing), the alphabet is
 * checked strictly (Node's decoder skips stray characters silently), and every value must be
 * finite, or the one infinity `rule` allows.
 */
export function f64Field(o: Record<string, unknown>, key: string, count: number, rule: FiniteRule = 'finite', where = key): Float64Array {
  const s = o[key];
  if (typeof s !== 'string') throw new StatsError(`${where} must be a base64 string of float64 values, found ${quote(s)}`);
  const want = 4 * Math.ceil((count * 8) / 3);
  if (s.length !== want) {
    throw new StatsError(`${where} must hold ${count} float64 values (${want} base64 characters), found ${s.length} characters`);
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new StatsError(`${where} is not valid base64`);
  const buf = Buffer.from(s, 'base64');
  if (buf.length !== count * 8) throw new StatsError(`${where} is not valid base64`);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const v = buf.readDoubleLE(i * 8);
    if (!Number.isFinite(v) && !(rule === '+inf' && v === Infinity) && !(rule === '-inf' && v === -Infinity)) {
      throw new StatsError(`${where} holds ${v} at index ${i}: every value must be finite`);
    }
    out[i] = v;
  }
  return out;
}
