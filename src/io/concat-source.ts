import { npyFail } from './errors.js';
import { shapeInMessage } from './npy-header.js';
import { resolveBlockOptions, type BlockOptions, type EmbeddingSource, type RowBlock, type SourceFile } from './types.js';

/** Shards kept open at once; the others are reopened when their rows are read. */
const MAX_OPEN = 8;

/** One shard: what it looked like when it was first opened, and its source while open. */
interface Shard {
  name: string;
  /** first row of the shard in the dataset */
  offset: number;
  rows: number;
  dims: number;
  files: readonly SourceFile[];
  source: EmbeddingSource | null;
  users: number;
  lastUse: number;
}

/**
 * Several files as one dataset of rows: the shards in the order given, each opened with `open`
 * (any format; they need not share one). The shards' widths (and, for (n, L, d) arrays, their
 * layers) must agree: an error names the first shard that differs. Each shard is opened once up
 * front to learn its rows; at most 8 stay open (others are reopened, and checked to be
 * unchanged, when their rows are read), so a dataset of thousands of shards does not run out of
 * file handles. Blocks never span two shards (a block may be shorter at a shard's end).
 *
 * @param path - the dataset as the user named it (a directory, a glob, a list), for messages
 * @param open - opens one shard; the dataset closes what it opens
 * @throws NpyError for a shard that cannot be opened or does not fit the first one
 */
export async function concatSources(path: string, names: readonly string[], open: (name: string) => Promise<EmbeddingSource>): Promise<EmbeddingSource> {
  if (names.length === 0) throw npyFail(path, 'stands for no files');
  const shards: Shard[] = [];
  let first: EmbeddingSource | null = null;
  const notes = new Set<string>();
  const dtypes = new Set<string>();
  const formats = new Set<string>();
  let offset = 0;
  try {
    for (const name of names) {
      const src = await open(name);
      const shard: Shard = {
        name, offset, rows: src.rows, dims: src.dims, files: src.files ?? [{ path: name, rows: src.rows, localPath: name }],
        source: src, users: 0, lastUse: 0,
      };
      shards.push(shard);
      if (first === null) first = src;
      else checkFits(path, first, shards[0].name, src, name);
      offset += src.rows;
      src.notes.forEach((n) => notes.add(`${name}: ${n}`));
      dtypes.add(src.dtype);
      if (src.format) formats.add(src.format);
      if (shards.filter((s) => s.source).length > MAX_OPEN) {
        await src.close();
        shard.source = null;
      }
    }
  } catch (err) {
    await Promise.all(shards.map((s) => s.source?.close().catch(() => undefined)));
    throw err;
  }
  if (dtypes.size > 1) notes.add(`shards of different dtypes (${[...dtypes].join(', ')}) read as float64 alike`);
  const f = first!;
  const shape = f.shape.length === 3 ? [offset, f.shape[1], f.shape[2]] : [offset, f.shape[f.shape.length - 1]];
  return new ConcatSource(path, shards, open, {
    rows: offset,
    dims: f.dims,
    dtype: dtypes.size === 1 ? f.dtype : [...dtypes].join(','),
    shape,
    layer: f.layer,
    layers: f.layers,
    notes: [...notes],
    format: formats.size === 1 ? [...formats][0] : undefined,
    labelled: shards.every((s) => s.source === null || typeof s.source.labels === 'function') && typeof f.labels === 'function',
  });
}

/** Throws unless shard `b` has the width (and layer layout) of the first shard `a`. */
function checkFits(path: string, a: EmbeddingSource, aName: string, b: EmbeddingSource, bName: string): void {
  const layout = (s: EmbeddingSource) => (s.shape.length === 3 ? `(n, ${s.shape[1]}, ${s.shape[2]})` : `(n, ${s.shape[s.shape.length - 1]})`);
  if (b.dims !== a.dims || layout(a) !== layout(b) || b.layer !== a.layer || String(b.layers) !== String(a.layers)) {
    throw npyFail(
      path,
      `shard ${bName} has shape ${shapeInMessage(b.shape)}${b.layer !== null ? ` (layer ${b.layer})` : ''}, but the first shard ${aName} has ${shapeInMessage(a.shape)}${a.layer !== null ? ` (layer ${a.layer})` : ''}: ` +
        `every shard of a dataset must hold vectors of the same width${a.shape.length === 3 ? ' and layers' : ''}; leave that file out`,
    );
  }
}

class ConcatSource implements EmbeddingSource {
  readonly rows: number;
  readonly dims: number;
  readonly dtype: string;
  readonly fortranOrder = false;
  readonly shape: readonly number[];
  readonly layer: number | null;
  readonly layers?: readonly number[];
  readonly notes: string[];
  readonly format?: string;
  readonly files: readonly SourceFile[];
  readonly labels?: () => Promise<string[]>;
  private closed = false;
  private clock = 0;

  constructor(
    readonly path: string,
    private readonly shards: Shard[],
    private readonly open: (name: string) => Promise<EmbeddingSource>,
    info: { rows: number; dims: number; dtype: string; shape: number[]; layer: number | null; layers?: readonly number[]; notes: string[]; format?: string; labelled: boolean },
  ) {
    this.rows = info.rows;
    this.dims = info.dims;
    this.dtype = info.dtype;
    this.shape = Object.freeze(info.shape);
    this.layer = info.layer;
    if (info.layers) this.layers = info.layers;
    this.notes = info.notes;
    if (info.format) this.format = info.format;
    this.files = shards.flatMap((s) => s.files);
    if (info.labelled) this.labels = () => this.allLabels();
  }

  blocks(opts?: BlockOptions): AsyncIterable<RowBlock> {
    if (this.closed) throw new Error(`${this.path}: blocks() called after close()`);
    // the shards pick their own default block size
    const { start, end } = resolveBlockOptions(opts, this.rows, 1);
    return this.iterate(opts?.blockRows, start, end);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.shards.map((s) => s.source?.close().catch(() => undefined)));
    this.shards.forEach((s) => (s.source = null));
  }

  private async *iterate(blockRows: number | undefined, start: number, end: number): AsyncGenerator<RowBlock> {
    for (const shard of this.shards) {
      const s0 = Math.max(start, shard.offset);
      const s1 = Math.min(end, shard.offset + shard.rows);
      if (s0 >= s1) continue;
      const src = await this.acquire(shard);
      try {
        for await (const b of src.blocks({ blockRows, start: s0 - shard.offset, end: s1 - shard.offset })) {
          if (this.closed) throw new Error(`${this.path}: source closed while reading`);
          yield { start: shard.offset + b.start, rows: b.rows, data: b.data };
        }
      } finally {
        await this.release(shard);
      }
    }
  }

  /** The shard's source, reopened (and checked to be as it was) when it was closed to save handles. */
  private async acquire(shard: Shard): Promise<EmbeddingSource> {
    shard.users++;
    shard.lastUse = ++this.clock;
    if (shard.source) return shard.source;
    try {
      const src = await this.open(shard.name);
      if (src.rows !== shard.rows || src.dims !== shard.dims) {
        await src.close();
        throw npyFail(shard.name, `changed while the dataset ${this.path} was read (${shard.rows} x ${shard.dims} at first, ${src.rows} x ${src.dims} now): rerun on finished files`);
      }
      if (this.closed) {
        await src.close();
        throw new Error(`${this.path}: source closed while reading`);
      }
      shard.source = src;
      await this.trim();
      return src;
    } catch (err) {
      shard.users--;
      throw err;
    }
  }

  private async release(shard: Shard): Promise<void> {
    shard.users--;
    await this.trim();
  }

  /** Closes the least recently used idle shards beyond MAX_OPEN. */
  private async trim(): Promise<void> {
    const open = this.shards.filter((s) => s.source !== null);
    if (open.length <= MAX_OPEN) return;
    const idle = open.filter((s) => s.users === 0).sort((a, b) => a.lastUse - b.lastUse);
    for (const s of idle.slice(0, open.length - MAX_OPEN)) {
      const src = s.source!;
      s.source = null;
      await src.close().catch(() => undefined);
    }
  }

  private async allLabels(): Promise<string[]> {
    const out: string[] = [];
    for (const shard of this.shards) {
      const src = await this.acquire(shard);
      try {
        if (!src.labels) throw npyFail(shard.name, 'has no row labels, unlike the other shards of the dataset');
        out.push(...(await src.labels()));
      } finally {
        await this.release(shard);
      }
    }
    return out;
  }
}
