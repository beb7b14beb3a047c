import type { ByteSource } from './byte-source.js';
import { NpyError, npyFail, quote } from './errors.js';
import { openNpy, openNpyBytes } from './npy-reader.js';
import { concatSources } from './concat-source.js';
import { expandInput, openPart } from './resolve-input.js';
import { sourceView } from './source-view.js';
import { FORMATS, SNIFF_BYTES, sniffFormat, type FormatName } from './sniff.js';
import type { EmbeddingSource, OpenOptions } from './types.js';

/** What a format reader gets besides the bytes. */
export interface FormatContext {
  /** The local path of the file when it is one (h5wasm and the .npy fast path need it), else null. */
  localPath: string | null;
  /** The first bytes of the file (up to SNIFF_BYTES), already read for detection. */
  head: Uint8Array;
}

type Reader = (bytes: ByteSource, opts: OpenOptions, ctx: FormatContext) => Promise<EmbeddingSource>;

/** Formats and the options each one takes (anything else given is an error). */
const OPTION_FORMATS: Record<'key' | 'column' | 'field', readonly FormatName[]> = {
  key: ['npz', 'safetensors', 'hdf5'],
  column: ['parquet', 'arrow'],
  field: ['jsonl'],
};
/** Formats that can hold (n, L, d) arrays, where `layer` means something. */
const LAYERED: readonly FormatName[] = ['npy', 'npz', 'safetensors', 'hdf5'];

const FORMAT_TITLES: Record<FormatName, string> = {
  npy: '.npy', npz: '.npz', safetensors: 'safetensors', parquet: 'Parquet', arrow: 'Arrow IPC / Feather',
  hdf5: 'HDF5', glove: 'GloVe / word2vec text', word2vec: 'word2vec binary', csv: 'CSV', tsv: 'TSV', jsonl: 'JSONL',
};

/** The readers, loaded on first use so that a .npy analysis never loads Arrow, h5wasm, ... */
const READERS: Record<FormatName, () => Promise<Reader>> = {
  npy: async () => async (bytes, opts, ctx) => {
    if (ctx.localPath !== null) {
      // The local fast path reads straight into the blocks; it opens its own handles.
      await bytes.close();
      return openNpy(ctx.localPath, { layer: opts.layer, layers: opts.layers });
    }
    return openNpyBytes(bytes, { layer: opts.layer, layers: opts.layers });
  },
  npz: async () => (await import('./npz-reader.js')).openNpz,
  safetensors: async () => (await import('./safetensors-reader.js')).openSafetensors,
  parquet: async () => (await import('./parquet-reader.js')).openParquet,
  arrow: async () => (await import('./arrow-reader.js')).openArrow,
  hdf5: async () => (await import('./hdf5-reader.js')).openHdf5,
  glove: async () => (await import('./glove-reader.js')).openGlove,
  word2vec: async () => (await import('./word2vec-reader.js')).openWord2vecBinary,
  csv: async () => (await import('./csv-reader.js')).openCsv,
  tsv: async () => (await import('./csv-reader.js')).openCsv,
  jsonl: async () => (await import('./jsonl-reader.js')).openJsonl,
};

/**
 * Opens one file of embeddings in any supported format, chosen by its magic bytes (the
 * extension only breaks ties between text formats; `opts.format` skips detection). The source
 * owns `bytes` and closes it on `close()`; so does a failed open.
 *
 * Formats: .npy, .npz (stored or deflated members), safetensors, Parquet, Arrow IPC (file and
 * stream) / Feather v2, HDF5 (local files only), GloVe and word2vec text, word2vec binary, CSV/TSV,
 * JSONL. See {@link OpenOptions} for `layer`, `key`, `column`, `field`, `dropNonfinite`.
 *
 * @param localPath - the file's local path when it is one (faster .npy reads; needed for HDF5).
 * @throws NpyError for an unknown, unsupported, damaged or inconsistent file, or an option the
 *   format does not take, naming the file and what to do.
 */
export async function openFormat(bytes: ByteSource, opts: OpenOptions = {}, localPath: string | null = null): Promise<EmbeddingSource> {
  let format: FormatName;
  let head: Uint8Array;
  try {
    head = (await bytes.read(0, Math.min(bytes.size, SNIFF_BYTES))).slice();
    if (opts.format !== undefined) {
      if (!(FORMATS as readonly string[]).includes(opts.format)) {
        throw npyFail(bytes.name, `unknown format ${quote(opts.format)}: use one of ${FORMATS.join(', ')}`);
      }
      format = opts.format as FormatName;
    } else {
      format = sniffFormat(head, bytes.size, bytes.name);
    }
    checkOptions(bytes.name, format, opts);
  } catch (err) {
    await bytes.close().catch(() => undefined);
    throw err;
  }
  let reader: Reader;
  try {
    reader = await READERS[format]();
  } catch (err) {
    await bytes.close().catch(() => undefined);
    throw err;
  }
  // Readers close `bytes` themselves when they fail.
  return reader(bytes, opts, { localPath, head });
}

/**
 * Opens the embeddings an input stands for, in any format {@link openFormat} reads:
 * - a local file, an `https://` (or `http://`) URL, or `hf://datasets/ORG/NAME/PATH` (read with
 *   HTTP Range requests: only the bytes the reader needs are fetched; `opts.revision`,
 *   `opts.remote`, `HF_ENDPOINT`, `HF_TOKEN`);
 * - a directory or a glob pattern (`'emb/*.parquet'`): its files as one dataset, in natural order;
 * - a list of names: all their files as one dataset, in the order given.
 *
 * A dataset's shards must agree in width (and layers); an error names the first that does not.
 * Its source lists them in `files`, as does the source of a remote file.
 *
 * @throws NpyError for a missing, unreadable, unsupported or damaged input, an empty directory,
 *   a glob matching nothing, shards that differ, a remote file not found or denied.
 */
export async function openEmbeddings(name: string | readonly string[], opts: OpenOptions = {}): Promise<EmbeddingSource> {
  if (typeof name === 'string') {
    const names = await expandInput(name);
    if (names.length === 1 && names[0] === name) return openOne(name, opts);
    return concatSources(name, names, (n) => openOne(n, opts));
  }
  if (name.length === 0) throw new NpyError('no input files given');
  const names: string[] = [];
  for (const n of name) names.push(...(await expandInput(n)));
  return concatSources(datasetName(name), names, (n) => openOne(n, opts));
}

/** The name of a dataset given as a list: `a + b + c`, or `a + ... + z (N files)`. */
export function datasetName(names: readonly string[]): string {
  if (names.length <= 3) return names.join(' + ');
  return `${names[0]} + ... + ${names[names.length - 1]} (${names.length} inputs)`;
}

/** One file (local path or remote name) in any format; a remote one lists itself in `files`. */
async function openOne(name: string, opts: OpenOptions): Promise<EmbeddingSource> {
  const part = await openPart(name, { revision: opts.revision, ...opts.remote });
  const src = await openFormat(part.bytes, opts, part.localPath);
  const remote = part.remote;
  if (!remote) return src;
  return sourceView(src, { files: [{ path: name, rows: src.rows, localPath: null, remote: () => remote.identity() }] });
}


function checkOptions(name: string, format: FormatName, opts: OpenOptions): void {
  const title = FORMAT_TITLES[format];
  for (const option of ['key', 'column', 'field'] as const) {
    if (opts[option] === undefined) continue;
    const takes = OPTION_FORMATS[option];
    if (!takes.includes(format)) {
      const instead = (Object.keys(OPTION_FORMATS) as (keyof typeof OPTION_FORMATS)[]).find((o) => OPTION_FORMATS[o].includes(format));
      throw npyFail(
        name,
        `the ${option} option (--${option}) applies to ${takes.map((f) => FORMAT_TITLES[f]).join(', ')} files, but this is ${/^[aeiou.]/i.test(title) ? 'an' : 'a'} ${title} file: ${instead ? `use ${instead} (--${instead})` : 'drop it'}`,
      );
    }
  }
  if (opts.layer !== undefined && !LAYERED.includes(format)) {
    throw npyFail(name, `a layer was given (${opts.layer}) but ${title} files hold (n, d) rows without a layer axis: drop the layer option (--layer)`);
  }
  if (opts.layers !== undefined && !LAYERED.includes(format)) {
    throw npyFail(name, `layers were asked for (--layers) but ${title} files hold (n, d) rows without a layer axis: drop the layers option`);
  }
}
