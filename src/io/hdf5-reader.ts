import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackTempFile, untrackTempFile } from './atomic-file.js';
import type { ByteSource } from './byte-source.js';
import { describeError, npyFail, quote } from './errors.js';
import { shapeInMessage } from './npy-header.js';
import { selectLayer, selectLayers } from './npy-reader.js';
import type { FormatContext } from './open-format.js';
import { pickKey } from './pick-key.js';
import { cursorSource, type RowCursor } from './row-source.js';
import type { EmbeddingSource, OpenOptions } from './types.js';

/** Rows per HDF5 hyperslab read when a block asks for more: bounds h5wasm's wasm-heap copy. */
const SLAB_BYTES = 16 << 20;

type H5 = typeof import('h5wasm');
type H5File = InstanceType<H5['File']>;
type H5Dataset = InstanceType<H5['Dataset']>;

let h5: Promise<H5['default']> | null = null;

/** HDF5's own diagnostics, caught while one of our calls runs (null: not in a call). */
let caught: string[] | null = null;

/** h5wasm's node build, loaded and initialised once (it reads local files directly). */
async function loadH5(): Promise<H5['default']> {
  h5 ??= (async () => {
    const mod = (await import('h5wasm/node')) as unknown as { default: H5['default'] };
    await mod.default.ready;
    return mod.default;
  })();
  return h5;
}

/**
 * Runs a (synchronous) h5wasm call; returns its result and the innermost HDF5 reason it printed.
 * The HDF5 library prints its error stack straight to file descriptor 2 (emscripten's raw node
 * file system calls fs.writeSync(2, ...)); for the length of the call those writes are caught,
 * so the user sees our one-line message instead of forty lines of C stack.
 */
function hush<T>(fn: () => T): { value: T | undefined; error: unknown; reason: string | null } {
  const original = fs.writeSync;
  caught = [];
  const lines = caught;
  (fs as { writeSync: unknown }).writeSync = (fd: number, buffer: unknown, ...rest: unknown[]) => {
    if (fd === 2 && lines !== null) {
      if (typeof buffer === 'string') {
        lines.push(buffer);
        return Buffer.byteLength(buffer);
      }
      const b = buffer as Uint8Array;
      const offset = (rest[0] as number | undefined) ?? 0;
      const length = (rest[1] as number | undefined) ?? b.length - offset;
      lines.push(Buffer.from(b.buffer, b.byteOffset + offset, length).toString('utf8'));
      return length;
    }
    return (original as (...a: unknown[]) => number)(fd, buffer, ...rest);
  };
  try {
    return { value: fn(), error: null, reason: reasonOf(lines) };
  } catch (error) {
    return { value: undefined, error, reason: reasonOf(lines) };
  } finally {
    (fs as { writeSync: unknown }).writeSync = original;
    caught = null;
  }
}

/** The last `#00N: ... in F(): reason` line of an HDF5 error stack, as `reason`. */
function reasonOf(lines: string[]): string | null {
  const text = lines.join('');
  const all = [...text.matchAll(/#\d+: .*? in [\w.]+\(\): ([^\n]+)/g)];
  return all.length ? all[all.length - 1][1].trim() : null;
}

/** numpy descr of an HDF5 numeric dataset, or null (strings, compounds, ...). Class 0 = integer, 1 = float. */
function descrOf(meta: { type: number; size: number; signed: boolean; littleEndian: boolean }): string | null {
  const order = meta.size === 1 ? '|' : meta.littleEndian ? '<' : '>';
  if (meta.type === 1 && (meta.size === 4 || meta.size === 8 || meta.size === 2)) return `${order}f${meta.size}`;
  if (meta.type === 0 && [1, 2, 4, 8].includes(meta.size)) return `${order}${meta.signed ? 'i' : 'u'}${meta.size}`;
  return null;
}

/**
 * Opens one dataset of an HDF5 file (h5py, pandas/PyTables array datasets) as embeddings. `key`
 * is the dataset's path (`/group/emb`, the leading `/` optional); by default the only 2-D/3-D
 * numeric dataset, else an error listing them. Contiguous and chunked datasets, gzip (deflate)
 * and shuffle filters, any byte order; rows are read as hyperslabs, so memory holds one block.
 *
 * HDF5 is read with h5wasm (the HDF5 C library in WebAssembly), which needs the file on the
 * local disk: another ByteSource (a URL) is first copied whole into a temp file, removed when the
 * source is closed (or on a signal), since HDF5's layout gives no cheap way to read only the rows.
 *
 * @throws NpyError for a file HDF5 cannot open, a missing or ambiguous key, a non-numeric dataset.
 */
export async function openHdf5(bytes: ByteSource, opts: OpenOptions, ctx: FormatContext): Promise<EmbeddingSource> {
  const path = bytes.name;
  let scratch: string | null = null;
  try {
    if (ctx.localPath === null) scratch = await copyToTemp(bytes);
  } finally {
    await bytes.close().catch(() => undefined);
  }
  const local = ctx.localPath ?? scratch!;
  const dropScratch = () => {
    if (scratch === null) return;
    fs.rmSync(scratch, { force: true });
    untrackTempFile(scratch);
    scratch = null;
  };
  try {
    return await openLocal(path, local, opts, dropScratch);
  } catch (err) {
    dropScratch();
    throw err;
  }
}

/** Bytes read per request when copying a remote HDF5 file to local disk. */
const COPY_CHUNK = 16 << 20;

/** The whole of `bytes` in a new temp file (tracked for removal on signals); returns its path. */
async function copyToTemp(bytes: ByteSource): Promise<string> {
  const path = join(tmpdir(), `isotropy-hdf5-${process.pid}-${randomBytes(6).toString('hex')}.h5`);
  const fh = await fs.promises.open(path, 'wx', 0o600);
  trackTempFile(path);
  try {
    for (let at = 0; at < bytes.size; at += COPY_CHUNK) {
      const chunk = await bytes.read(at, Math.min(COPY_CHUNK, bytes.size - at));
      await fh.write(chunk, 0, chunk.length, at);
    }
  } catch (err) {
    await fh.close().catch(() => undefined);
    fs.rmSync(path, { force: true });
    untrackTempFile(path);
    throw err;
  }
  await fh.close();
  return path;
}

async function openLocal(path: string, local: string, opts: OpenOptions, onClose: () => void): Promise<EmbeddingSource> {
  const lib = await loadH5();
  const opened = hush(() => new lib.File(local, 'r'));
  const file = opened.value as H5File;
  if (opened.error !== null || !file || (file as unknown as { file_id: bigint }).file_id < 0n) {
    const why = opened.reason ?? (opened.error !== null ? describeError(opened.error) : 'not an HDF5 file');
    throw npyFail(path, `HDF5 cannot open it (${quote(why, 120)}): the file is truncated or damaged`);
  }
  try {
    const candidates: { key: string; shape: number[]; dtype: string; ds: H5Dataset }[] = [];
    const listed = hush(() => file.paths());
    if (listed.error !== null || !listed.value) {
      throw npyFail(path, `HDF5 cannot list its contents (${quote(listed.reason ?? describeError(listed.error), 120)}): the file is damaged`);
    }
    for (const raw of listed.value) {
      const name = raw.startsWith('/') ? raw : `/${raw}`;
      const got = hush(() => file.get(name));
      // broken links and the like are not embeddings
      const obj = got.error === null ? got.value : null;
      if (!(obj instanceof lib.Dataset)) continue;
      const meta = obj.metadata;
      const descr = descrOf(meta);
      candidates.push({ key: name, shape: obj.shape ?? [], dtype: descr ?? describeType(meta.type, meta.size), ds: obj });
    }
    const chosen = pickKey(path, candidates, opts.key === undefined ? undefined : opts.key.startsWith('/') ? opts.key : `/${opts.key}`, 'dataset');
    const descr = descrOf(chosen.ds.metadata);
    if (descr === null) {
      throw npyFail(path, `dataset ${quote(chosen.key)} holds ${chosen.dtype}, not numbers: pick a numeric dataset with the key option (--key)`);
    }
    if (descr.endsWith('f2')) throw npyFail(path, `dataset ${quote(chosen.key)} is float16, which is not read from HDF5: store it as float32 (dset.astype('f4'))`);
    const shape = chosen.shape;
    if (shape.length !== 2 && shape.length !== 3) {
      throw npyFail(path, `dataset ${quote(chosen.key)} has shape ${shapeInMessage(shape)}: expected a 2-D (n, d) or 3-D (n, layers, d) array`);
    }
    if (shape.includes(0)) throw npyFail(path, `no rows to analyze: dataset ${quote(chosen.key)} has shape ${shapeInMessage(shape)}`);
    const many = selectLayers(path, shape, opts);
    const layer = many ? null : selectLayer(path, shape, opts.layer);
    const picked = many ?? (layer === null ? null : [layer]);
    const n = shape[0];
    const d = shape[shape.length - 1];
    const itemsize = Number(descr.slice(2));
    const notes = /[iu]/.test(descr[1]) ? [`integer dtype ${descr} converted to float64`] : [];
    const ds = chosen.ds;
    const w = d * (picked?.length ?? 1);
    const lo = picked ? Math.min(...picked) : 0;
    const span = picked ? Math.max(...picked) - lo + 1 : 1;
    const slabRows = Math.max(1, Math.floor(SLAB_BYTES / (span * d * itemsize)));
    const readRows = (r0: number, r1: number, out: Float64Array, outRow: number) => {
      // several layers: the span from the first chosen one to the last, then the chosen ones picked out
      const read = hush(() => ds.slice(picked === null ? [[r0, r1]] : [[r0, r1], [lo, lo + span]]));
      const data = read.value;
      if (read.error !== null || read.reason !== null) {
        throw npyFail(path, `HDF5 cannot read rows ${r0}..${r1} of ${quote(chosen.key)} (${quote(read.reason ?? describeError(read.error), 120)}): the file is truncated or damaged`);
      }
      if (!data || typeof data !== 'object' || !('length' in data) || (data as ArrayLike<unknown>).length !== (r1 - r0) * d * span) {
        throw npyFail(path, `HDF5 returned an unexpected block for rows ${r0}..${r1} of ${quote(chosen.key)}: the file is damaged`);
      }
      const arr = data as ArrayLike<number | bigint>;
      const big = typeof arr[0] === 'bigint';
      const layers = picked ?? [0];
      if (span === 1 && !big) {
        out.set(arr as ArrayLike<number>, outRow * d);
        return;
      }
      for (let r = 0; r < r1 - r0; r++) {
        for (let j = 0; j < layers.length; j++) {
          const from = (r * span + layers[j] - lo) * d;
          const o = (outRow + r) * w + j * d;
          for (let c = 0; c < d; c++) out[o + c] = big ? Number(arr[from + c]) : (arr[from + c] as number);
        }
      }
    };
    return cursorSource(
      { path, format: 'hdf5', rows: n, dims: w, dtype: descr, shape, layer, ...(many ? { layers: many } : {}), notes, rowBytes: w * itemsize },
      {
        async openAt(row) {
          let position = row;
          const cursor: RowCursor = {
            get position() {
              return position;
            },
            async read(out, outRow, maxRows) {
              const k = Math.min(maxRows, n - position, slabRows);
              if (k <= 0) return 0;
              readRows(position, position + k, out, outRow);
              position += k;
              return k;
            },
            async skip(count) {
              position += count;
            },
            async close() {},
          };
          return cursor;
        },
        checkpointBefore: (row) => row,
        async close() {
          hush(() => file.close());
          onClose();
        },
      },
    );
  } catch (err) {
    hush(() => file.close());
    throw err;
  }
}

function describeType(cls: number, size: number): string {
  const names = ['integer', 'float', 'time', 'string', 'bitfield', 'opaque', 'compound', 'reference', 'enum', 'vlen', 'array'];
  return `${names[cls] ?? `class ${cls}`}${size ? ` (${size} bytes)` : ''}`;
}
