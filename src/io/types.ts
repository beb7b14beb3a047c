import type { RemoteIdentity, RemoteOptions } from './http-source.js';

/** One block of consecutive rows from an {@link EmbeddingSource}. */
export interface RowBlock {
  /** Index of the first row of the block in the whole source (0-based). */
  start: number;
  /** Number of rows in the block (>= 1). */
  rows: number;
  /**
   * `rows x dims` values, row-major, always float64. Freshly allocated for every block, so the
   * caller may keep or modify it.
   */
  data: Float64Array;
}

/**
 * A block from {@link EmbeddingSource.rawBlocks}: as {@link RowBlock}, but values stored as float32
 * come as a Float32Array (every float32 is a float64 exactly), and `data` is reused from block
 * to block: it is valid until the next block is asked for.
 */
export interface RawRowBlock {
  start: number;
  rows: number;
  data: Float64Array | Float32Array;
}

/** Options for {@link EmbeddingSource.blocks}. */
export interface BlockOptions {
  /**
   * Rows per block (positive integer). Default: enough rows for about 16 MiB of raw file data
   * per block, at least 1. The last block may be shorter.
   */
  blockRows?: number;
  /** First row to read (0-based, inclusive). Default 0. */
  start?: number;
  /** Row to stop before (exclusive). Default `rows`. */
  end?: number;
}

/** An (n, d) embedding matrix that can be read in row blocks, any number of times. */
export interface EmbeddingSource {
  /** The path as given by the user; `'<memory>'` for in-memory sources. */
  readonly path: string;
  /** Number of embeddings n. */
  readonly rows: number;
  /** Dimensions per embedding d. */
  readonly dims: number;
  /** The header descr exactly, e.g. `'<f4'`, `'>f8'`, `'<f2'`, `'<i2'`, `'|u1'`. */
  readonly dtype: string;
  readonly fortranOrder: boolean;
  /** Full header shape, e.g. `[n, d]` or `[n, L, d]`. */
  readonly shape: readonly number[];
  /** The chosen layer index (0-based, non-negative) for 3-D input, else null. */
  readonly layer: number | null;
  /** Human-readable notes about the conversion, e.g. `'integer dtype <i2 converted to float64'`. */
  readonly notes: string[];
  /**
   * Reads rows `[start, end)` in blocks, in order. May be called many times (several passes)
   * and concurrently; each iteration holds its own file handle and closes it when the loop
   * ends, including via `break` or an exception in the loop body.
   *
   * Throws a RangeError right away for a non-positive or non-integer `blockRows`, or a range
   * outside `[0, rows]`; `start === end` yields nothing.
   */
  blocks(opts?: BlockOptions): AsyncIterable<RowBlock>;
  /**
   * Optional, for readers that can skip decoding (.npy): the blocks of {@link blocks}, with
   * float32 values left as stored (a Float32Array, read straight from the file) and the arrays
   * reused (see {@link RawRowBlock}). Callers whose kernels widen float32 themselves save the
   * decoding pass, a float64 copy of every block and the garbage it leaves.
   */
  rawBlocks?(opts?: BlockOptions): AsyncIterable<RawRowBlock>;
  /** Releases the source; later `blocks()` calls throw. Safe to call more than once. */
  close(): Promise<void>;
  /** The input's format (`'npy'`, `'npz'`, `'parquet'`, ...) when it came from a file. */
  readonly format?: string;
  /**
   * One label per row, in row order, for formats that carry them (the words of a GloVe or
   * word2vec file). Absent for formats without labels. Reads the file again: call it once.
   */
  labels?(): Promise<string[]>;
  /**
   * The files the rows come from, in row order, when that is not simply `path`: the shards of a
   * dataset read as one (a directory, a glob, a list), or a remote file. Absent for one local file.
   */
  readonly files?: readonly SourceFile[];
  /**
   * Set when several layers of an (n, L, d) array are read together (the `layers` option): each
   * row holds these layers (0-based indices into the file's layer axis) side by side, layer after
   * layer, so `dims` is `layers.length * d`. `layer` is then null.
   */
  readonly layers?: readonly number[];
}

/** One file behind an {@link EmbeddingSource}, for provenance (see `EmbeddingSource.files`). */
export interface SourceFile {
  /** the file as named (a path, a URL, an `hf://` path), after a directory or glob was expanded */
  path: string;
  /** rows it holds */
  rows: number;
  /** its local path, when it is a local file (its sha256 can then be computed), else null */
  localPath: string | null;
  /** for a remote file: what reading it has shown so far (size, ETag, sha256 once every byte was read, bytes fetched) */
  remote?: () => RemoteIdentity;
}

/** Options for `openNpy` / `readEmbeddings`. */
export interface OpenNpyOptions {
  /**
   * Which layer of an (n, L, d) file to use: 0-based, negative counts from the end. Default -1
   * (the last layer). Passing it for a 2-D file is an error (the file has no layer axis).
   */
  layer?: number;
  /**
   * Several layers of an (n, L, d) file read together (one read of the file): `'all'`, or
   * indices (negative from the end, each once). The source's rows then hold these layers side by
   * side (see `EmbeddingSource.layers`). Not with `layer`; an error for a 2-D file.
   */
  layers?: readonly number[] | 'all';
}

/**
 * Options of `openEmbeddings` / `openFormat`: which array of a container to read, and how.
 * Each option applies to the formats named; giving one a format cannot use is an error, so that a
 * typo never silently reads something else.
 */
export interface OpenOptions extends OpenNpyOptions {
  /** .npz member, safetensors tensor name or HDF5 dataset path (`/group/dataset`). Default: the only 2-D/3-D array. */
  key?: string;
  /** Parquet / Arrow column (dotted for a field of a struct). Default: the only column of vectors. */
  column?: string;
  /** JSONL field holding the vector, dotted for nested objects (`data.embedding`). Default `embedding`. */
  field?: string;
  /**
   * Rows whose vector is null (Parquet, Arrow) are read as NaN rows, so that `dropNonfinite`
   * drops and counts them, instead of failing. Default false.
   */
  dropNonfinite?: boolean;
  /**
   * Skip detection: read as this format. One of the names in `FORMATS` (`npy`, `npz`,
   * `safetensors`, `parquet`, `arrow`, `hdf5`, `glove`, `word2vec`, `csv`, `tsv`, `jsonl`).
   */
  format?: string;
  /** branch, tag or commit of `hf://` inputs; default `main` (an `@revision` in the name wins) */
  revision?: string;
  /** how remote inputs (`https://`, `hf://`) are read: timeouts, retries, token, hub endpoint */
  remote?: RemoteOptions & {
    /** hub base URL for `hf://`; default `HF_ENDPOINT`, else https://huggingface.co */
    endpoint?: string;
  };
}

/** Bytes of raw data the default block size aims for. */
export const DEFAULT_BLOCK_BYTES = 16 * 1024 * 1024;

/**
 * Validates `blocks()` options against a source of `rows` rows and fills in the defaults.
 * @param defaultBlockRows - used when `opts.blockRows` is undefined.
 * @internal
 */
export function resolveBlockOptions(
  opts: BlockOptions | undefined,
  rows: number,
  defaultBlockRows: number,
): { blockRows: number; start: number; end: number } {
  const blockRows = opts?.blockRows ?? defaultBlockRows;
  const start = opts?.start ?? 0;
  const end = opts?.end ?? rows;
  if (!Number.isSafeInteger(blockRows) || blockRows < 1) {
    throw new RangeError(`blocks(): blockRows must be a positive integer, got ${blockRows}`);
  }
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > rows || start > end) {
    throw new RangeError(`blocks(): need integers 0 <= start <= end <= ${rows}, got start=${start}, end=${end}`);
  }
  return { blockRows, start, end };
}
