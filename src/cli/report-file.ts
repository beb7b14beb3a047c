import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { captionText, checkOutputPath, checkProbeResult, describeFsError, inputStem, renderFigures, renderReport, writeFileAtomic, type Analysis, type ProbeResult } from '../index.js';
import { UsageError } from './errors.js';
import { readJsonFile } from './read-json.js';

/** Folder of the default report path, relative to the working directory. */
export const REPORTS_DIR = 'reports';

/**
 * `reports/<name>.html` for one input, `reports/<a>-vs-<b>.html` for several; names are the file
 * names without extension (a URL's last segment, a directory's or a glob's folder name), reduced
 * to characters that are safe in any file system.
 */
export function defaultReportPath(inputs: readonly string[]): string {
  const stems = inputs.map((p) => {
    const s = inputStem(p);
    return (extname(p) === '.npy' ? s : basename(s, extname(s))).replace(/[^A-Za-z0-9._-]+/g, '_') || 'input';
  });
  return join(REPORTS_DIR, `${stems.join('-vs-')}.html`);
}

/** Progress of the rendering: `done` of `total` charts. */
export type ChartProgress = (done: number, total: number, id: string) => void;

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
export async function saveReport(
  analysis: Analysis, path: string, opts: { interactive: boolean; protect: readonly string[]; onProgress?: ChartProgress; probe?: ProbeResult },
): Promise<void> {
  const html = await renderReport(analysis, { interactive: opts.interactive, onProgress: opts.onProgress, probe: opts.probe });
  await prepareReportPath(path, opts.protect);
  await writeFileAtomic(path, html, { protect: opts.protect });
}

/**
 * Reads the `--probe` file (`isotropy probe --json` / `--out`) for the report: a missing, non-JSON
 * or malformed file is a one-line error naming it.
 */
export async function readProbeFile(path: string): Promise<ProbeResult> {
  return checkProbeResult(await readJsonFile(path, 'the output of `isotropy probe --json` (or --out)'), path);
}

/** {@link prepareReportPath}, under the name the report command's code uses. */
export const checkReportPath = prepareReportPath;

/**
 * Checks, before any long work, that `dir` can take the figures: an existing folder, or a new one
 * whose parent folder exists.
 *
 * @throws UsageError naming the flag and what to do
 */
export async function checkFiguresDir(dir: string): Promise<void> {
  const at = await stat(dir).catch(() => null);
  if (at && !at.isDirectory()) throw new UsageError(`--figures ${dir}: this is a file, not a folder; give a folder for the figures`);
  if (at) return;
  const parent = await stat(dirname(resolve(dir))).catch(() => null);
  if (!parent?.isDirectory()) throw new UsageError(`--figures ${dir}: its parent folder ${dirname(resolve(dir))} does not exist; create it first`);
}

/**
 * Writes every chart of the report into `dir` (created when missing): `<id>.svg`, `<id>.png` when
 * the optional rasterizer is installed, and `<id>.caption.txt` (title and caption). Returns the
 * files written, and why there are no PNGs when there are none.
 */
export async function saveFigures(
  analysis: Analysis, dir: string, opts: { protect: readonly string[]; onProgress?: ChartProgress },
): Promise<{ files: string[]; pngUnavailable: string | null }> {
  const { figures, pngUnavailable } = await renderFigures(analysis, { onProgress: opts.onProgress });
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const f of figures) {
    const parts: [string, string | Uint8Array][] = [[`${f.id}.svg`, f.svg], [`${f.id}.caption.txt`, captionText(f)]];
    if (f.png) parts.push([`${f.id}.png`, f.png]);
    for (const [name, data] of parts) {
      const path = join(dir, name);
      await writeFileAtomic(path, data, { protect: opts.protect });
      files.push(path);
    }
  }
  return { files, pngUnavailable };
}
