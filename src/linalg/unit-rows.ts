import type { RowData } from './backends/types.js';

/**
 * Adds `row / |row|` of the columns `[offset, offset + e)` of each row of `proj` (row stride
 * `stride`) to `unit`; all-zero rows, and the rows flagged in `skip`, are left out. Returns how many
 * rows were added. The sum of unit rows gives the exact average cosine (stats' avgCosine).
 */
export function addUnitRows(
  proj: Float64Array, rows: number, stride: number, offset: number, e: number, unit: Float64Array, skip: Uint8Array | null,
): number {
  let added = 0;
  for (let r = 0; r < rows; r++) {
    if (skip?.[r]) continue;
    const o = r * stride + offset;
    let ss = 0;
    for (let c = 0; c < e; c++) ss += proj[o + c] * proj[o + c];
    if (ss === 0) continue;
    added++;
    const inv = 1 / Math.sqrt(ss);
    for (let c = 0; c < e; c++) unit[c] += proj[o + c] * inv;
  }
  return added;
}

/**
 * Adds `(x * scale) / |x * scale|` of each row of the `rows x dims` block x to `unit`, in float64:
 * the unit rows of a diagonal map (IsoBN, standardization) without forming the mapped rows. Rows
 * whose mapped norm is 0 are left out; returns how many rows were added.
 */
export function addScaledUnitRows(x: RowData, rows: number, dims: number, scale: Float64Array, unit: Float64Array): number {
  let added = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * dims;
    let ss = 0;
    for (let c = 0; c < dims; c++) {
      const v = x[o + c] * scale[c];
      ss += v * v;
    }
    if (ss === 0) continue;
    added++;
    const inv = 1 / Math.sqrt(ss);
    for (let c = 0; c < dims; c++) unit[c] += x[o + c] * scale[c] * inv;
  }
  return added;
}

/** 1 for the rows of a `rows x dims` block whose every value is 0, else 0. */
export function zeroRowFlags(x: RowData, rows: number, dims: number, out = new Uint8Array(rows)): Uint8Array {
  for (let r = 0; r < rows; r++) {
    const o = r * dims;
    let c = 0;
    while (c < dims && x[o + c] === 0) c++;
    out[r] = c === dims ? 1 : 0;
  }
  return out;
}
