import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { checkOutputPath, describeFsError, renderReport, writeFileAtomic, type Analysis } from '../index.js';
import { UsageError } from './errors.js';

/** Folder of the default report path, relative to the working directory. */
export const REPORTS_DIR = 'reports';

/**
 * `reports/<name>.html` for one input, `reports/<a>-vs-<b>.html` for several; names are the file
 * names without extension, reduced to characters that are safe in any file system.
 */
export function defaultReportPath(inputs: readonly string[]): string {
  const stems = inputs.map((p) => basename(p, extname(p)).replace(/[^A-Za-z0-9._-]+/g, '_') || 'input');
  return join(REPORTS_DIR, `${stems.join('-vs-')}.html`);
}

/**
 * Makes sure the report can be written at `path`, before any work: creates the default `reports/`
 * folder when the path is inside it (any other folder must exist), and checks the folder is
 * writable and the path is not an input. A read-only working directory, or a file named
 * `reports`, is a one-line UsageError saying to pass `--out` (or `alternative`).
 */
export async function prepareReportPath(path: string, protect: readonly string[], alternative = ''): Promise<void> {
  if (dirname(path) === REPORTS_DIR) {
    const elsewhere = `pass --out <file.html> to write the report elsewhere${alternative}`;
    const existing = await stat(REPORTS_DIR).catch(() => null);
    if (existing && !existing.isDirectory()) {
      throw new UsageError(`cannot write the report into ${resolve(REPORTS_DIR)}/: a file named ${REPORTS_DIR} is in the way; ${elsewhere}`);
    }
    try {
      await mkdir(REPORTS_DIR, { recursive: true });
    } catch (err) {
      throw new UsageError(`cannot create the report folder ${resolve(REPORTS_DIR)}/ (${describeFsError(err)}); ${elsewhere}`);
    }
  }
  await checkOutputPath(path, protect);
}

/**
 * Renders an analysis and writes the page atomically (call {@link prepareReportPath} first, before
 * the work). Inputs are never overwritten.
 */
export async function saveReport(analysis: Analysis, path: string, opts: { interactive: boolean; protect: readonly string[] }): Promise<void> {
  const html = await renderReport(analysis, { interactive: opts.interactive });
  await prepareReportPath(path, opts.protect);
  await writeFileAtomic(path, html, { protect: opts.protect });
}
