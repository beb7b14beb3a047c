import { open, stat, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ByteSource } from './byte-source.js';
import { type Dtype, decodeInto, parseDtype } from './dtype.js';
import { NpyError, describeError, errorCode, npyFail } from './errors.js';
import { parseNpyHeader, readPreamble, shapeInMessage } from './npy-header.js';
import {
  DEFAULT_BLOCK_BYTES,
  resolveBlockOptions,
  type BlockOptions,
  type EmbeddingSource,
  type OpenNpyOptions,
  type RawRowBlock,
  type RowBlock,
} from './types.js';

export type { BlockOptions, EmbeddingSource, OpenNpyOptions, RowBlock } from './types.js';

/**
 * Read-strategy thresholds. Mutable only so tests can shrink them to reach the large-file code
 * paths with tiny files; not part of the public API.
 * @internal
 */
export const readerTuning = {
  /** Largest strided span read in one go for C-order (n, L, d) files; wider rows are read one by one. */
  maxSpanBytes: 64 * 1024 * 1024,
  /** Target size of one multi-column read for Fortran-order files. */
  panelBytes: 16 * 1024 * 1024,
  /** Fortran columns are read together (gap included) when the gap between them is at most this or one segment. */
  smallGapBytes: 64 * 1024,
};
/** Fortran-order columns decoded and transposed together (keeps the transpose in cache). */
const FORTRAN_GROUP = 64;
/** FileHandle.read takes at most 2 GiB - 1 per call; stay well below. */
const MAX_READ_CHUNK = 1024 * 1024 * 1024;
/** First read when opening: enough for any ordinary header in one syscall. */
const PREFIX_BYTES = 4096;
/** numpy itself refuses headers over 10 kB by default; anything near this is not an embedding file. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/**
 * Opens a .npy file of embeddings for streamed reading, after validating everything that can
 * be checked without reading the data: magic, version, header, dtype, shape, layer, and that the
 * file size matches the header exactly.
 *
 * Accepts 2-D (n, d) and 3-D (n, L, d) arrays of f2/f4/f8 or integers (converted to float64,
 * with a note), in C or Fortran order, format versions 1.0 to 3.0. For 3-D files one layer is
 * selected and the source looks like an (n, d) matrix.
 *
 * Only the header is read here and no file handle stays open: each `blocks()` iteration opens
 * its own, so `close()` has nothing to release unless an iteration is still running. (This is
 * the local fast path; {@link openNpyBytes} reads the same format through any ByteSource.)
 *
 * @param path - the file, as given by the user (kept verbatim in messages and `source.path`).
 * @param opts.layer - for (n, L, d) files: layer index, negative from the end; default -1 (last).
 *   Must be omitted for 2-D files.
 * @throws NpyError for every problem with the file (message starts with `${path}: `).
 */
export async function openNpy(path: string, opts: OpenNpyOptions = {}): Promise<EmbeddingSource> {
  const size = await statRegularFile(path);
  const fh = await openHandle(path);
  let headerBytes: Uint8Array;
  try {
    headerBytes = await readNpyHeaderBytes(path, size, async (buf, position) => readFully(fh, path, buf, 0, buf.length, position));
  } finally {
    await fh.close();
  }
  const header = parseNpyHeader(headerBytes, path);
  return arraySource(localAccess(path, size), path, header, size, opts);
}

/**
 * Opens a .npy file read through a {@link ByteSource} (a remote file, a member stored in an
 * .npz, ...): the same validation and result as {@link openNpy}. The source owns `bytes` and
 * closes it on `close()`; so does a failed open.
 *
 * @throws NpyError for every problem with the file (message starts with `${bytes.name}: `).
 */
export async function openNpyBytes(bytes: ByteSource, opts: OpenNpyOptions = {}): Promise<EmbeddingSource> {
  try {
    const path = bytes.name;
    if (bytes.size === 0) throw npyFail(path, `empty file (0 bytes): the array was never written; re-save it with np.save`);
    const headerBytes = await readNpyHeaderBytes(path, bytes.size, async (buf, position) => buf.set(await bytes.read(position, buf.length)));
    const header = parseNpyHeader(headerBytes, path);
    return arraySource(byteSourceAccess(bytes), path, header, bytes.size, opts);
  } catch (err) {
    await bytes.close().catch(() => undefined);
    throw err;
  }
}

/**
 * An (n, d) or (n, L, d) array of a numpy dtype at `layout.dataOffset` of `bytes`, as an
 * EmbeddingSource: the .npy reader's validation (shape, layer, exact size) and its block
 * reader, for containers that hold raw arrays described elsewhere (safetensors, .npz members).
 * The source owns `bytes`. `dataEnd` (default `bytes.size`) is where the array's bytes must end.
 *
 * @throws NpyError for a bad shape, layer or size; `bytes` is closed then.
 */
export async function rawArraySource(
  bytes: ByteSource,
  layout: { descr: string; shape: number[]; fortranOrder: boolean; dataOffset: number; dataEnd?: number; dtype?: Dtype },
  opts: OpenNpyOptions = {},
): Promise<EmbeddingSource> {
  try {
    return arraySource(byteSourceAccess(bytes), bytes.name, layout, layout.dataEnd ?? bytes.size, opts, layout.dtype);
  } catch (err) {
    await bytes.close().catch(() => undefined);
    throw err;
  }
}

/** Reads the preamble and header of a .npy through `read`, with the size checks. */
async function readNpyHeaderBytes(
  path: string,
  size: number,
  read: (buf: Uint8Array, position: number) => Promise<void>,
): Promise<Uint8Array> {
  let prefix = new Uint8Array(Math.min(size, PREFIX_BYTES));
  await read(prefix, 0);
  const pre = readPreamble(prefix, path);
  if (pre.dataOffset > size) {
    throw npyFail(
      path,
      `truncated header: the header length field says ${pre.dataOffset - pre.preamble} bytes, past the end of the file (${size} bytes); the file is cut off or not a .npy file`,
    );
  }
  if (pre.dataOffset > MAX_HEADER_BYTES) {
    throw npyFail(path, `.npy header of ${pre.dataOffset} bytes is implausibly large for an embedding file: re-save it with np.save`);
  }
  if (pre.dataOffset > prefix.length) {
    prefix = new Uint8Array(pre.dataOffset);
    await read(prefix, 0);
  }
  return prefix;
}

/** Validates shape, layer and size of an array described by a header; builds the source. */
function arraySource(
  access: RangeAccess,
  path: string,
  header: { descr: string; shape: number[]; fortranOrder: boolean; dataOffset: number },
  size: number,
  opts: OpenNpyOptions,
  dtype?: Dtype,
): EmbeddingSource {
  const dt = dtype ?? parseDtype(header.descr, path);
  const shape = header.shape;
  const shown = shapeInMessage(shape);

  if (shape.length !== 2 && shape.length !== 3) {
    const fix =
      shape.length === 0
        ? 'this is a single number, not embeddings; save the (n, d) embedding matrix'
        : shape.length === 1
          ? 'reshape with arr.reshape(1, -1) or save the stacked embeddings'
          : 'merge or select axes first, e.g. arr.reshape(-1, arr.shape[-1])';
    throw npyFail(path, `expected a 2-D (n, d) or 3-D (n, layers, d) array; got shape ${shown}: ${fix}`);
  }
  if (shape.includes(0)) {
    const what = shape[0] === 0 ? 'zero rows' : shape.length === 3 && shape[1] === 0 ? 'zero layers' : 'zero dimensions per row';
    throw npyFail(path, `no rows to analyze: shape ${shown} has ${what}; save a non-empty (n, d) array`);
  }

  const n = shape[0];
  const L = shape.length === 3 ? shape[1] : 1;
  const d = shape[shape.length - 1];
  const notes: string[] = [];
  if (dt.note !== null) notes.push(dt.note);
  const many = selectLayers(path, shape, opts);
  const layer = many ? null : selectLayer(path, shape, opts.layer);

  const items = n * L * d;
  const expected = items * dt.itemsize;
  if (!Number.isSafeInteger(expected)) {
    throw npyFail(path, `shape ${shown} is too large to be a real file`);
  }
  const held = size - header.dataOffset;
  if (held < expected) {
    throw npyFail(
      path,
      `truncated: header says ${shown} ${header.descr} = ${expected} bytes of data but the file holds ${held} bytes; the file was cut off while writing, re-save it`,
    );
  }
  if (held > expected) {
    throw npyFail(
      path,
      `has ${held - expected} bytes after the data: header says ${shown} ${header.descr} = ${expected} bytes of data but the file holds ${held} bytes; the file is damaged or something was appended to it, re-save it`,
    );
  }

  return new NpySource(path, access, {
    n,
    L,
    d,
    layers: many ?? [layer ?? 0],
    fortran: header.fortranOrder,
    dt,
    dataOffset: header.dataOffset,
  }, shape, layer, notes, many);
}

/**
 * The layers a `layers` option picks in an array of `shape` (0-based, in the order given), or
 * null when the option is absent; a user error for a 2-D array, an index out of range, a repeat,
 * or `layer` given as well. Shared by every reader of 3-D arrays.
 */
export function selectLayers(path: string, shape: readonly number[], opts: { layer?: number; layers?: readonly number[] | 'all' }): number[] | null {
  const want = opts.layers;
  if (want === undefined) return null;
  const shown = shapeInMessage(shape);
  if (opts.layer !== undefined) throw npyFail(path, `give either one layer (--layer) or several (--layers), not both`);
  if (shape.length !== 3) throw npyFail(path, `layers were asked for but the file has no layer axis: shape ${shown} is 2-D (n, d); drop the layers option (--layers)`);
  const L = shape[1];
  if (want === 'all') return Array.from({ length: L }, (_, i) => i);
  if (want.length === 0) throw npyFail(path, `the layers option lists no layer: give indices such as 0,6,-1, or all`);
  const out: number[] = [];
  for (const w of want) {
    if (!Number.isInteger(w)) throw npyFail(path, `layers must be integers, got ${w}`);
    const idx = w < 0 ? L + w : w;
    if (idx < 0 || idx >= L) throw npyFail(path, `layer ${w} is out of range: shape ${shown} has ${L} layer${L === 1 ? '' : 's'}; use 0..${L - 1} or -${L}..-1`);
    if (out.includes(idx)) throw npyFail(path, `layer ${idx} is asked for twice (--layers): list each layer once`);
    out.push(idx);
  }
  return out;
}

/**
 * The layer index a `layer` option picks in an array of `shape` (null for 2-D), or a user error:
 * out of range, not an integer, or given for a 2-D array. Shared by every reader of 3-D arrays.
 */
export function selectLayer(path: string, shape: readonly number[], want: number | undefined): number | null {
  const shown = shapeInMessage(shape);
  if (want !== undefined && !Number.isInteger(want)) {
    throw npyFail(path, `\`layer\` must be an integer, got ${want}`);
  }
  if (shape.length === 3) {
    const L = shape[1];
    const w = want ?? -1;
    const idx = w < 0 ? L + w : w;
    if (idx < 0 || idx >= L) {
      throw npyFail(path, `layer ${w} is out of range: shape ${shown} has ${L} layer${L === 1 ? '' : 's'}; use 0..${L - 1} or -${L}..-1`);
    }
    // No note: the chosen layer is reported through `source.layer`; notes are for conversions.
    return idx;
  }
  if (want !== undefined) {
    throw npyFail(path, `a layer was given (${want}) but the file has no layer axis: shape ${shown} is 2-D (n, d); drop the layer option`);
  }
  return null;
}

/**
 * Reads a whole .npy embedding file into memory as one row-major float64 matrix (via
 * {@link openNpy}, so the same validation and options apply). Needs `rows * dims * 8` bytes;
 * prefer `openNpy(...).blocks()` for files that may not fit.
 *
 * @throws NpyError for every problem with the file, including a matrix too large to allocate.
 */
export async function readEmbeddings(
  path: string,
  opts: OpenNpyOptions = {},
): Promise<{
  data: Float64Array;
  rows: number;
  dims: number;
  dtype: string;
  fortranOrder: boolean;
  shape: number[];
  layer: number | null;
  notes: string[];
}> {
  const src = await openNpy(path, opts);
  try {
    let data: Float64Array;
    try {
      data = new Float64Array(src.rows * src.dims);
    } catch (err) {
      if (err instanceof RangeError) {
        const gib = (src.rows * src.dims * 8) / 2 ** 30;
        throw npyFail(path, `too large to load at once (${src.rows} x ${src.dims} float64 = ${gib.toFixed(1)} GiB): use a streaming command`);
      }
      throw err;
    }
    // Default-sized blocks copied into place: peak memory is the result plus one block,
    // instead of the result plus a full-size raw buffer.
    for await (const block of src.blocks()) data.set(block.data, block.start * src.dims);
    return {
      data,
      rows: src.rows,
      dims: src.dims,
      dtype: src.dtype,
      fortranOrder: src.fortranOrder,
      shape: src.shape.slice(),
      layer: src.layer,
      notes: src.notes.slice(),
    };
  } finally {
    await src.close();
  }
}

interface Layout {
  n: number;
  L: number;
  d: number;
  /** Selected layers, read side by side (`[0]` for 2-D files). */
  layers: number[];
  fortran: boolean;
  dt: Dtype;
  dataOffset: number;
}

/** A grow-only byte buffer reused across the blocks of one iteration (blocks themselves are fresh). */
class Scratch {
  private buf = new Uint8Array(0);
  get(bytes: number): Uint8Array {
    // A fresh ArrayBuffer starts at offset 0, so typed-array views on it are aligned.
    if (this.buf.length < bytes) this.buf = new Uint8Array(bytes);
    return this.buf;
  }
}

class NpySource implements EmbeddingSource {
  readonly rows: number;
  readonly dims: number;
  readonly dtype: string;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  readonly layers?: readonly number[];
  private closed = false;
  private readonly readers = new Set<RangeReader>();

  constructor(
    readonly path: string,
    private readonly access: RangeAccess,
    private readonly layout: Layout,
    shape: number[],
    readonly layer: number | null,
    readonly notes: string[],
    layers: number[] | null,
  ) {
    this.rows = layout.n;
    this.dims = layout.d * layout.layers.length;
    if (layers) this.layers = Object.freeze(layers.slice());
    this.dtype = layout.dt.descr;
    this.fortranOrder = layout.fortran;
    this.shape = Object.freeze(shape.slice());
  }

  blocks(opts?: BlockOptions): AsyncIterable<RowBlock> {
    if (this.closed) throw new Error(`${this.path}: blocks() called after close()`);
    const rowBytes = this.dims * this.layout.dt.itemsize;
    const defaultRows = Math.max(1, Math.floor(DEFAULT_BLOCK_BYTES / rowBytes));
    const { blockRows, start, end } = resolveBlockOptions(opts, this.rows, defaultRows);
    return this.iterate(blockRows, start, end);
  }

  rawBlocks(opts?: BlockOptions): AsyncIterable<RawRowBlock> {
    const { L, fortran, layers, dt } = this.layout;
    if (!(dt.kind === 'f' && dt.itemsize === 4 && dt.native && !fortran && L === 1 && layers.length === 1)) return this.blocks(opts);
    if (this.closed) throw new Error(`${this.path}: blocks() called after close()`);
    const defaultRows = Math.max(1, Math.floor(DEFAULT_BLOCK_BYTES / (this.dims * 4)));
    const { blockRows, start, end } = resolveBlockOptions(opts, this.rows, defaultRows);
    return this.iterate(blockRows, start, end, true);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const open = [...this.readers];
    this.readers.clear();
    await Promise.all(open.map((h) => h.close().catch(() => undefined)));
    await this.access.close().catch(() => undefined);
  }

  /**
   * The blocks; `raw` (C-order native float32 only): the file's bytes read straight into two
   * Float32Arrays used in turn, one yielded while the next is read into the other.
   */
  private iterate(blockRows: number, start: number, end: number, raw: true): AsyncGenerator<RawRowBlock>;
  private iterate(blockRows: number, start: number, end: number): AsyncGenerator<RowBlock>;
  private async *iterate(blockRows: number, start: number, end: number, raw = false): AsyncGenerator<RawRowBlock> {
    if (start === end) return;
    const fh = await this.access.open();
    this.readers.add(fh);
    try {
      const scratch = new Scratch();
      const size = raw ? Math.min(blockRows, end - start) * this.dims : 0;
      const turns = [new Float32Array(size), new Float32Array(size)];
      let turn = 0;
      const read = (r0: number): Promise<RawRowBlock> => {
        const r1 = Math.min(end, r0 + blockRows);
        const data = raw ? this.readRaw(fh, r0, r1, turns[turn++ % 2]) : this.readBlock(fh, r0, r1, scratch);
        return data.then((data) => ({ start: r0, rows: r1 - r0, data }));
      };
      // Read-ahead: the next block is read (and decoded) while the caller works on this one. One
      // read at a time, so one scratch buffer serves them all, and memory holds one extra block.
      let next = read(start);
      for (let r0 = start; r0 < end; r0 += blockRows) {
        if (this.closed) throw new Error(`${this.path}: source closed while reading`);
        const block = await next;
        if (r0 + blockRows < end) {
          next = read(r0 + blockRows);
          // a caller that stops early never awaits it: keep its failure from going unhandled
          next.catch(() => undefined);
        }
        yield block;
      }
    } finally {
      if (this.readers.delete(fh)) await fh.close();
    }
  }

  /** Rows `[r0, r1)` of a C-order native float32 (n, d) file, as stored, into the start of `buf`. */
  private async readRaw(fh: RangeReader, r0: number, r1: number, buf: Float32Array): Promise<Float32Array> {
    const { d, dataOffset } = this.layout;
    const count = (r1 - r0) * d;
    await fh.readInto(new Uint8Array(buf.buffer, 0, count * 4), 0, count * 4, dataOffset + r0 * d * 4);
    return buf.subarray(0, count);
  }

  private async readBlock(fh: RangeReader, r0: number, r1: number, scratch: Scratch): Promise<Float64Array> {
    const { L, d, fortran, layers } = this.layout;
    const out = new Float64Array((r1 - r0) * d * layers.length);
    if (fortran) {
      for (let j = 0; j < layers.length; j++) await this.readFortran(fh, r0, r1, out, scratch, layers[j], j * d);
    } else if (L === 1) await this.readContiguous(fh, r0, r1, out, scratch);
    else await this.readStridedRows(fh, r0, r1, out, scratch);
    return out;
  }

  /** C-order (n, d): the block is one contiguous byte range. */
  private async readContiguous(fh: RangeReader, r0: number, r1: number, out: Float64Array, scratch: Scratch): Promise<void> {
    const { d, dt, dataOffset } = this.layout;
    const count = (r1 - r0) * d;
    const nbytes = count * dt.itemsize;
    const pos = dataOffset + r0 * d * dt.itemsize;
    if (dt.kind === 'f' && dt.itemsize === 8 && dt.native) {
      // Native f8 needs no conversion: read straight into the result.
      await fh.readInto(new Uint8Array(out.buffer), 0, nbytes, pos);
      return;
    }
    const buf = scratch.get(nbytes);
    await fh.readInto(buf, 0, nbytes, pos);
    decodeInto(dt, buf, 0, count, out, 0, 1);
  }

  /**
   * C-order (n, L, d): row i of layer l starts at item (i * L + l) * d. Reading the whole span of
   * a group of rows (from the first chosen layer to the last, other layers between included)
   * costs bandwidth but saves one syscall per row; rows so wide that a single span exceeds
   * readerTuning.maxSpanBytes are read one by one. Several layers land side by side in `out`.
   */
  private async readStridedRows(fh: RangeReader, r0: number, r1: number, out: Float64Array, scratch: Scratch): Promise<void> {
    const { L, d, layers, dt, dataOffset } = this.layout;
    const size = dt.itemsize;
    const rowSpan = L * d * size;
    const sliceBytes = d * size;
    const lo = Math.min(...layers);
    const span = (Math.max(...layers) - lo + 1) * sliceBytes;
    const w = layers.length * d;
    const decodeRow = (buf: Uint8Array, at: number, row: number) => {
      for (let j = 0; j < layers.length; j++) decodeInto(dt, buf, at + (layers[j] - lo) * sliceBytes, d, out, row * w + j * d, 1);
    };
    if (rowSpan > readerTuning.maxSpanBytes) {
      const buf = scratch.get(span);
      for (let i = r0; i < r1; i++) {
        await fh.readInto(buf, 0, span, dataOffset + (i * L + lo) * sliceBytes);
        decodeRow(buf, 0, i - r0);
      }
      return;
    }
    const group = Math.max(1, Math.floor(readerTuning.maxSpanBytes / rowSpan));
    for (let g = r0; g < r1; g += group) {
      const k = Math.min(group, r1 - g);
      // From the group's first wanted slice to its last one; nothing past the last slice.
      const nbytes = (k - 1) * rowSpan + span;
      const buf = scratch.get(nbytes);
      await fh.readInto(buf, 0, nbytes, dataOffset + (g * L + lo) * sliceBytes);
      for (let q = 0; q < k; q++) decodeRow(buf, q * rowSpan, g - r0 + q);
    }
  }

  /**
   * Fortran order: element (i, l, j) sits at item i + n * (l + L * j), so for the chosen layer
   * column j of the block is a contiguous run of (r1 - r0) items at n * (layer + L * j) + r0.
   * Neighbouring columns are read with one read when the gap between them is small (e.g. a
   * block covering all rows, where the whole layer is one span), else one read per column.
   * Columns are handled in groups of FORTRAN_GROUP: decoded column-major into a small buffer,
   * then transposed row by row, because scattering each column straight into the row-major
   * block (stride d) misses the cache on every element and is several times slower.
   */
  private async readFortran(fh: RangeReader, r0: number, r1: number, out: Float64Array, scratch: Scratch, layer: number, outOffset: number): Promise<void> {
    const { n, L, d, dt, dataOffset } = this.layout;
    const w = d * this.layout.layers.length;
    const size = dt.itemsize;
    const b = r1 - r0;
    const colStrideBytes = n * L * size;
    const segBytes = b * size;
    const base = dataOffset + (n * layer + r0) * size;
    const gapBytes = colStrideBytes - segBytes;
    const group = Math.min(d, FORTRAN_GROUP);
    const cols = new Float64Array(group * b);
    let perPanel = 1;
    if (gapBytes <= Math.max(segBytes, readerTuning.smallGapBytes)) {
      perPanel = Math.max(1, Math.min(group, Math.floor((readerTuning.panelBytes - segBytes) / colStrideBytes) + 1));
    }
    for (let j0 = 0; j0 < d; j0 += group) {
      const g = Math.min(group, d - j0);
      if (perPanel > 1) {
        for (let q0 = 0; q0 < g; q0 += perPanel) {
          const k = Math.min(perPanel, g - q0);
          const nbytes = (k - 1) * colStrideBytes + segBytes;
          const buf = scratch.get(nbytes);
          await fh.readInto(buf, 0, nbytes, base + (j0 + q0) * colStrideBytes);
          for (let q = 0; q < k; q++) decodeInto(dt, buf, q * colStrideBytes, b, cols, (q0 + q) * b, 1);
        }
      } else {
        // Separate column reads are independent: issue them together so the thread pool
        // overlaps them instead of paying one round trip each.
        const buf = scratch.get(g * segBytes);
        const reads: Promise<void>[] = [];
        for (let q = 0; q < g; q++) {
          reads.push(fh.readInto(buf, q * segBytes, segBytes, base + (j0 + q) * colStrideBytes));
        }
        await Promise.all(reads);
        for (let q = 0; q < g; q++) decodeInto(dt, buf, q * segBytes, b, cols, q * b, 1);
      }
      for (let i = 0; i < b; i++) {
        const o = i * w + outOffset + j0;
        for (let q = 0; q < g; q++) out[o + q] = cols[q * b + i];
      }
    }
  }
}

/** Positional reads into a caller's buffer, for one `blocks()` iteration. */
interface RangeReader {
  /** Fills `buf[offset, offset + length)` with the bytes at `position`, or throws an NpyError. */
  readInto(buf: Uint8Array, offset: number, length: number, position: number): Promise<void>;
  close(): Promise<void>;
}

/** Where an NpySource's bytes come from: a local file (own handle per iteration) or a ByteSource. */
interface RangeAccess {
  open(): Promise<RangeReader>;
  close(): Promise<void>;
}

/**
 * The local fast path: one handle per iteration, reads straight into the block (no copy), and a
 * check that the file still has the size it had when it was opened.
 */
function localAccess(path: string, size: number): RangeAccess {
  return {
    async open() {
      const fh = await openHandle(path);
      try {
        const now = (await fh.stat()).size;
        if (now !== size) {
          throw npyFail(path, `the file changed since it was opened (${size} bytes then, ${now} now): rerun on a finished file`);
        }
      } catch (err) {
        await fh.close().catch(() => undefined);
        throw err;
      }
      return {
        readInto: (buf, offset, length, position) => readFully(fh, path, buf, offset, length, position),
        close: () => fh.close(),
      };
    },
    async close() {},
  };
}

/**
 * Reads through a ByteSource, one read at a time (a ByteSource may hand out a shared buffer that
 * the next read overwrites, so each result is copied into place before the next read starts).
 */
function byteSourceAccess(bytes: ByteSource): RangeAccess {
  return {
    async open() {
      let chain: Promise<unknown> = Promise.resolve();
      return {
        readInto(buf, offset, length, position) {
          const next = chain.then(async () => {
            // ByteSource reads are bounded by the implementation; keep each one at most 1 GiB.
            for (let done = 0; done < length; ) {
              const k = Math.min(length - done, MAX_READ_CHUNK);
              buf.set(await bytes.read(position + done, k), offset + done);
              done += k;
            }
          });
          chain = next.catch(() => undefined);
          return next;
        },
        async close() {},
      };
    },
    close: () => bytes.close(),
  };
}

/** Stats `path` and returns its size, turning every way it can fail to be a readable file into an NpyError. */
async function statRegularFile(path: string): Promise<number> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw npyFail(path, `no such file: ${resolve(path)}`);
    if (code === 'EACCES' || code === 'EPERM') throw npyFail(path, `permission denied: cannot read it`);
    throw npyFail(path, `cannot read: ${describeError(err)}`);
  }
  if (st.isDirectory()) throw npyFail(path, `is a directory, not a .npy file: give the path of the .npy file inside it`);
  if (!st.isFile()) {
    // Pipes and devices cannot be read at offsets, which streaming several passes needs.
    throw npyFail(path, `is not a regular file (a pipe or device?): save the array to a .npy file first`);
  }
  if (st.size === 0) throw npyFail(path, `empty file (0 bytes): the array was never written; re-save it with np.save`);
  return st.size;
}

async function openHandle(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw npyFail(path, `no such file: ${resolve(path)}`);
    if (code === 'EACCES' || code === 'EPERM') throw npyFail(path, `permission denied: cannot read it`);
    if (code === 'EISDIR') throw npyFail(path, `is a directory, not a .npy file`);
    throw npyFail(path, `cannot open: ${describeError(err)}`);
  }
}

/**
 * Reads exactly `length` bytes at file offset `position` (a JS number, so offsets past 4 GiB
 * work), looping over short reads and over the per-call size limit.
 */
async function readFully(
  fh: FileHandle,
  path: string,
  buf: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<void> {
  while (length > 0) {
    const chunk = Math.min(length, MAX_READ_CHUNK);
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(buf, offset, chunk, position));
    } catch (err) {
      if (err instanceof NpyError) throw err;
      throw npyFail(path, `read failed at byte ${position}: ${describeError(err)}`);
    }
    if (bytesRead === 0) {
      throw npyFail(path, `the file ended early at byte ${position} while reading (was it overwritten?): rerun on a finished file`);
    }
    offset += bytesRead;
    length -= bytesRead;
    position += bytesRead;
  }
}
