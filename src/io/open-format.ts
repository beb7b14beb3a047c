import type { ByteSource } from './byte-source.js';
import { npyFail } from './errors.js';
import { openNpy, openNpyBytes } from './npy-reader.js';
import { resolveInput } from './resolve-input.js';
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
      return openNpy(ctx.localPath, { layer: opts.layer });
    }
    return openNpyBytes(bytes, { layer: opts.layer });
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
        throw npyFail(bytes.name, `unknown format ${JSON.stringify(opts.format)}: use one of ${FORMATS.join(', ')}`);
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
 * Opens the embeddings an input name stands for (today: a local file in any format that
 * {@link openFormat} reads). `openNpy` remains the direct way to a .npy.
 *
 * @throws NpyError for a missing, unreadable, unsupported or damaged input.
 */
export async function openEmbeddings(name: string, opts: OpenOptions = {}): Promise<EmbeddingSource> {
  const parts = await resolveInput(name);
  if (parts.length !== 1) {
    await Promise.all(parts.map((p) => p.bytes.close().catch(() => undefined)));
    throw npyFail(name, `stands for ${parts.length} files; reading several files as one dataset is not supported here`);
  }
  return openFormat(parts[0].bytes, opts, parts[0].localPath);
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
}
