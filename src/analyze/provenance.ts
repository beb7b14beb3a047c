import { sha256File, type EmbeddingSource } from '../io/index.js';
import type { InputFile, InputInfo } from './schema.js';

/** The identity of an input's files, computed while it is analysed. */
export interface Provenance {
  /** `sha256` (one file whose every byte is known) and `files` (several files, or a remote one) for the InputInfo */
  finish(): Promise<Pick<InputInfo, 'sha256' | 'files'>>;
}

/**
 * Starts recording what an input was: the sha256 of a local file (hashed now, alongside the
 * first pass: the page cache serves the second reader), or for a dataset of several files or a
 * remote file, every file with its rows and identity: local files are hashed one after another;
 * a remote file's sha256 is known only when the analysis read all of it (a .npy), else its ETag
 * and size stand for it (a Parquet column read alone).
 *
 * @param name - the input's name when it was given as one (null for in-memory inputs)
 */
export function startProvenance(name: string | null, source: EmbeddingSource): Provenance {
  const files = source.files;
  if (!files) {
    const hashing = name !== null ? sha256File(name) : null;
    hashing?.catch(() => {});
    return { finish: async () => (hashing ? { sha256: await hashing } : {}) };
  }
  const hashes: Promise<string | null>[] = [];
  let chain: Promise<unknown> = Promise.resolve();
  for (const f of files) {
    const local = f.localPath;
    const h = local === null ? Promise.resolve(null) : chain.then(() => sha256File(local));
    h.catch(() => {});
    chain = h.catch(() => undefined);
    hashes.push(h);
  }
  return {
    async finish() {
      const out: InputFile[] = [];
      for (let k = 0; k < files.length; k++) {
        const f = files[k];
        const sha256 = await hashes[k];
        const remote = f.remote?.();
        out.push({
          path: f.path,
          rows: f.rows,
          ...(sha256 ? { sha256 } : {}),
          ...(remote ? { ...(remote.sha256 ? { sha256: remote.sha256 } : {}), size: remote.size, ...(remote.etag ? { etag: remote.etag } : {}), fetched: remote.fetched } : {}),
        });
      }
      return { files: out, ...(out.length === 1 && out[0].sha256 ? { sha256: out[0].sha256 } : {}) };
    },
  };
}
