import { readFile } from 'node:fs/promises';
import { UsageError } from './errors.js';

/**
 * Reads and parses a JSON file given on the command line; a missing, unreadable or non-JSON file
 * is a one-line UsageError naming the file and what was expected (`expected`, e.g. "a statistics
 * file written by `isotropy stats --save`").
 */
export async function readJsonFile(path: string, expected: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${path}: not JSON; expected ${expected}`);
  }
}
