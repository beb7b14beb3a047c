import {
  CompressionType, DataType, RecordBatchReader, compressionRegistry,
  type Data, type Field, type RecordBatch, type Schema,
} from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';
import lz4 from 'lz4js';
import type { ByteSource } from './byte-source.js';
import { describeError, npyFail, quote } from './errors.js';
import { pickVectorColumn } from './pick-key.js';
import type { FormatContext } from './open-format.js';
import { cursorSource, type RowCursor } from './row-source.js';
import type { EmbeddingSource, OpenOptions } from './types.js';

// Feather v2 from pyarrow is LZ4-frame compressed by default; apache-arrow decodes compressed
// buffers only through codecs registered here.
compressionRegistry.set(CompressionType.LZ4_FRAME, { decode: (data: Uint8Array) => lz4.decompress(data) });
compressionRegistry.set(CompressionType.ZSTD, { decode: (data: Uint8Array) => zstdDecompress(data) });

type Kind = 'fixed' | 'list' | 'blob';

interface Column {
  name: string;
  index: number;
  kind: Kind;
  dtype: string;
}

/** A FileHandle look-alike over a ByteSource, which apache-arrow reads at random (file format). */
function fileHandle(bytes: ByteSource) {
  return {
    fd: -1,
    stat: async () => ({ size: bytes.size }),
    async read(buffer: Uint8Array, offset: number, length: number, position: number) {
      const n = Math.min(length, bytes.size - position);
      if (n > 0) buffer.set(await bytes.read(position, n), offset);
      return { bytesRead: Math.max(0, n), buffer };
    },
    close: async () => undefined,
  };
}

/** The numpy descr of an Arrow numeric type, or null. */
function numericDescr(t: DataType): string | null {
  if (DataType.isFloat(t)) return ['<f2', '<f4', '<f8'][t.precision] ?? null;
  if (DataType.isInt(t)) return `<${t.isSigned ? 'i' : 'u'}${t.bitWidth / 8}`;
  return null;
}

function vectorColumns(schema: Schema): { columns: Column[]; others: string[] } {
  const columns: Column[] = [];
  const others: string[] = [];
  schema.fields.forEach((f: Field, index: number) => {
    const t = f.type;
    if ((DataType.isFixedSizeList(t) || DataType.isList(t) || t.typeId === -25 /* LargeList */) && t.children?.length === 1) {
      const descr = numericDescr(t.children[0].type);
      if (descr !== null && descr !== '<f2') {
        columns.push({ name: f.name, index, kind: DataType.isFixedSizeList(t) ? 'fixed' : 'list', dtype: descr });
        return;
      }
    }
    if (DataType.isBinary(t) || DataType.isFixedSizeBinary(t) || DataType.isLargeBinary(t)) {
      columns.push({ name: f.name, index, kind: 'blob', dtype: '<f4' });
      return;
    }
    others.push(f.name);
  });
  return { columns, others };
}

function wrap(path: string, err: unknown): Error {
  if ((err as { isUserError?: boolean }).isUserError) return err as Error;
  return npyFail(path, `is a damaged Arrow IPC file (${describeError(err)}): it is truncated or corrupt; re-write it`);
}

/**
 * Opens an Arrow IPC file (Feather v2, `.arrow`) or stream and reads one column of vectors:
 * fixed-size lists or lists of floats/ints, or float32 blobs (binary). `column` picks it, by
 * default the only such column, else an error listing them. LZ4- and ZSTD-compressed buffers
 * (pyarrow's Feather default) are decoded.
 *
 * apache-arrow reads the batches; the file format is read at random through the ByteSource (one
 * record batch in memory at a time), the stream format from its start. Opening counts the rows
 * (one read of the file).
 *
 * @throws NpyError for a damaged file, a missing or ambiguous column, null or ragged rows.
 */
export async function openArrow(bytes: ByteSource, opts: OpenOptions, _ctx: FormatContext): Promise<EmbeddingSource> {
  const path = bytes.name;
  const dropNonfinite = opts.dropNonfinite ?? false;
  try {
    const open = async () => {
      try {
        const r = (await RecordBatchReader.from(fileHandle(bytes) as never)) as unknown as RecordBatchReader;
        return await r.open();
      } catch (err) {
        throw wrap(path, err);
      }
    };
    const reader = await open();
    const { columns, others } = vectorColumns(reader.schema);
    const col = pickVectorColumn(path, columns, others, opts.column, 'fixed_size_list<float32>');
    const isFile = reader.isFile();
    // Rows per batch (and the width, from the first row).
    const batchRows: number[] = [];
    let dims = -1;
    try {
      if (isFile) {
        for (let i = 0; i < reader.numRecordBatches; i++) {
          const b = await reader.readRecordBatch(i);
          if (!b) throw new Error(`record batch ${i} is missing`);
          batchRows.push(b.numRows);
          if (dims < 0 && b.numRows > 0) dims = firstWidth(b, col);
        }
      } else {
        for await (const b of reader) {
          batchRows.push(b.numRows);
          if (dims < 0 && b.numRows > 0) dims = firstWidth(b, col);
        }
      }
    } catch (err) {
      throw wrap(path, err);
    } finally {
      if (!isFile) await Promise.resolve(reader.cancel()).catch(() => undefined);
    }
    const rows = batchRows.reduce((a, b) => a + b, 0);
    if (rows === 0) throw npyFail(path, `no rows to analyze: the file has 0 rows`);
    if (dims <= 0) throw npyFail(path, `the first row of column ${quote(col.name)} is null or empty: the vector width is unknown; drop such rows first`);
    let acc = 0;
    const starts = batchRows.map((n) => ((acc += n), acc - n));
    const ctx: Ctx = { path, col, dims, dropNonfinite, starts };
    const notes = /[iu]/.test(col.dtype) ? [`integer column ${col.name} (${col.dtype}) converted to float64`] : [];
    const batchOf = (row: number) => {
      let i = 0;
      while (i + 1 < starts.length && starts[i + 1] <= row) i++;
      return i;
    };
    return cursorSource(
      { path, format: 'arrow', rows, dims, dtype: col.dtype, shape: [rows, dims], layer: null, notes, rowBytes: dims * 4 },
      {
        async openAt(row) {
          if (isFile) {
            const r = isFile ? (reader as unknown as FileReader) : null;
            return new BatchRows(ctx, batchOf(row), async (i) => {
              try {
                return (await r!.readRecordBatch(i)) ?? null;
              } catch (err) {
                throw wrap(path, err);
              }
            });
          }
          const r = await open();
          const it = r[Symbol.asyncIterator]();
          return new BatchRows(ctx, 0, async () => {
            try {
              const next = await it.next();
              return next.done ? null : next.value;
            } catch (err) {
              throw wrap(path, err);
            }
          }, async () => { await r.cancel(); });
        },
        checkpointBefore: (row) => (isFile ? starts[batchOf(row)] : 0),
        close: () => bytes.close(),
      },
    );
  } catch (err) {
    await bytes.close().catch(() => undefined);
    throw err;
  }
}

interface FileReader {
  readRecordBatch(i: number): Promise<RecordBatch | null | undefined>;
}

interface Ctx {
  path: string;
  col: Column;
  dims: number;
  dropNonfinite: boolean;
  starts: number[];
}

/** The column's Data in a batch (one chunk: a record batch column is contiguous). */
function columnData(b: RecordBatch, col: Column): Data {
  const v = b.getChildAt(col.index);
  if (!v || v.data.length !== 1) throw new Error(`column ${col.name} is missing from a record batch`);
  return v.data[0];
}

function isValid(data: Data, i: number): boolean {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return true;
  const j = data.offset + i;
  return ((data.nullBitmap[j >> 3] >> (j & 7)) & 1) === 1;
}

function firstWidth(b: RecordBatch, col: Column): number {
  const data = columnData(b, col);
  if (!isValid(data, 0)) return -1;
  return rowRange(data, col, 0)[1];
}

/** [start, length] of row i's values in the child values (blob: in bytes). */
function rowRange(data: Data, col: Column, i: number): [number, number] {
  if (col.kind === 'fixed') {
    const size = (data.type as unknown as { listSize: number }).listSize;
    const child = data.children[0];
    return [(data.offset + i) * size + child.offset, size];
  }
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  const a = Number(offsets[data.offset + i]);
  const b = Number(offsets[data.offset + i + 1]);
  if (col.kind === 'blob') {
    if (DataType.isFixedSizeBinary(data.type)) {
      const w = (data.type as unknown as { byteWidth: number }).byteWidth;
      return [(data.offset + i) * w, w / 4];
    }
    return [a, (b - a) / 4];
  }
  return [a + data.children[0].offset, b - a];
}

class BatchRows implements RowCursor {
  position: number;
  private batch: RecordBatch | null = null;
  private at = 0;

  constructor(
    private readonly ctx: Ctx,
    private index: number,
    private readonly fetch: (i: number) => Promise<RecordBatch | null>,
    private readonly release?: () => Promise<void>,
  ) {
    this.position = ctx.starts[index] ?? 0;
  }

  async read(out: Float64Array, outRow: number, maxRows: number): Promise<number> {
    while (this.batch === null || this.at >= this.batch.numRows) {
      const next = await this.fetch(this.index);
      if (next === null) return 0;
      this.batch = next;
      this.index++;
      this.at = 0;
    }
    const { col, dims: d, dropNonfinite, path } = this.ctx;
    const data = columnData(this.batch, col);
    const k = Math.min(maxRows, this.batch.numRows - this.at);
    const child = col.kind === 'blob' ? null : data.children[0];
    const values = col.kind === 'blob' ? null : (child!.values as ArrayLike<number | bigint>);
    const blob = col.kind === 'blob' ? (data.values as Uint8Array) : null;
    for (let q = 0; q < k; q++) {
      const i = this.at + q;
      const row = this.position + q;
      const o = (outRow + q) * d;
      if (!isValid(data, i)) {
        if (!dropNonfinite) throw npyFail(path, `row ${row} (0-based) of column ${quote(col.name)} is null: fill or drop such rows, or pass dropNonfinite (--drop-nonfinite) to skip them (they are counted)`);
        out.fill(NaN, o, o + d);
        continue;
      }
      const [s, len] = rowRange(data, col, i);
      if (len !== d) throw npyFail(path, `row ${row} (0-based) of column ${quote(col.name)} has ${len} values but the first row has ${d}: every vector must have the same length`);
      if (blob) {
        const dv = new DataView(blob.buffer, blob.byteOffset + s, d * 4);
        for (let j = 0; j < d; j++) out[o + j] = dv.getFloat32(j * 4, true);
        continue;
      }
      if (child!.nullCount > 0) {
        for (let j = 0; j < d; j++) {
          if (!isValid(child!, s - child!.offset + j)) {
            if (!dropNonfinite) throw npyFail(path, `row ${row} (0-based) of column ${quote(col.name)} has a null element: fill it, or pass dropNonfinite (--drop-nonfinite) to skip such rows`);
          }
        }
      }
      if (typeof values![0] === 'bigint') for (let j = 0; j < d; j++) out[o + j] = Number(values![s + j]);
      else out.set((values as Float32Array).subarray(s, s + d), o);
      if (child!.nullCount > 0) for (let j = 0; j < d; j++) if (!isValid(child!, s - child!.offset + j)) out[o + j] = NaN;
    }
    this.at += k;
    this.position += k;
    return k;
  }

  async close(): Promise<void> {
    this.batch = null;
    await this.release?.().catch(() => undefined);
  }
}
