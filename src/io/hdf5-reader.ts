import type { ByteSource } from './byte-source.js';
import { describeError, npyFail, quote } from './errors.js';
import { formatShape } from './npy-header.js';
import { selectLayer } from './npy-reader.js';
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

/** h5wasm's node build, loaded and initialised once (it reads local files directly). */
async function loadH5(): Promise<H5['default']> {
  h5 ??= (async () => {
    const mod = (await import('h5wasm/node')) as unknown as { default: H5['default'] };
    await mod.default.ready;
    return mod.default;
  })();
  return h5;
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
 * local disk: other ByteSources (URLs) are refused with what to do.
 *
 * @throws NpyError for a file HDF5 cannot open, a missing or ambiguous key, a non-numeric dataset.
 */
export async function openHdf5(bytes: ByteSource, opts: OpenOptions, ctx: FormatContext): Promise<EmbeddingSource> {
  const path = bytes.name;
  await bytes.close().catch(() => undefined);
  if (ctx.localPath === null) {
    throw npyFail(path, `HDF5 files are read from the local disk only (the HDF5 library needs random file access): download it first`);
  }
  const local = ctx.localPath;
  const lib = await loadH5();
  let file: H5File;
  try {
    file = new lib.File(local, 'r');
  } catch (err) {
    throw npyFail(path, `HDF5 cannot open it (${describeError(err)}): the file is truncated or damaged`);
  }
  try {
    const candidates: { key: string; shape: number[]; dtype: string; ds: H5Dataset }[] = [];
    let names: string[];
    try {
      names = file.paths();
    } catch (err) {
      throw npyFail(path, `HDF5 cannot list its contents (${describeError(err)}): the file is damaged`);
    }
    for (const name of names) {
      let obj;
      try {
        obj = file.get(name);
      } catch {
        continue; // broken links and the like are not embeddings
      }
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
      throw npyFail(path, `dataset ${quote(chosen.key)} has shape ${formatShape(shape)}: expected a 2-D (n, d) or 3-D (n, layers, d) array`);
    }
    if (shape.includes(0)) throw npyFail(path, `no rows to analyze: dataset ${quote(chosen.key)} has shape ${formatShape(shape)}`);
    const layer = selectLayer(path, shape, opts.layer);
    const n = shape[0];
    const d = shape[shape.length - 1];
    const itemsize = Number(descr.slice(2));
    const notes = /[iu]/.test(descr[1]) ? [`integer dtype ${descr} converted to float64`] : [];
    const ds = chosen.ds;
    const slabRows = Math.max(1, Math.floor(SLAB_BYTES / (d * itemsize)));
    const readRows = (r0: number, r1: number, out: Float64Array, outRow: number) => {
      let data;
      try {
        data = ds.slice(layer === null ? [[r0, r1]] : [[r0, r1], [layer, layer + 1]]);
      } catch (err) {
        throw npyFail(path, `HDF5 cannot read rows ${r0}..${r1} of ${quote(chosen.key)} (${describeError(err)}): the file is truncated or damaged`);
      }
      if (!data || typeof data !== 'object' || !('length' in data) || (data as ArrayLike<unknown>).length !== (r1 - r0) * d) {
        throw npyFail(path, `HDF5 returned an unexpected block for rows ${r0}..${r1} of ${quote(chosen.key)}: the file is damaged`);
      }
      const arr = data as ArrayLike<number | bigint>;
      const o = outRow * d;
      if (typeof arr[0] === 'bigint') for (let i = 0; i < arr.length; i++) out[o + i] = Number(arr[i]);
      else out.set(arr as ArrayLike<number>, o);
    };
    return cursorSource(
      { path, format: 'hdf5', rows: n, dims: d, dtype: descr, shape, layer, notes, rowBytes: d * itemsize },
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
          file.close();
        },
      },
    );
  } catch (err) {
    try {
      file.close();
    } catch {
      // already failing
    }
    throw err;
  }
}

function describeType(cls: number, size: number): string {
  const names = ['integer', 'float', 'time', 'string', 'bitfield', 'opaque', 'compound', 'reference', 'enum', 'vlen', 'array'];
  return `${names[cls] ?? `class ${cls}`}${size ? ` (${size} bytes)` : ''}`;
}
