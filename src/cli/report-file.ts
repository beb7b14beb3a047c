import { mkdir } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { renderReport, writeFileAtomic, type Analysis } from '../index.js';

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
 * Renders an analysis and writes the page atomically, creating the default `reports/` folder when
 * the path is inside it (any other folder must exist). Inputs are never overwritten.
 */
export async function saveReport(analysis: Analysis, path: string, opts: { interactive: boolean; protect: readonly string[] }): Promise<void> {
  const html = await renderReport(analysis, { interactive: opts.interactive });
  if (dirname(path) === REPORTS_DIR) await mkdir(REPORTS_DIR, { recursive: true });
  await writeFileAtomic(path, html, { protect: opts.protect });
}
