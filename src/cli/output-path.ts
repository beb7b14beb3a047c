import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors.js';
import { REPORTS_DIR } from './report-file.js';

/**
 * Checks, before long work starts, that an output can be written where asked: its folder exists
 * (the default `reports/` folder is created when writing), it is not a folder, and it is none of
 * the inputs. The atomic write checks again (inodes, permissions) when it happens.
 */
export async function checkOutputPath(path: string, inputs: readonly string[], flag = '--out'): Promise<void> {
  const target = resolve(path);
  if (inputs.some((i) => resolve(i) === target)) throw new UsageError(`${flag} ${path} is one of the inputs: choose another file, inputs are never overwritten`);
  const folder = dirname(target);
  const f = await stat(folder).catch(() => null);
  if (!f && dirname(path) !== REPORTS_DIR) throw new UsageError(`${flag} ${path}: the folder ${folder} does not exist: create it first or choose another path`);
  if (f && !f.isDirectory()) throw new UsageError(`${flag} ${path}: ${folder} is not a folder`);
  if ((await stat(target).catch(() => null))?.isDirectory()) throw new UsageError(`${flag} ${path} is a folder: give a file name`);
}
