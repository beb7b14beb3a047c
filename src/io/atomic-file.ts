import { randomBytes } from 'node:crypto';
import { access, constants, lstat, open, readdir, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { NpyError, describeFsError, errorCode, npyFail } from './errors.js';
import { removeOnExit } from './exit-cleanup.js';

/**
 * Every output of the tool appears whole or not at all: it is written to a temp file
 * `${name}.tmp-${pid}-${random}` in the target's folder (same filesystem, so the final rename is
 * atomic) and renamed over the target only when complete. Inputs are never overwritten.
 *
 * Temp files do not outlive their process: they are removed on failure, on SIGINT, SIGTERM and
 * SIGHUP, and at exit; what a kill -9 (or a power cut) leaves behind is swept by the next run that
 * writes into the same folder (temp files of this tool whose process is gone).
 */

/** Temp files being written by this process, each with the function that forgets it. */
const live = new Map<string, () => void>();

/**
 * Registers a temp file for removal on SIGINT, SIGTERM, SIGHUP and at exit (also used for the
 * scratch copies of remote inputs, which have no target to rename to).
 */
export function trackTempFile(tempPath: string): void {
  if (!live.has(tempPath)) live.set(tempPath, removeOnExit(tempPath));
}

/** The temp file is gone (renamed or removed): no longer remove it on signals. */
export function untrackTempFile(tempPath: string): void {
  live.get(tempPath)?.();
  live.delete(tempPath);
}

/** `name.tmp-<pid>-<12 hex>`: our temp files, and the pid that writes each. */
const TEMP_NAME = /^(.+)\.tmp-(\d+)-[0-9a-f]{12}$/;
/** A temp file younger than this is left alone even when its pid is not running here (another host on a shared folder, pid reuse). */
const STALE_AFTER_MS = 60_000;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

/**
 * Removes the temp files of `target` (any `${basename}.tmp-<pid>-<hex>` in its folder) whose
 * process is no longer running and that have not changed for a minute: what a killed run left.
 * Best effort: never throws.
 *
 * @returns the paths removed
 */
export async function sweepStaleTemps(target: string): Promise<string[]> {
  const folder = dirname(resolve(target));
  const name = basename(target);
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch {
    return removed;
  }
  for (const entry of entries) {
    const m = TEMP_NAME.exec(entry);
    if (!m || m[1] !== name || processAlive(Number(m[2]))) continue;
    const path = join(folder, entry);
    try {
      const st = await lstat(path);
      if (!st.isFile() || Date.now() - st.mtimeMs < STALE_AFTER_MS) continue;
      await unlink(path);
      removed.push(path);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}

/**
 * Checks, before any long work, that `path` can be written as an output: not one of the inputs
 * (`protect`), not a folder, in an existing folder that this process may write to. Creates
 * nothing.
 *
 * @throws NpyError naming the path and what to do
 */
export async function checkOutputPath(path: string, protect: readonly string[] = []): Promise<void> {
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
    throw npyFail(path, `cannot use the output folder ${folder}: ${describeFsError(err)}`);
  }
  if (!folderStat.isDirectory()) throw npyFail(path, `the output folder ${folder} is not a folder`);
  const existing = await stat(target).catch(() => null);
  if (existing?.isDirectory()) throw npyFail(path, `is a directory: give a file name for the output, e.g. ${join(path, 'out')}`);
  try {
    await access(folder, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw npyFail(path, `cannot write in the output folder ${folder} (${describeFsError(err)}): choose another output path`);
  }
}

/**
 * Checks the target and creates its temp file (and sweeps the target's stale temp files).
 * @param protect  input paths the target must not be (compared as paths, real paths and inodes)
 * @throws NpyError, before anything is written, when the target is a protected input or a
 *   directory, or its folder is missing or not writable
 */
export async function openAtomicTemp(path: string, protect: readonly string[]): Promise<{ tempPath: string; handle: FileHandle }> {
  await checkOutputPath(path, protect);
  await sweepStaleTemps(path);
  const target = resolve(path);
  const folder = dirname(target);
  const tempPath = join(folder, `${basename(target)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    // 'wx': never reuse a file someone else created under the same temp name.
    const handle = await open(tempPath, 'wx');
    trackTempFile(tempPath);
    return { tempPath, handle };
  } catch (err) {
    throw npyFail(path, `cannot create a file in ${folder}: ${describeFsError(err)}`);
  }
}

/** Renames a finished temp file over its target and makes the rename durable (best effort). */
export async function renameIntoPlace(tempPath: string, path: string): Promise<void> {
  await rename(tempPath, path);
  untrackTempFile(tempPath);
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

/** Deletes an unfinished temp file (never throws). */
export async function discardTemp(tempPath: string): Promise<void> {
  await unlink(tempPath).catch(() => undefined);
  untrackTempFile(tempPath);
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
    await discardTemp(tempPath);
    // fs messages name the temp file; the user knows only the target
    throw err instanceof NpyError ? err : npyFail(path, `could not write: ${describeFsError(err)}`);
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
