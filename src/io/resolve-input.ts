import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { openFileBytes, type ByteSource } from './byte-source.js';
import { describeError, errorCode, NpyError, npyFail, quote } from './errors.js';
import { openHttpBytes, type RemoteByteSource, type RemoteOptions } from './http-source.js';
import { hubEndpoint, hubFileUrl, parseHfPath } from './hub-url.js';

/** One file of an input, as {@link resolveInput} found it. */
export interface ResolvedPart {
  /** The bytes, open; the caller closes them (or hands them to a reader, which then owns them). */
  bytes: ByteSource;
  /** The local path when the part is a local file (readers with a faster local path use it), else null. */
  localPath: string | null;
  /** The remote file's bytes when the part is remote (its size, ETag, sha256 once read), else absent. */
  remote?: RemoteByteSource;
}

/** Where and how remote inputs are read (`https://...`, `hf://datasets/...`). */
export interface InputLocation extends RemoteOptions {
  /** branch, tag or commit of `hf://` inputs; default `main` (an `@rev` in the name wins) */
  revision?: string;
  /** hub base URL for `hf://`; default `HF_ENDPOINT`, else https://huggingface.co */
  endpoint?: string;
}

/** Characters that make a name a glob pattern. */
const GLOB_CHARS = /[*?[\]{}]/;

/** Natural order: `part-2` before `part-10`. */
const naturalOrder = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' }).compare;

/**
 * Sorts names in natural order (runs of digits compare as numbers: `emb-2.npy` before
 * `emb-10.npy`), the order shards of a dataset are read in.
 */
export function naturalSort(names: readonly string[]): string[] {
  return [...names].sort((a, b) => naturalOrder(a, b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The files an input name stands for, in reading order, as names (nothing is opened):
 * - `https://...`, `http://...`, `hf://...`: the name itself (one remote file);
 * - a directory: its files, natural order, leaving out hidden ones and `_*` (`_SUCCESS`,
 *   `_metadata`); they must share one extension;
 * - a name that exists as a file: itself;
 * - a glob pattern (`emb/*.parquet`, `**`, `{a,b}`): the files it matches, natural order.
 *
 * @throws NpyError for a missing file, an empty directory, mixed extensions, a glob matching nothing
 */
export async function expandInput(name: string): Promise<string[]> {
  if (isRemoteName(name)) return [name];
  let st;
  try {
    st = await stat(name);
  } catch (err) {
    const code = errorCode(err);
    if ((code === 'ENOENT' || code === 'ENOTDIR') && GLOB_CHARS.test(name)) return expandGlob(name);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw npyFail(name, `no such file: ${resolve(name)}`);
    if (code === 'EACCES' || code === 'EPERM') throw npyFail(name, `permission denied: cannot read it`);
    throw npyFail(name, `cannot read: ${describeError(err)}`);
  }
  if (st.isDirectory()) return expandDirectory(name);
  return [name];
}

/** True for the names read over HTTP: `http(s)://` URLs and `hf://` hub paths. */
export function isRemoteName(name: string): boolean {
  return /^(https?|hf):\/\//i.test(name);
}

async function expandDirectory(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw npyFail(dir, `cannot list the directory: ${describeError(err)}`);
  }
  const names = entries.filter((e) => !e.name.startsWith('.') && !e.name.startsWith('_')).map((e) => e.name);
  const files: string[] = [];
  for (const n of naturalSort(names)) {
    // entries may be symlinks: stat follows them
    const s = await stat(join(dir, n)).catch(() => null);
    if (s?.isFile()) files.push(join(dir, n));
  }
  if (files.length === 0) throw npyFail(dir, 'is an empty directory (no embeddings files in it, hidden and _* files left out): check the path');
  const exts = [...new Set(files.map((f) => extname(f).toLowerCase()))];
  if (exts.length > 1) {
    const count = (e: string) => files.filter((f) => extname(f).toLowerCase() === e).length;
    const most = exts.reduce((a, b) => (count(b) > count(a) ? b : a));
    throw npyFail(dir, `holds files of several kinds (${exts.map((e) => e || '(no extension)').join(', ')}): give the shards with a quoted glob, e.g. '${join(dir, `*${most}`)}'`);
  }
  return files;
}

async function expandGlob(pattern: string): Promise<string[]> {
  const { glob } = await import('tinyglobby');
  let found: string[];
  try {
    found = await glob(pattern, { onlyFiles: true, expandDirectories: false, absolute: false, dot: false });
  } catch (err) {
    throw npyFail(pattern, `is not a valid glob pattern (${describeError(err)}): quote it and check the brackets`);
  }
  if (found.length === 0) throw npyFail(pattern, `matches no file (in ${resolve('.')}): check the pattern; quote it so that the shell does not expand it`);
  // tinyglobby returns paths relative to the working directory with / separators
  return naturalSort(found);
}

/**
 * Turns an input name into the files it stands for (see {@link expandInput}), opened as
 * ByteSources, in reading order. Remote names are opened with HTTP Range requests
 * (`opts` says how); `hf://ORG/...` resolves through the hub endpoint, with `HF_TOKEN` sent to
 * that host only.
 *
 * @throws NpyError naming the input: missing, empty, unreadable, not found or denied remotely.
 */
export async function resolveInput(name: string, opts: InputLocation = {}): Promise<ResolvedPart[]> {
  const names = await expandInput(name);
  const parts: ResolvedPart[] = [];
  try {
    for (const n of names) parts.push(await openPart(n, opts));
  } catch (err) {
    await Promise.all(parts.map((p) => p.bytes.close().catch(() => undefined)));
    throw err;
  }
  return parts;
}

/** Opens one file (local path, URL or hf:// path) of an input. */
export async function openPart(name: string, opts: InputLocation = {}): Promise<ResolvedPart> {
  if (isRemoteName(name)) {
    const bytes = await openRemote(name, opts);
    return { bytes, localPath: null, remote: bytes };
  }
  let st;
  try {
    st = await stat(name);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw npyFail(name, `no such file: ${resolve(name)}`);
    if (code === 'EACCES' || code === 'EPERM') throw npyFail(name, `permission denied: cannot read it`);
    throw npyFail(name, `cannot read: ${describeError(err)}`);
  }
  if (st.isDirectory()) throw npyFail(name, `is a directory: give the path of an embeddings file inside it`);
  if (!st.isFile()) {
    // Pipes and devices cannot be read at offsets, which several passes need.
    throw npyFail(name, `is not a regular file (a pipe or device?): save the embeddings to a file first`);
  }
  if (st.size === 0) throw npyFail(name, `empty file (0 bytes): the embeddings were never written; re-save them`);
  return { bytes: await openFileBytes(name), localPath: name };
}

async function openRemote(name: string, opts: InputLocation): Promise<RemoteByteSource> {
  const hf = parseHfPath(name);
  if (hf === null) return openHttpBytes(name, { ...opts, name });
  if ('error' in hf) throw new NpyError(hf.error);
  const endpoint = hubEndpoint(opts.endpoint, process.env.HF_ENDPOINT || undefined);
  if ('error' in endpoint) throw new NpyError(`${name}: ${endpoint.error}`);
  const revision = hf.revision ?? opts.revision ?? 'main';
  if (hf.revision !== null && opts.revision !== undefined && opts.revision !== hf.revision) {
    throw npyFail(name, `names revision ${quote(hf.revision)} but --revision says ${quote(opts.revision)}: give one`);
  }
  const url = hubFileUrl(endpoint.url, hf.repoPath, revision, hf.file);
  return openHttpBytes(url, {
    ...opts,
    name,
    token: opts.token ?? (process.env.HF_TOKEN || undefined),
    tokenOrigin: new URL(endpoint.url).origin,
  });
}
