import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { openFileBytes, type ByteSource } from './byte-source.js';
import { describeError, errorCode, npyFail } from './errors.js';

/** One file of an input, as {@link resolveInput} found it. */
export interface ResolvedPart {
  /** The bytes, open; the caller closes them (or hands them to a reader, which then owns them). */
  bytes: ByteSource;
  /** The local path when the part is a local file (readers with a faster local path use it), else null. */
  localPath: string | null;
}

/**
 * Turns an input name into the files it stands for, opened as ByteSources. Today: one local
 * regular file. This is the one place that interprets names, so that URLs, directories and globs
 * (several parts, read as one dataset) are added here and every format reader follows.
 *
 * @throws NpyError naming the input: missing, a directory, not a regular file, unreadable, empty.
 */
export async function resolveInput(name: string): Promise<ResolvedPart[]> {
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
  return [{ bytes: await openFileBytes(name), localPath: name }];
}
