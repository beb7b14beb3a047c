/**
 * What `analyze()` accepts as an input, turned into an {@link EmbeddingSource}: file names and
 * URLs, sources, plain arrays, typed arrays with a shape, ml-matrix `Matrix` objects (used as
 * they are, not converted), and async iterables of row batches.
 */
import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Matrix } from 'ml-matrix';
import { NpyError, matrixSource, openEmbeddings, openFileBytes, type BlockOptions, type EmbeddingSource, type OpenOptions, type RowBlock } from '../io/index.js';
import { rawArraySource } from '../io/npy-reader.js';
import { DEFAULT_BLOCK_BYTES, resolveBlockOptions } from '../io/types.js';

/** A row-major matrix in a typed array: give `rows` and/or `dims`, or `shape: [rows, dims]`. */
export interface TypedMatrix {
  data: Float64Array | Float32Array;
  rows?: number;
  dims?: number;
  shape?: readonly number[];
}

/**
 * The part of ml-matrix's `AbstractMatrix` that is read (any of its classes fits: `Matrix`,
 * views, wrappers), so that ml-matrix itself is never loaded to read one.
 */
export interface MatrixLike {
  readonly rows: number;
  readonly columns: number;
  getRow(index: number): number[];
}

/** One batch of rows of an {@link AsyncIterable} input. */
export type RowBatch = number[][] | TypedMatrix | MatrixLike | Matrix;

/**
 * An input of `analyze()`:
 * - a file name, URL, `hf://` path, directory or glob (see `openEmbeddings`);
 * - an {@link EmbeddingSource} (e.g. from `openEmbeddings` or `matrixSource`);
 * - `number[][]` (rows), a {@link TypedMatrix} (`{ data: Float32Array, rows, dims }` or
 *   `{ data, shape: [rows, dims] }`; `readEmbeddings()`'s result is one), an ml-matrix `Matrix`;
 * - an `AsyncIterable` of row batches (each `number[][]`, a TypedMatrix or a Matrix): read once,
 *   into a temporary float64 file in the system's temp folder (the analysis reads its rows
 *   several times), removed afterwards.
 */
export type AnalyzeInput = string | EmbeddingSource | number[][] | TypedMatrix | MatrixLike | Matrix | AsyncIterable<RowBatch>;

/** An input opened for an analysis: the source, and whether the analysis must close it. */
export interface OpenedInput {
  source: EmbeddingSource;
  owned: boolean;
}

/** True for an {@link EmbeddingSource} (rather than another kind of input). */
export function isEmbeddingSource(x: unknown): x is EmbeddingSource {
  const s = x as EmbeddingSource;
  return typeof x === 'object' && x !== null && typeof s.blocks === 'function' && typeof s.rows === 'number' && typeof s.dims === 'number';
}

/** True for an ml-matrix matrix (any AbstractMatrix), by its shape and `getRow`, without loading ml-matrix. */
export function isMatrixLike(x: unknown): x is MatrixLike {
  const m = x as MatrixLike;
  return typeof x === 'object' && x !== null && typeof m.rows === 'number' && typeof m.columns === 'number' && typeof m.getRow === 'function';
}

function isTypedMatrix(x: unknown): x is TypedMatrix {
  const t = x as TypedMatrix;
  return typeof x === 'object' && x !== null && (t.data instanceof Float64Array || t.data instanceof Float32Array);
}

/** True for `number[][]`: an array whose first element is an array of numbers (or empty). */
export function isRowArray(x: unknown): x is number[][] {
  return Array.isArray(x) && x.length > 0 && Array.isArray(x[0]) && (x[0].length === 0 || typeof x[0][0] === 'number');
}

/** Opens one input of `analyze()` (see {@link AnalyzeInput}). */
export async function openInput(input: AnalyzeInput, opts: OpenOptions): Promise<OpenedInput> {
  if (typeof input === 'string') return { source: await openEmbeddings(input, opts), owned: true };
  if (isEmbeddingSource(input)) return { source: input, owned: false };
  if (isRowArray(input)) return { source: matrixSource(input), owned: true };
  if (isTypedMatrix(input)) return { source: typedSource(input), owned: true };
  if (isMatrixLike(input)) return { source: matrixLikeSource(input), owned: true };
  if (typeof input === 'object' && input !== null && Symbol.asyncIterator in input) {
    return { source: await spooledSource(input as AsyncIterable<RowBatch>), owned: true };
  }
  throw new NpyError(`an input of analyze() must be a path or URL, an EmbeddingSource, number[][], { data: Float32Array | Float64Array, rows, dims }, an ml-matrix Matrix or an AsyncIterable of row batches; got ${describe(input)}`);
}

function describe(x: unknown): string {
  if (Array.isArray(x)) return x.length === 0 ? 'an empty array' : `an array of ${typeof x[0]}`;
  if (x === null) return 'null';
  return typeof x === 'object' ? `an object with keys ${Object.keys(x as object).slice(0, 5).join(', ') || '(none)'}` : typeof x;
}

/** A typed array with a shape as a source (not copied). */
function typedSource(t: TypedMatrix): EmbeddingSource {
  let { rows, dims } = t;
  if (t.shape !== undefined) {
    if (t.shape.length !== 2) {
      throw new NpyError(`a typed-array input has shape [${t.shape.join(', ')}]: give a 2-D [rows, dims] shape (for (n, L, d) data, pass one layer: data.subarray of it, or write an .npy)`);
    }
    if ((rows !== undefined && rows !== t.shape[0]) || (dims !== undefined && dims !== t.shape[1])) {
      throw new NpyError(`a typed-array input gives rows/dims ${rows} x ${dims} and shape [${t.shape.join(', ')}]: give one`);
    }
    [rows, dims] = t.shape;
  }
  if (rows === undefined && dims === undefined) {
    throw new NpyError('a typed-array input needs its shape: { data, rows, dims } or { data, shape: [rows, dims] }');
  }
  try {
    return matrixSource(t.data, rows, dims);
  } catch (err) {
    if (err instanceof RangeError) throw new NpyError(err.message.replace(/^matrixSource: /, 'a typed-array input: '));
    throw err;
  }
}

/** An ml-matrix matrix as a source: rows read with `getRow`, in blocks, as they are needed. */
export function matrixLikeSource(m: MatrixLike): EmbeddingSource {
  const n = m.rows;
  const d = m.columns;
  if (!(n > 0 && d > 0)) throw new NpyError(`<matrix>: no rows to analyze: the matrix is ${n} x ${d}`);
  let closed = false;
  return {
    path: '<matrix>',
    rows: n,
    dims: d,
    dtype: '<f8',
    fortranOrder: false,
    shape: Object.freeze([n, d]),
    layer: null,
    notes: [],
    blocks(opts?: BlockOptions): AsyncIterable<RowBlock> {
      if (closed) throw new Error('<matrix>: blocks() called after close()');
      const { blockRows, start, end } = resolveBlockOptions(opts, n, Math.max(1, Math.floor(DEFAULT_BLOCK_BYTES / (d * 8))));
      return (async function* () {
        for (let r0 = start; r0 < end; r0 += blockRows) {
          const r1 = Math.min(end, r0 + blockRows);
          const data = new Float64Array((r1 - r0) * d);
          for (let i = r0; i < r1; i++) data.set(m.getRow(i), (i - r0) * d);
          yield { start: r0, rows: r1 - r0, data };
        }
      })();
    },
    async close() {
      closed = true;
    },
  };
}

/** One batch as row-major float64 values and its size. */
function batchRows(b: RowBatch, k: number): { data: ArrayLike<number>; rows: number; dims: number } {
  if (isRowArray(b)) {
    const d = b[0].length;
    const data = new Float64Array(b.length * d);
    b.forEach((row, i) => {
      if (row.length !== d) throw new NpyError(`<stream>: batch ${k}, row ${i} has ${row.length} values, the batch's first row ${d}: give rows of one width`);
      data.set(row, i * d);
    });
    return { data, rows: b.length, dims: d };
  }
  if (isTypedMatrix(b)) {
    const s = typedSource(b);
    return { data: b.data, rows: s.rows, dims: s.dims };
  }
  if (isMatrixLike(b)) {
    const data = new Float64Array(b.rows * b.columns);
    for (let i = 0; i < b.rows; i++) data.set(b.getRow(i), i * b.columns);
    return { data, rows: b.rows, dims: b.columns };
  }
  if (Array.isArray(b) && (b as unknown[]).length === 0) return { data: [], rows: 0, dims: -1 };
  throw new NpyError(`<stream>: batch ${k} is ${describe(b)}: give each batch as number[][], { data: Float32Array, rows, dims } or an ml-matrix Matrix`);
}

/**
 * Reads an async iterable of row batches once into a temporary float64 file (rows are read
 * several times by an analysis; the iterable may be read only once) and opens it; closing the
 * source removes the file.
 */
async function spooledSource(batches: AsyncIterable<RowBatch>): Promise<EmbeddingSource> {
  const path = join(tmpdir(), `isotropy-stream-${process.pid}-${randomBytes(6).toString('hex')}.f8`);
  const fh = await open(path, 'wx', 0o600);
  let rows = 0;
  let dims = -1;
  try {
    let k = 0;
    for await (const batch of batches) {
      const b = batchRows(batch, k++);
      if (b.rows === 0) continue;
      if (dims === -1) dims = b.dims;
      else if (b.dims !== dims) throw new NpyError(`<stream>: batch ${k - 1} has rows of ${b.dims} values, the first batch ${dims}: give rows of one width`);
      const f8 = b.data instanceof Float64Array ? b.data.subarray(0, b.rows * dims) : Float64Array.from({ length: b.rows * dims }, (_, i) => b.data[i]);
      await fh.write(new Uint8Array(f8.buffer, f8.byteOffset, f8.byteLength));
      rows += b.rows;
    }
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(path, { force: true });
    throw err;
  }
  await fh.close();
  if (rows === 0) {
    await rm(path, { force: true });
    throw new NpyError('<stream>: no rows to analyze: the iterable gave no rows');
  }
  let src: EmbeddingSource;
  try {
    src = await rawArraySource(await openFileBytes(path), { descr: '<f8', shape: [rows, dims], fortranOrder: false, dataOffset: 0 });
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
  return {
    path: '<stream>',
    rows,
    dims,
    dtype: '<f8',
    fortranOrder: false,
    shape: Object.freeze([rows, dims]),
    layer: null,
    notes: [],
    blocks: (o) => src.blocks(o),
    async close() {
      await src.close();
      await rm(path, { force: true });
    },
  };
}
