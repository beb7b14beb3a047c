import { NonFiniteRowError } from './errors.js';

/** Rows of a block that hold only finite numbers, packed, and how many were removed. */
export interface FiniteRows {
  data: Float64Array;
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
export function finiteRows(data: Float64Array, rows: number, dims: number, firstRow: number, drop: boolean): FiniteRows {
  let bad = -1;
  for (let i = 0; i < rows * dims; i++) {
    // x - x is NaN exactly for NaN and +-Inf; one comparison per element keeps the scan cheap.
    if (data[i] - data[i] !== 0) { bad = i; break; }
  }
  if (bad < 0) return { data, rows, dropped: 0 };
  if (!drop) {
    const r = Math.floor(bad / dims);
    throw new NonFiniteRowError(firstRow + r, bad - r * dims, data[bad]);
  }
  const out = new Float64Array(rows * dims);
  let kept = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * dims;
    let ok = true;
    for (let c = 0; c < dims; c++) if (data[o + c] - data[o + c] !== 0) { ok = false; break; }
    if (ok) { out.set(data.subarray(o, o + dims), kept * dims); kept++; }
  }
  return { data: out.subarray(0, kept * dims), rows: kept, dropped: rows - kept };
}
