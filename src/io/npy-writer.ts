import { unlink, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { openAtomicTemp, renameIntoPlace } from './atomic-file.js';
import { describeError, npyFail } from './errors.js';
import { NPY_MAGIC } from './npy-header.js';

/** Options for {@link NpyWriter.create} and {@link writeNpy}. */
export interface NpyWriteOptions {
  /** Element type on disk: `'f4'` (float32, the default: half the size, plenty for embeddings) or `'f8'`. */
  dtype?: 'f4' | 'f8';
  /**
   * Input paths that must never be overwritten. The target is refused when it resolves to the
   * same path, the same real path (symlinks followed) or the same inode (hard links) as one of them.
   */
  protect?: string[];
  /**
   * Shape of one row as stored, when a row is not a flat vector: `[L, d]` writes an
   * (rows, L, d) array from rows of L*d values. Its product must equal `dims`. Default `[dims]`.
   */
  rowShape?: number[];
  /**
   * `rows` is an upper bound: {@link NpyWriter.commit} writes the number of rows actually written
   * into the header (padded to the same length, so the data does not move). Default false: the
   * exact count must be written.
   */
  allowFewerRows?: boolean;
}

const HOST_LITTLE_ENDIAN = endianness() === 'LE';
/** Values converted and written per syscall: bounds the writer's extra memory. */
const WRITE_CHUNK_ITEMS = 1 << 20;

/**
 * Builds a version 1.0 .npy header for a C-order little-endian array of the given shape, padded with
 * spaces and a final newline so the data starts at a multiple of 64 bytes (numpy's own layout,
 * which keeps the data aligned for memory-mapping).
 */
export function buildNpyHeader(descr: '<f4' | '<f8', shape: readonly number[], length?: number): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = NPY_MAGIC.length + 2 + 2 + dict.length + 1;
  // `length`: the size of a header already written, for rewriting it in place with a smaller shape.
  const total = length ?? Math.ceil(unpadded / 64) * 64;
  if (total < unpadded) throw new RangeError(`npy header needs ${unpadded} bytes, more than ${total}`);
  const text = dict + ' '.repeat(total - unpadded) + '\n';
  const headerLen = total - 10;
  if (headerLen > 0xffff) throw new RangeError('npy header too long for format 1.0');
  const out = new Uint8Array(total);
  out.set(NPY_MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = headerLen & 0xff;
  out[9] = headerLen >> 8;
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

type WriterState = 'open' | 'committed' | 'aborted';

/**
 * Streams a 2-D C-order little-endian float array to a .npy file (format 1.0), atomically: the
 * data goes to a temp file `${base}.tmp-${pid}-${random}` next to the target and is renamed over
 * it only by {@link NpyWriter.commit}, so the target is either the old file or the complete new
 * one, never a partial write. Any failure in `write`/`commit` removes the temp file.
 *
 * A target that is a symlink is replaced by the new file (the link's destination is not touched).
 */
export class NpyWriter {
  private state: WriterState = 'open';
  private rowsWritten = 0;
  private position: number;

  private constructor(
    /** The target path as given. */
    readonly path: string,
    /** The temp file being written. */
    readonly tempPath: string,
    readonly rows: number,
    readonly dims: number,
    readonly dtype: 'f4' | 'f8',
    private handle: FileHandle | null,
    private readonly headerBytes: number,
    private readonly rowShape: readonly number[],
    private readonly allowFewerRows: boolean,
  ) {
    this.position = headerBytes;
  }

  /** Rows written so far. */
  get rowsDone(): number {
    return this.rowsWritten;
  }

  /**
   * Checks the target, creates the temp file and writes the header.
   *
   * @param path - the output .npy path; its folder must exist.
   * @param rows - rows that will be written (non-negative integer).
   * @param dims - values per row (non-negative integer).
   * @param opts.dtype - `'f4'` (default) or `'f8'`.
   * @param opts.protect - input files that must not be overwritten.
   * @throws NpyError, before anything is written, when the target is a protected input, is a
   *   directory, or its folder does not exist; RangeError for bad sizes.
   */
  static async create(path: string, rows: number, dims: number, opts: NpyWriteOptions = {}): Promise<NpyWriter> {
    if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(dims) || dims < 0) {
      throw new RangeError(`NpyWriter.create: rows and dims must be non-negative integers, got ${rows} x ${dims}`);
    }
    const dtype = opts.dtype ?? 'f4';
    if (dtype !== 'f4' && dtype !== 'f8') throw new RangeError(`NpyWriter.create: dtype must be 'f4' or 'f8', got ${String(dtype)}`);
    if (!Number.isSafeInteger(rows * dims * (dtype === 'f4' ? 4 : 8))) throw new RangeError('NpyWriter.create: array too large');

    const rowShape = opts.rowShape ?? [dims];
    if (rowShape.reduce((a, b) => a * b, 1) !== dims) {
      throw new RangeError(`NpyWriter.create: rowShape (${rowShape.join(', ')}) does not hold ${dims} values`);
    }
    const { tempPath, handle } = await openAtomicTemp(path, opts.protect ?? []);
    const header = buildNpyHeader(dtype === 'f4' ? '<f4' : '<f8', [rows, ...rowShape]);
    const writer = new NpyWriter(path, tempPath, rows, dims, dtype, handle, header.length, rowShape, opts.allowFewerRows ?? false);
    try {
      await writer.writeAll(header, 0);
    } catch (err) {
      await writer.abort();
      throw err;
    }
    return writer;
  }

  /**
   * Appends `rows` rows taken from the start of `data` (row-major, `rows * dims` values; extra
   * values are ignored). Converts to the file dtype in bounded chunks.
   * @throws RangeError (after aborting) when this would exceed the declared row count or `data`
   *   is too short; NpyError (after aborting) when the disk write fails.
   */
  async write(data: Float64Array | Float32Array, rows: number): Promise<void> {
    this.assertOpen('write');
    try {
      if (!Number.isSafeInteger(rows) || rows < 0) throw new RangeError(`NpyWriter.write: bad row count ${rows}`);
      if (this.rowsWritten + rows > this.rows) {
        throw new RangeError(
          `NpyWriter.write: ${this.path}: writing ${rows} more rows would make ${this.rowsWritten + rows}, but the header declares ${this.rows}`,
        );
      }
      const count = rows * this.dims;
      if (data.length < count) {
        throw new RangeError(`NpyWriter.write: ${rows} rows x ${this.dims} need ${count} values, got ${data.length}`);
      }
      const wantF4 = this.dtype === 'f4';
      for (let k = 0; k < count; k += WRITE_CHUNK_ITEMS) {
        const part = data.subarray(k, Math.min(count, k + WRITE_CHUNK_ITEMS));
        let typed: Float32Array | Float64Array;
        if (wantF4) typed = part instanceof Float32Array ? part : new Float32Array(part);
        else typed = part instanceof Float64Array ? part : new Float64Array(part);
        const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
        await this.writeAll(HOST_LITTLE_ENDIAN ? bytes : toLittleEndian(typed), this.position);
      }
      this.rowsWritten += rows;
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /**
   * Finishes the file: checks that exactly the declared rows were written, fsyncs, closes and
   * renames the temp file over the target.
   * @throws Error (after aborting, target untouched) on a row-count mismatch; NpyError when the
   *   disk operations fail.
   */
  async commit(): Promise<void> {
    this.assertOpen('commit');
    try {
      if (this.rowsWritten !== this.rows && !(this.allowFewerRows && this.rowsWritten < this.rows)) {
        throw new Error(`NpyWriter.commit: ${this.path}: ${this.rowsWritten} rows written but the header declares ${this.rows}`);
      }
      if (this.rowsWritten !== this.rows) {
        const descr = this.dtype === 'f4' ? '<f4' : '<f8';
        await this.writeAll(buildNpyHeader(descr, [this.rowsWritten, ...this.rowShape], this.headerBytes), 0);
      }
      const handle = this.handle!;
      try {
        await handle.sync();
        this.handle = null;
        await handle.close();
        await renameIntoPlace(this.tempPath, this.path);
      } catch (err) {
        throw npyFail(this.path, `could not finish writing: ${describeError(err)}`);
      }
      this.state = 'committed';
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /**
   * Discards the output: closes and deletes the temp file; the target is untouched. Never
   * throws; a no-op after `commit()` or a previous `abort()`.
   */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    const handle = this.handle;
    this.handle = null;
    if (handle !== null) await handle.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }

  private assertOpen(what: string): void {
    if (this.state !== 'open') throw new Error(`NpyWriter.${what}: ${this.path}: the writer was already ${this.state}`);
  }

  private async writeAll(bytes: Uint8Array, position: number): Promise<void> {
    const handle = this.handle!;
    let offset = 0;
    try {
      while (offset < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset, position + offset);
        offset += bytesWritten;
      }
    } catch (err) {
      throw npyFail(this.path, `could not write: ${describeError(err)}`);
    }
    this.position = position + bytes.length;
  }
}

/**
 * Writes a whole (rows, dims) row-major matrix as a .npy file, atomically (see {@link NpyWriter}).
 * @param data - at least `rows * dims` values.
 * @param opts.dtype - `'f4'` (default) or `'f8'`.
 * @param opts.protect - input files that must not be overwritten.
 */
export async function writeNpy(
  path: string,
  data: Float64Array | Float32Array,
  rows: number,
  dims: number,
  opts: NpyWriteOptions = {},
): Promise<void> {
  const writer = await NpyWriter.create(path, rows, dims, opts);
  try {
    await writer.write(data, rows);
    await writer.commit();
  } finally {
    await writer.abort();
  }
}

function toLittleEndian(typed: Float32Array | Float64Array): Uint8Array {
  const size = typed.BYTES_PER_ELEMENT;
  const out = new Uint8Array(typed.length * size);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < typed.length; i++) {
    if (size === 4) dv.setFloat32(i * 4, typed[i], true);
    else dv.setFloat64(i * 8, typed[i], true);
  }
  return out;
}
