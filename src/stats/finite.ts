import { NonFiniteRowError } from './errors.js';

/** Rows of a block that hold only finite numbers, packed (same array type), and how many were removed. */
export interface FiniteRows<T extends Float64Array | Float32Array = Float64Array> {
  data: T;
  rows: number;
  dropped: number;
}

/**
 * Removes rows holding NaN or +-Inf from a row-major block, or throws on the first one.
 *
 * Both passes over a file call this with the same policy, so they see the same rows.
 *
 * @param firstRow  index of the block's first row in the whole input, for the error message
 * @param drop      true: skip bad rows; false: throw {@link NonFiniteRowError} naming the first
 * @returns the input array itself when every row is finite (no copy)
 */
export function finiteRows<T extends Float64Array | Float32Array>(data: T, rows: number, dims: number, firstRow: number, drop: boolean): FiniteRows<T> {
  const n = rows * dims;
  // x * 0 is NaN exactly for NaN and +-Inf, and 0 otherwise (no overflow, unlike a plain sum):
  // four independent sums scan a clean block at several values per cycle; only a block that
  // turns out dirty is searched for its first bad value.
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n4 = n - (n % 4);
  for (let i = 0; i < n4; i += 4) {
    s0 += data[i] * 0; s1 += data[i + 1] * 0; s2 += data[i + 2] * 0; s3 += data[i + 3] * 0;
  }
  for (let i = n4; i < n; i++) s0 += data[i] * 0;
  if (s0 + s1 + s2 + s3 === 0) return { data, rows, dropped: 0 };
  let bad = 0;
  while (data[bad] - data[bad] === 0) bad++;
  if (!drop) {
    const r = Math.floor(bad / dims);
    throw new NonFiniteRowError(firstRow + r, bad - r * dims, data[bad]);
  }
  const out = (data instanceof Float32Array ? new Float32Array(rows * dims) : new Float64Array(rows * dims)) as T;
  let kept = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * dims;
    let ok = true;
    for (let c = 0; c < dims; c++) if (data[o + c] - data[o + c] !== 0) { ok = false; break; }
    if (ok) { out.set(data.subarray(o, o + dims), kept * dims); kept++; }
  }
  return { data: out.subarray(0, kept * dims) as T, rows: kept, dropped: rows - kept };
}
