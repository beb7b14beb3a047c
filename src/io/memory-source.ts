import { npyFail } from './errors.js';
import { DEFAULT_BLOCK_BYTES, resolveBlockOptions, type BlockOptions, type EmbeddingSource, type RowBlock } from './types.js';

const MEMORY_PATH = '<memory>';

/**
 * Wraps an in-memory matrix as an {@link EmbeddingSource} (path `'<memory>'`), so code written
 * against streamed files also runs on arrays built in JS (tests, the extract pipeline, ...).
 *
 * - `number[][]`: rows are the outer array; the values are copied now (dtype `'<f8'`).
 * - `Float64Array` (dtype `'<f8'`) / `Float32Array` (dtype `'<f4'`): row-major; the array is
 *   referenced, not copied, so later changes to it show up in later blocks. Give `rows` and/or
 *   `dims`; a missing one is derived from the length.
 *
 * Every block is a fresh Float64Array copy. Throws a RangeError when the sizes do not fit the
 * data (ragged rows, length not rows * dims, neither size given for a typed array) and an
 * NpyError when the matrix has no rows or no columns, like a file would.
 */
export function matrixSource(
  data: Float64Array | Float32Array | number[][],
  rows?: number,
  dims?: number,
): EmbeddingSource {
  let values: Float64Array | Float32Array;
  let n: number;
  let d: number;
  if (Array.isArray(data)) {
    n = rows ?? data.length;
    d = dims ?? (data.length > 0 ? data[0].length : 0);
    if (n !== data.length) throw new RangeError(`matrixSource: rows=${n} but the array has ${data.length} rows`);
    const flat = new Float64Array(n * d);
    data.forEach((row, i) => {
      if (row.length !== d) throw new RangeError(`matrixSource: row ${i} has ${row.length} values, expected ${d}`);
      flat.set(row, i * d);
    });
    values = flat;
  } else {
    if (rows === undefined && dims === undefined) {
      throw new RangeError('matrixSource: give rows and/or dims for a typed array');
    }
    n = rows ?? (dims! > 0 ? data.length / dims! : NaN);
    d = dims ?? (n > 0 ? data.length / n : NaN);
    if (!Number.isSafeInteger(n) || !Number.isSafeInteger(d) || n < 0 || d < 0 || n * d !== data.length) {
      throw new RangeError(`matrixSource: ${data.length} values do not make a ${rows ?? '?'} x ${dims ?? '?'} matrix`);
    }
    values = data;
  }
  if (n === 0 || d === 0) {
    throw npyFail(MEMORY_PATH, `no rows to analyze: the matrix is ${n} x ${d}`);
  }
  return new MemorySource(values, n, d);
}

class MemorySource implements EmbeddingSource {
  readonly path = MEMORY_PATH;
  readonly dtype: string;
  readonly fortranOrder = false;
  readonly shape: readonly number[];
  readonly layer = null;
  readonly notes: string[] = [];
  private closed = false;

  constructor(
    private readonly values: Float64Array | Float32Array,
    readonly rows: number,
    readonly dims: number,
  ) {
    this.dtype = values instanceof Float32Array ? '<f4' : '<f8';
    this.shape = Object.freeze([rows, dims]);
  }

  blocks(opts?: BlockOptions): AsyncIterable<RowBlock> {
    if (this.closed) throw new Error(`${this.path}: blocks() called after close()`);
    const rowBytes = this.dims * this.values.BYTES_PER_ELEMENT;
    const { blockRows, start, end } = resolveBlockOptions(opts, this.rows, Math.max(1, Math.floor(DEFAULT_BLOCK_BYTES / rowBytes)));
    return this.iterate(blockRows, start, end);
  }

  private async *iterate(blockRows: number, start: number, end: number): AsyncGenerator<RowBlock> {
    const d = this.dims;
    for (let r0 = start; r0 < end; r0 += blockRows) {
      if (this.closed) throw new Error(`${this.path}: source closed while reading`);
      const r1 = Math.min(end, r0 + blockRows);
      // new Float64Array(subarray) copies (and widens f4), so callers may keep the block.
      yield { start: r0, rows: r1 - r0, data: new Float64Array(this.values.subarray(r0 * d, r1 * d)) };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
