import { npyFail } from './errors.js';
import { DEFAULT_BLOCK_BYTES, resolveBlockOptions, type BlockOptions, type EmbeddingSource, type RowBlock } from './types.js';

/**
 * A forward-only reader of rows: the shape every streamed format (compressed members, Parquet
 * pages, Arrow batches, text lines) reduces to. Cursors are used by one iteration at a time.
 */
export interface RowCursor {
  /** Index of the row the next `read` returns. */
  readonly position: number;
  /**
   * Decodes up to `maxRows` (>= 1) rows into `out` from row `outRow` on (`dims` values per row,
   * row-major) and returns how many it wrote: at least 1, or 0 at the end of the data.
   * Throws a user error (NpyError) for bad content, naming the row or line.
   */
  read(out: Float64Array, outRow: number, maxRows: number): Promise<number>;
  /** Moves past `count` rows without returning them (may still have to decode them). */
  skip?(count: number): Promise<void>;
  close(): Promise<void>;
}

/** What a streamed format provides to {@link cursorSource}. */
export interface RowReader {
  /**
   * A cursor at the last checkpoint at or before `row` (a row-group or batch start, a line
   * offset recorded by the open scan, or row 0): its `position` tells which.
   */
  openAt(row: number): Promise<RowCursor>;
  /** The row `openAt(row)` would start at, so that an idle cursor closer to `row` is reused instead. */
  checkpointBefore(row: number): number;
  /** Releases what the reader holds (the ByteSource). */
  close(): Promise<void>;
  /** One label per row (GloVe / word2vec words), when the format has them. */
  labels?(): Promise<string[]>;
}

/** Metadata of a streamed source, as {@link EmbeddingSource} shows it. */
export interface RowSourceInfo {
  path: string;
  format: string;
  rows: number;
  dims: number;
  dtype: string;
  shape: readonly number[];
  layer: number | null;
  /** several layers side by side in each row (see EmbeddingSource.layers) */
  layers?: readonly number[];
  notes: string[];
  /** Bytes one row takes in the file (for the default block size); default `dims * 4`. */
  rowBytes?: number;
}

/** Idle cursors kept for reuse: enough for the sample reader and one pass side by side. */
const MAX_IDLE = 2;
/** Rows decoded per step while skipping to a block's start. */
const SKIP_ROWS = 1024;

/**
 * An EmbeddingSource over a forward-only {@link RowReader}. `blocks({start})` starts from the
 * nearest checkpoint or from an idle cursor left by an earlier iteration, whichever is closer, so
 * ascending range reads (the report's sample) cost one sequential read, not one per range. The
 * source owns the reader.
 */
export function cursorSource(info: RowSourceInfo, reader: RowReader): EmbeddingSource {
  return new CursorSource(info, reader);
}

class CursorSource implements EmbeddingSource {
  readonly path: string;
  readonly format: string;
  readonly rows: number;
  readonly dims: number;
  readonly dtype: string;
  readonly fortranOrder = false;
  readonly shape: readonly number[];
  readonly layer: number | null;
  readonly layers?: readonly number[];
  readonly notes: string[];
  readonly labels?: () => Promise<string[]>;
  private closed = false;
  private readonly idle = new Set<RowCursor>();
  private readonly busy = new Set<RowCursor>();

  constructor(
    private readonly info: RowSourceInfo,
    private readonly reader: RowReader,
  ) {
    this.path = info.path;
    this.format = info.format;
    this.rows = info.rows;
    this.dims = info.dims;
    this.dtype = info.dtype;
    this.shape = Object.freeze([...info.shape]);
    this.layer = info.layer;
    if (info.layers) this.layers = Object.freeze([...info.layers]);
    this.notes = info.notes;
    if (reader.labels) this.labels = () => reader.labels!();
  }

  blocks(opts?: BlockOptions): AsyncIterable<RowBlock> {
    if (this.closed) throw new Error(`${this.path}: blocks() called after close()`);
    const rowBytes = this.info.rowBytes ?? this.dims * 4;
    const { blockRows, start, end } = resolveBlockOptions(opts, this.rows, Math.max(1, Math.floor(DEFAULT_BLOCK_BYTES / rowBytes)));
    return this.iterate(blockRows, start, end);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.idle, ...this.busy];
    this.idle.clear();
    this.busy.clear();
    await Promise.all(all.map((c) => c.close().catch(() => undefined)));
    await this.reader.close().catch(() => undefined);
  }

  private async take(start: number): Promise<RowCursor> {
    let best: RowCursor | null = null;
    for (const c of this.idle) if (c.position <= start && (best === null || c.position > best.position)) best = c;
    if (best !== null && best.position >= this.reader.checkpointBefore(start)) {
      this.idle.delete(best);
      return best;
    }
    return this.reader.openAt(start);
  }

  private async release(cursor: RowCursor, reusable: boolean): Promise<void> {
    this.busy.delete(cursor);
    if (reusable && !this.closed && cursor.position < this.rows) {
      this.idle.add(cursor);
      if (this.idle.size > MAX_IDLE) {
        // drop the one furthest behind
        let worst: RowCursor | null = null;
        for (const c of this.idle) if (worst === null || c.position < worst.position) worst = c;
        this.idle.delete(worst!);
        await worst!.close().catch(() => undefined);
      }
      return;
    }
    await cursor.close().catch(() => undefined);
  }

  private async *iterate(blockRows: number, start: number, end: number): AsyncGenerator<RowBlock> {
    if (start === end) return;
    const d = this.dims;
    const cursor = await this.take(start);
    this.busy.add(cursor);
    let ok = false;
    try {
      if (cursor.position > start) throw new Error(`${this.path}: cursor opened past row ${start}`);
      if (cursor.position < start) {
        if (cursor.skip) await cursor.skip(start - cursor.position);
        else {
          const scratch = new Float64Array(Math.min(SKIP_ROWS, start - cursor.position) * d);
          while (cursor.position < start) {
            const got = await cursor.read(scratch, 0, Math.min(SKIP_ROWS, start - cursor.position));
            if (got === 0) throw this.shortData(cursor.position);
          }
        }
      }
      for (let r0 = start; r0 < end; r0 += blockRows) {
        if (this.closed) throw new Error(`${this.path}: source closed while reading`);
        const r1 = Math.min(end, r0 + blockRows);
        const data = new Float64Array((r1 - r0) * d);
        for (let filled = 0; filled < r1 - r0; ) {
          const got = await cursor.read(data, filled, r1 - r0 - filled);
          if (got === 0) throw this.shortData(r0 + filled);
          filled += got;
        }
        ok = true;
        yield { start: r0, rows: r1 - r0, data };
        ok = false;
      }
      ok = true;
    } finally {
      // A cursor is reusable after a clean stop (end of range, or the caller's break between
      // blocks); after one of its own errors it is closed.
      await this.release(cursor, ok);
    }
  }

  private shortData(row: number) {
    return npyFail(this.path, `the data ends after ${row} rows but ${this.rows} were counted when it was opened: the file changed or is damaged`);
  }
}
