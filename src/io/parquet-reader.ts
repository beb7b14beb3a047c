import { brotliDecompressSync, crc32, gunzipSync } from 'node:zlib';
import { parquetMetadataAsync, parquetSchema, type FileMetaData, type SchemaTree } from 'hyparquet';
import { compressors as bundled } from 'hyparquet-compressors';
import { parquetHeader } from 'hyparquet/src/column.js';
import { convert, convertWithDictionary, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { readPlain } from 'hyparquet/src/plain.js';
import type { ColumnDecoder, Compressors, DecodedArray, PageHeader } from 'hyparquet/src/types.js';
import type { ByteSource } from './byte-source.js';
import { describeError, npyFail, quote } from './errors.js';
import { pickVectorColumn } from './pick-key.js';
import type { FormatContext } from './open-format.js';
import { cursorSource, type RowCursor } from './row-source.js';
import type { EmbeddingSource, OpenOptions } from './types.js';

/**
 * Page decompressors: hyparquet-compressors (snappy in wasm, zstd, lz4 and lz4_raw in JS), with
 * gzip and brotli from node's native zlib, which is several times faster than the JS ports.
 */
const COMPRESSORS: Compressors = {
  ...bundled,
  GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input: Uint8Array) => new Uint8Array(brotliDecompressSync(input)),
};

/** Bytes of a column chunk read per request (pages are cut out of this window). */
const WINDOW = 8 << 20;
/** A page header longer than this is a damaged file, not statistics. */
const MAX_PAGE_HEADER = 16 << 20;

/** How a column holds vectors. */
type Kind = 'list' | 'blob';

interface Column {
  /** dotted name of the field the user picks (`embedding`, `data.vec`) */
  name: string;
  kind: Kind;
  /** path of the physical (leaf) column */
  leafPath: string[];
  /** schema nodes from the root to the leaf */
  schemaPath: SchemaTree[];
  /** `def` below this: the row (or a parent struct) is null */
  defPresent: number;
  /** `def` of an element that exists (list kind) */
  defElement: number;
  maxDef: number;
  dtype: string;
}

const NUMERIC: Record<string, string> = { FLOAT: '<f4', DOUBLE: '<f8', INT32: '<i4', INT64: '<i8' };

/**
 * Opens a Parquet file and reads one column of vectors: a list (or fixed-size list, which
 * Parquet stores as a list) of float/double/int, or float32 vectors stored as binary blobs
 * (little-endian, 4 bytes per value). `column` picks it (dotted for a field of a struct); by
 * default the only such column, else an error listing them.
 *
 * Metadata and schema come from hyparquet; the column is then read page by page through the
 * ByteSource (hyparquet's page decoders, one column chunk window at a time), so memory holds a
 * few pages, not a row group, and only the chosen column's bytes are fetched. Codecs: snappy,
 * gzip, brotli, zstd, lz4, lz4_raw. Null vectors and null elements fail naming the row, or, with
 * `dropNonfinite`, become NaN rows that the statistics drop and count. Rows of unequal length
 * fail naming the row.
 *
 * @throws NpyError for a damaged file, lying offsets, a missing or ambiguous column, bad rows.
 */
export async function openParquet(bytes: ByteSource, opts: OpenOptions, _ctx: FormatContext): Promise<EmbeddingSource> {
  const path = bytes.name;
  try {
    let metadata: FileMetaData;
    try {
      // The footer's own length (its last 8 bytes) sizes the first fetch, so that a remote file
      // is not read for hyparquet's default 512 KiB when the metadata is a few KiB.
      const tail = bytes.size >= 12 ? await bytes.read(bytes.size - 8, 8) : null;
      const footer = tail ? new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true) + 8 : undefined;
      metadata = await parquetMetadataAsync({
        byteLength: bytes.size,
        slice: async (start: number, end?: number) => {
          const e = end ?? bytes.size;
          const b = await bytes.read(start, e - start);
          return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
        },
      }, { initialFetchSize: footer !== undefined && footer <= bytes.size ? footer : undefined });
    } catch (err) {
      if ((err as { isUserError?: boolean }).isUserError) throw err;
      throw npyFail(path, `is a damaged Parquet file (${describeError(err)}): it is truncated or corrupt; re-write it`);
    }
    const tree = parquetSchema(metadata);
    const { columns, others } = vectorColumns(tree);
    const col = pickVectorColumn(path, columns, others, opts.column, 'list<float32>');
    const rows = Number(metadata.num_rows);
    const groups = metadata.row_groups.map((g, i) => {
      const chunk = g.columns.find((c) => c.meta_data && c.meta_data.path_in_schema.join('\u0000') === col.leafPath.join('\u0000'));
      if (!chunk?.meta_data) throw npyFail(path, `row group ${i} has no data for column ${quote(col.name)}: the file is damaged`);
      const md = chunk.meta_data;
      if (chunk.file_path) throw npyFail(path, `column ${quote(col.name)} lives in another file (${quote(chunk.file_path)}): give that file`);
      const start = Number(md.dictionary_page_offset ?? md.data_page_offset);
      const size = Number(md.total_compressed_size);
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(size) || start < 4 || size < 0 || start + size > bytes.size - 8) {
        throw npyFail(path, `row group ${i}: column ${quote(col.name)} claims bytes ${start}..${start + size}, outside the file's data (${bytes.size} bytes): the file is truncated or its metadata lies`);
      }
      return { rows: Number(g.num_rows), start, size, codec: md.codec, type: md.type };
    });
    let first = 0;
    const starts = groups.map((g) => ((first += g.rows), first - g.rows));
    if (first !== rows) throw npyFail(path, `row groups hold ${first} rows but the footer says ${rows}: the file is damaged`);
    if (rows === 0) throw npyFail(path, `no rows to analyze: the file has 0 rows`);
    const ctx: ReadContext = { path, bytes, col, groups, starts, dropNonfinite: opts.dropNonfinite ?? false, dims: -1 };
    // the first row tells the width; every later row must match it
    const probe = new ParquetRows(ctx, 0);
    try {
      ctx.dims = await probe.peekDims();
    } finally {
      await probe.close();
    }
    const notes = col.dtype.includes('i') ? [`integer column ${col.name} (${col.dtype}) converted to float64`] : [];
    return cursorSource(
      { path, format: 'parquet', rows, dims: ctx.dims, dtype: col.dtype, shape: [rows, ctx.dims], layer: null, notes, rowBytes: ctx.dims * 4 },
      {
        async openAt(row) {
          return new ParquetRows(ctx, groupOf(starts, row));
        },
        checkpointBefore: (row) => starts[groupOf(starts, row)],
        close: () => bytes.close(),
      },
    );
  } catch (err) {
    await bytes.close().catch(() => undefined);
    throw err;
  }
}

function toNumber(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

function groupOf(starts: number[], row: number): number {
  let g = 0;
  while (g + 1 < starts.length && starts[g + 1] <= row) g++;
  return g;
}

/** Columns that hold vectors, with dotted names; `others` names the rest (for messages). */
function vectorColumns(root: SchemaTree): { columns: Column[]; others: string[] } {
  const columns: Column[] = [];
  const others: string[] = [];
  const visit = (node: SchemaTree, trail: SchemaTree[], prefix: string) => {
    const el = node.element;
    const name = prefix ? `${prefix}.${el.name}` : el.name;
    const here = [...trail, node];
    if (node.children.length === 0) {
      // a primitive: a vector when it is a binary blob, or a bare `repeated float`
      if (el.repetition_type === 'REPEATED' && el.type && NUMERIC[el.type]) {
        columns.push(listColumn(name, here));
      } else if (isBlob(node)) {
        const maxDef = here.slice(1).filter((n) => n.element.repetition_type !== 'REQUIRED').length;
        columns.push({ name, kind: 'blob', leafPath: node.path, schemaPath: here, defPresent: maxDef, defElement: maxDef, maxDef, dtype: '<f4' });
      } else others.push(name);
      return;
    }
    if (el.converted_type === 'LIST' || el.logical_type?.type === 'LIST') {
      const rep = node.children.length === 1 ? node.children[0] : null;
      if (rep && rep.element.repetition_type === 'REPEATED') {
        // three-level list (repeated group { element }) or two-level (repeated primitive)
        const leaf = rep.children.length === 0 ? rep : rep.children.length === 1 ? rep.children[0] : null;
        const path = leaf === rep ? [...here, rep] : [...here, rep, leaf!];
        if (leaf && leaf.children.length === 0 && leaf.element.type && NUMERIC[leaf.element.type]) {
          columns.push(listColumn(name, path));
          return;
        }
      }
      others.push(name);
      return;
    }
    if (el.converted_type === 'MAP' || el.converted_type === 'MAP_KEY_VALUE' || el.repetition_type === 'REPEATED') {
      others.push(name);
      return;
    }
    for (const child of node.children) visit(child, here, name);
  };
  for (const child of root.children) visit(child, [root], '');
  return { columns, others };
}

function listColumn(name: string, schemaPath: SchemaTree[]): Column {
  const nodes = schemaPath.slice(1);
  const r = nodes.findIndex((n) => n.element.repetition_type === 'REPEATED');
  const defPresent = nodes.slice(0, r).filter((n) => n.element.repetition_type !== 'REQUIRED').length;
  const maxDef = nodes.filter((n) => n.element.repetition_type !== 'REQUIRED').length;
  const leaf = schemaPath[schemaPath.length - 1];
  return { name, kind: 'list', leafPath: leaf.path, schemaPath, defPresent, defElement: defPresent + 1, maxDef, dtype: NUMERIC[leaf.element.type!] };
}

function isBlob(node: SchemaTree): boolean {
  const el = node.element;
  const ct = el.converted_type;
  const lt = el.logical_type?.type;
  if (ct === 'UTF8' || ct === 'JSON' || ct === 'ENUM' || ct === 'BSON' || lt === 'STRING' || lt === 'JSON' || lt === 'ENUM' || lt === 'UUID' || lt === 'FLOAT16' || ct === 'DECIMAL' || lt === 'DECIMAL') return false;
  if (el.type === 'BYTE_ARRAY') return true;
  return el.type === 'FIXED_LEN_BYTE_ARRAY' && (el.type_length ?? 0) % 4 === 0 && (el.type_length ?? 0) > 0;
}

interface ReadContext {
  path: string;
  bytes: ByteSource;
  col: Column;
  groups: { rows: number; start: number; size: number; codec: string; type: string | undefined }[];
  starts: number[];
  dropNonfinite: boolean;
  /** row width; -1 until the first row was read */
  dims: number;
}

/** The pages of one column chunk, read through a window of the file. */
class PageReader {
  private buf = new Uint8Array(0);
  /** file offset of buf[0] */
  private bufStart: number;
  private pos: number;
  private readonly end: number;

  constructor(
    private readonly bytes: ByteSource,
    start: number,
    size: number,
  ) {
    this.bufStart = start;
    this.pos = start;
    this.end = start + size;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Makes `[pos, pos + n)` available in the window; false when the chunk has fewer bytes. */
  private async ensure(n: number): Promise<boolean> {
    if (this.pos + n > this.end) return false;
    if (this.pos + n <= this.bufStart + this.buf.length) return true;
    const want = Math.min(this.end - this.pos, Math.max(n, WINDOW));
    this.buf = (await this.bytes.read(this.pos, want)).slice();
    this.bufStart = this.pos;
    return true;
  }

  /** The next page: its header and its (still compressed) bytes. */
  async next(): Promise<{ header: PageHeader; body: Uint8Array }> {
    let probe = Math.min(64 * 1024, this.end - this.pos);
    for (;;) {
      await this.ensure(probe);
      const at = this.pos - this.bufStart;
      const view = new DataView(this.buf.buffer, this.buf.byteOffset + at, probe);
      const reader = { view, offset: 0 };
      let header: PageHeader;
      try {
        header = parquetHeader(reader);
      } catch (err) {
        if (probe < this.end - this.pos && probe < MAX_PAGE_HEADER) {
          probe = Math.min(this.end - this.pos, probe * 4);
          continue;
        }
        throw new Error(`unreadable page header (${describeError(err)})`);
      }
      const size = header.compressed_page_size;
      if (!Number.isSafeInteger(size) || size < 0 || header.uncompressed_page_size < 0) throw new Error('a page header has a negative size');
      this.pos += reader.offset;
      if (!(await this.ensure(size))) throw new Error(`a page of ${size} bytes runs past the end of its column chunk`);
      const from = this.pos - this.bufStart;
      const body = this.buf.subarray(from, from + size);
      this.pos += size;
      // writers may store a CRC-32 of the page (pyarrow's write_page_checksum): check it when present
      if (typeof header.crc === 'number' && (crc32(body) >>> 0) !== (header.crc >>> 0)) throw new Error('a page fails its CRC-32 check');
      return { header, body };
    }
  }
}

/** Rows of the chosen column, from row group `group` on. */
class ParquetRows implements RowCursor {
  position: number;
  private group: number;
  private pages: PageReader | null = null;
  private dictionary: DecodedArray | undefined;
  private groupRows = 0;
  /** decoded rows not yet returned: rows x dims */
  private ready = new Float64Array(0);
  private readyRows = 0;
  private readyAt = 0;
  /** the row being assembled (list kind) */
  private row: number[] = [];
  private rowNull = false;
  private rowOpen = false;
  private nullElement = false;
  private readonly decoder: ColumnDecoder;

  constructor(
    private readonly ctx: ReadContext,
    group: number,
  ) {
    this.group = group;
    this.position = ctx.starts[group] ?? 0;
    const leaf = ctx.col.schemaPath[ctx.col.schemaPath.length - 1];
    this.decoder = {
      pathInSchema: ctx.col.leafPath,
      type: leaf.element.type!,
      element: leaf.element,
      schemaPath: ctx.col.schemaPath,
      codec: ctx.groups[group]?.codec as ColumnDecoder['codec'],
      parsers: DEFAULT_PARSERS,
      compressors: COMPRESSORS,
      utf8: false,
    };
  }

  /** The width of the first row (used once, at open). */
  async peekDims(): Promise<number> {
    while (this.readyRows - this.readyAt === 0) {
      if (!(await this.decodeMore())) throw npyFail(this.ctx.path, 'no rows to analyze: the column is empty');
    }
    return this.ctx.dims;
  }

  async read(out: Float64Array, outRow: number, maxRows: number): Promise<number> {
    while (this.readyRows - this.readyAt === 0) {
      if (!(await this.decodeMore())) return 0;
    }
    const d = this.ctx.dims;
    const k = Math.min(maxRows, this.readyRows - this.readyAt);
    out.set(this.ready.subarray(this.readyAt * d, (this.readyAt + k) * d), outRow * d);
    this.readyAt += k;
    this.position += k;
    return k;
  }

  async close(): Promise<void> {
    this.pages = null;
  }

  private fail(message: string) {
    return npyFail(this.ctx.path, message);
  }

  /** Decodes the next page (moving to the next row group as needed); false at the end of the file. */
  private async decodeMore(): Promise<boolean> {
    const { ctx } = this;
    for (;;) {
      if (this.group >= ctx.groups.length) return false;
      const g = ctx.groups[this.group];
      if (this.pages === null) {
        this.pages = new PageReader(ctx.bytes, g.start, g.size);
        this.dictionary = undefined;
        this.groupRows = 0;
        this.decoder.codec = g.codec as ColumnDecoder['codec'];
      }
      if (this.pages.done) {
        this.finishRow();
        if (this.groupRows !== g.rows) {
          throw this.fail(`row group ${this.group} of column ${quote(ctx.col.name)} holds ${this.groupRows} rows but its metadata says ${g.rows}: the file is damaged`);
        }
        this.pages = null;
        this.group++;
        if (this.readyRows - this.readyAt > 0) return true;
        continue;
      }
      this.compact();
      let page: { header: PageHeader; body: Uint8Array };
      try {
        page = await this.pages.next();
        this.decodePage(page.header, page.body);
      } catch (err) {
        if ((err as { isUserError?: boolean }).isUserError) throw err;
        throw this.fail(`row group ${this.group} of column ${quote(ctx.col.name)} is damaged (${describeError(err)}): the file is truncated or corrupt; re-write it`);
      }
      if (this.readyRows - this.readyAt > 0) return true;
    }
  }

  private compact(): void {
    if (this.readyAt === this.readyRows) {
      this.readyAt = 0;
      this.readyRows = 0;
    }
  }

  private decodePage(header: PageHeader, body: Uint8Array): void {
    const dec = this.decoder;
    if (header.type === 'DICTIONARY_PAGE') {
      const diph = header.dictionary_page_header!;
      const page = decompressPage(body, Number(header.uncompressed_page_size), dec.codec, dec.compressors);
      const reader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
      this.dictionary = convert(readPlain(reader, dec.type, diph.num_values, dec.element.type_length), dec);
      return;
    }
    let levels;
    let encoding: string;
    if (header.type === 'DATA_PAGE') {
      const daph = header.data_page_header!;
      const page = decompressPage(body, Number(header.uncompressed_page_size), dec.codec, dec.compressors);
      levels = readDataPage(page, daph, dec);
      encoding = daph.encoding;
    } else if (header.type === 'DATA_PAGE_V2') {
      levels = readDataPageV2(body, header, dec);
      encoding = header.data_page_header_v2!.encoding;
    } else {
      return; // index pages carry no values
    }
    const values = convertWithDictionary(levels.dataPage, this.dictionary, encoding as never, dec);
    const def = levels.definitionLevels;
    const rep = levels.repetitionLevels;
    const col = this.ctx.col;
    const n = Math.max(def?.length ?? 0, rep.length, def?.length ? 0 : values.length);
    let vi = 0;
    // A row's values are the run values[segStart, vi) of this page, after what earlier pages held
    // of it (this.row): rows are copied out in one piece, not value by value.
    let segStart = 0;
    const list = col.kind === 'list';
    for (let i = 0; i < n; i++) {
      const dl = def && def.length ? def[i] : col.maxDef;
      const rl = rep.length ? rep[i] : 0;
      if (rl === 0) {
        this.finishRow(list ? values : null, segStart, vi);
        segStart = vi;
        this.rowOpen = true;
      }
      if (dl < col.defPresent) this.rowNull = true;
      else if (!list) {
        if (dl === col.maxDef) this.pushBlob(values[vi++] as Uint8Array | string);
      } else if (dl === col.defPresent) {
        // an empty list: no element
      } else if (dl < col.maxDef) this.nullElement = true;
      else vi++;
    }
    if (vi !== values.length) throw new Error(`a page has ${values.length} values for ${vi} defined slots`);
    // the last row may go on in the next page: keep its part
    if (list && this.rowOpen) for (let k = segStart; k < vi; k++) this.row.push(toNumber(values[k]));
  }

  private pushBlob(v: Uint8Array | string): void {
    if (typeof v === 'string') throw this.fail(`column ${quote(this.ctx.col.name)} holds strings, not float32 blobs`);
    if (v.length % 4 !== 0) {
      throw this.fail(`row ${this.nextRowIndex()} of column ${quote(this.ctx.col.name)} is a blob of ${v.length} bytes, not float32 values (a multiple of 4 bytes)`);
    }
    const dv = new DataView(v.buffer, v.byteOffset, v.length);
    for (let k = 0; k < v.length; k += 4) this.row.push(dv.getFloat32(k, true));
  }

  /** Index (in the whole file) of the row being assembled. */
  private nextRowIndex(): number {
    return this.ctx.starts[this.group] + this.groupRows;
  }

  /** Completes the open row: the carried values, then `values[a, b)` of the current page. */
  private finishRow(values: DecodedArray | null = null, a = 0, b = 0): void {
    if (!this.rowOpen) return;
    const { ctx } = this;
    const r = this.nextRowIndex();
    const col = ctx.col;
    this.rowOpen = false;
    this.groupRows++;
    const carried = this.row.length;
    const len = carried + (values === null ? 0 : b - a);
    let nullRow: Float64Array | null = null;
    if (this.rowNull || this.nullElement) {
      if (!ctx.dropNonfinite) {
        throw this.fail(
          `row ${r} (0-based) of column ${quote(col.name)} ${this.rowNull ? 'is null' : 'has a null element'}: fill or drop such rows, or pass dropNonfinite (--drop-nonfinite) to skip them (they are counted)`,
        );
      }
      if (ctx.dims < 0) throw this.fail(`row ${r} (0-based) of column ${quote(col.name)} is null, and no earlier row tells the vector width: drop null rows first`);
      nullRow = new Float64Array(ctx.dims).fill(NaN);
    } else if (ctx.dims < 0) {
      if (len === 0) throw this.fail(`row ${r} (0-based) of column ${quote(col.name)} is an empty vector: every row needs the same number of values`);
      ctx.dims = len;
    } else if (len !== ctx.dims) {
      throw this.fail(`row ${r} (0-based) of column ${quote(col.name)} has ${len} values but the first row has ${ctx.dims}: every vector must have the same length`);
    }
    const d = ctx.dims;
    if ((this.readyRows + 1) * d > this.ready.length) {
      const grown = new Float64Array(Math.max(1024 * d, this.ready.length * 2));
      grown.set(this.ready.subarray(0, this.readyRows * d));
      this.ready = grown;
    }
    const o = this.readyRows * d;
    if (nullRow !== null) this.ready.set(nullRow, o);
    else {
      if (carried) this.ready.set(this.row, o);
      if (values !== null && b > a) {
        if (ArrayBuffer.isView(values) && !(values instanceof BigInt64Array)) this.ready.set((values as Float32Array).subarray(a, b), o + carried);
        else for (let k = a; k < b; k++) this.ready[o + carried + k - a] = toNumber(values[k]);
      }
    }
    this.row = [];
    this.rowNull = false;
    this.nullElement = false;
    this.readyRows++;
  }
}
