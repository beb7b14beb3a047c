import { randomBytes } from 'node:crypto';
import { open, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { NpyError, describeError, errorCode, npyFail } from './errors.js';

/**
 * Every output of the tool appears whole or not at all: it is written to a temp file
 * `${name}.tmp-${pid}-${random}` in the target's folder (same filesystem, so the final rename is
 * atomic) and renamed over the target only when complete. Inputs are never overwritten.
 */

/**
 * Checks the target and creates its temp file.
 * @param protect  input paths the target must not be (compared as paths, real paths and inodes)
 * @throws NpyError, before anything is written, when the target is a protected input or a
 *   directory, or its folder is missing or not writable
 */
export async function openAtomicTemp(path: string, protect: readonly string[]): Promise<{ tempPath: string; handle: FileHandle }> {
  await checkOutputPath(path, protect);
  const target = resolve(path);
  const folder = dirname(target);
  const tempPath = join(folder, `${basename(target)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    // 'wx': never reuse a file someone else created under the same temp name.
    return { tempPath, handle: await open(tempPath, 'wx') };
  } catch (err) {
    throw npyFail(path, `cannot create a file in ${folder}: ${describeError(err)}`);
  }
}

/**
 * The checks {@link openAtomicTemp} makes, without writing anything: for validating an output
 * path before long work starts.
 * @throws NpyError when the target is a protected input or a directory, or its folder is missing
 */
export async function checkOutputPath(path: string, protect: readonly string[]): Promise<void> {
  await checkNotProtected(path, protect);
  const target = resolve(path);
  const folder = dirname(target);
  let folderStat;
  try {
    folderStat = await stat(folder);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw npyFail(path, `the output folder ${folder} does not exist: create it first or choose another output path`);
    }
    throw npyFail(path, `cannot use the output folder ${folder}: ${describeError(err)}`);
  }
  if (!folderStat.isDirectory()) throw npyFail(path, `the output folder ${folder} is not a folder`);
  const existing = await stat(target).catch(() => null);
  if (existing?.isDirectory()) throw npyFail(path, `is a directory: give a file name for the output, e.g. ${join(path, 'out')}`);
}

/** Renames a finished temp file over its target and makes the rename durable (best effort). */
export async function renameIntoPlace(tempPath: string, path: string): Promise<void> {
  await rename(tempPath, path);
  let fh: FileHandle | null = null;
  try {
    fh = await open(dirname(resolve(path)), 'r');
    await fh.sync();
  } catch {
    // Some filesystems refuse fsync on folders; the data itself was fsynced.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Writes a whole file atomically (see above): the target is either its old content or `data`.
 * @param opts.protect  input paths that must never be overwritten
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: { protect?: readonly string[] } = {}): Promise<void> {
  const { tempPath, handle } = await openAtomicTemp(path, opts.protect ?? []);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await renameIntoPlace(tempPath, path);
  } catch (err) {
    await unlink(tempPath).catch(() => undefined);
    throw err instanceof NpyError ? err : npyFail(path, `could not write: ${describeError(err)}`);
  }
}

/**
 * Refuses an output path that is one of the inputs, compared as resolved paths, as real paths
 * (so a symlink to the input, or a path through a symlinked folder, is caught) and by inode
 * (hard links).
 */
async function checkNotProtected(path: string, protect: readonly string[]): Promise<void> {
  if (protect.length === 0) return;
  const target = resolve(path);
  const targetReal = await realpath(target).catch(() => null);
  const targetStat = targetReal === null ? null : await stat(target).catch(() => null);
  for (const input of protect) {
    let same = resolve(input) === target;
    if (!same && targetReal !== null) {
      const inputReal = await realpath(input).catch(() => null);
      same = inputReal !== null && inputReal === targetReal;
      if (!same && targetStat !== null) {
        const inputStat = await stat(input).catch(() => null);
        same = inputStat !== null && inputStat.dev === targetStat.dev && inputStat.ino === targetStat.ino;
      }
    }
    if (same) throw new NpyError(`refusing to overwrite the input file ${input}: choose another output path`, path);
  }
}
