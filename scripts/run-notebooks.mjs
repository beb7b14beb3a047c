#!/usr/bin/env node
/**
 * Executes the notebooks under notebooks/ with Jupyter and the tslab TypeScript kernel.
 *
 *   node scripts/run-notebooks.mjs                 # every notebooks/*.ipynb, outputs saved in place (npm run notebooks)
 *   node scripts/run-notebooks.mjs --check         # executed into a temp folder, committed files untouched (CI)
 *   node scripts/run-notebooks.mjs notebooks/02-stats-api.ipynb   # only some
 *
 * A notebook fails when a cell raises, when any output is an error or went to stderr (tslab
 * prints TypeScript errors there), when nbconvert cannot export it to HTML (as GitHub's preview
 * and nbviewer do), and with --check also when the committed file was never executed (its
 * outputs are what GitHub shows). Adding a notebook is adding the file.
 *
 * Needs Jupyter's nbconvert (Debian: jupyter-nbconvert python3-nbclient python3-ipykernel
 * jupyter-client; `JUPYTER=/path/to/jupyter` to use another) and `npm run build` (the notebooks
 * import the package by name, i.e. dist/). The kernel is registered for this run only, in a temp
 * folder put first on JUPYTER_PATH, so nothing needs installing system-wide.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const NOTEBOOKS = join(ROOT, 'notebooks');
/** Longest any one cell may run before the run is called hung, seconds. */
const CELL_TIMEOUT_S = 600;

/** The text of a notebook field that nbformat stores as a string or a list of lines. */
function text(v) {
  return Array.isArray(v) ? v.join('') : String(v ?? '');
}

/** First `max` characters of the first lines of `s`, on one line. */
function brief(s, max = 160) {
  const one = s.replace(/\u001b\[[0-9;]*m/g, '').trim().split('\n').slice(0, 3).join(' | ');
  return one.length > max ? `${one.slice(0, max)}...` : one;
}

/**
 * What is wrong with an executed notebook (parsed .ipynb JSON): every error output and every
 * output written to stderr, as "cell N: ..." (N counts code cells from 1). Empty when clean.
 * With `executed`, also each code cell that has not been run (no execution count).
 */
export function notebookProblems(nb, { executed = false } = {}) {
  const problems = [];
  const cells = Array.isArray(nb?.cells) ? nb.cells : null;
  if (!cells) return ['not a notebook: no cells'];
  let k = 0;
  for (const cell of cells) {
    if (cell.cell_type !== 'code') continue;
    k++;
    if (executed && text(cell.source).trim() && cell.execution_count == null) problems.push(`cell ${k}: never executed`);
    for (const out of cell.outputs ?? []) {
      if (out.output_type === 'error') {
        problems.push(`cell ${k}: error ${brief(`${out.ename ?? ''}: ${out.evalue ?? ''} ${text(out.traceback)}`)}`);
      } else if (out.output_type === 'stream' && out.name === 'stderr') {
        problems.push(`cell ${k}: stderr ${brief(text(out.text))}`);
      }
    }
  }
  return problems;
}

/**
 * Numbers the code cells 1, 2, ... in order, as Jupyter shows a notebook run top to bottom (tslab's
 * replies carry no count that nbclient records), so a committed notebook shows that it ran.
 */
export function numberCells(nb) {
  let k = 0;
  for (const cell of nb.cells ?? []) {
    if (cell.cell_type !== 'code') continue;
    cell.execution_count = text(cell.source).trim() ? ++k : null;
    for (const out of cell.outputs ?? []) if (out.output_type === 'execute_result') out.execution_count = cell.execution_count;
  }
  return nb;
}

/** JSON as nbformat writes it (keys sorted, one-space indent, non-ASCII kept, final newline): stable diffs. */
export function notebookJson(nb) {
  const sorted = (v) => (Array.isArray(v) ? v.map(sorted)
    : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted(v[k])])) : v);
  return `${JSON.stringify(sorted(nb), null, 1)}\n`;
}

/** The notebooks to run: the paths given, else every .ipynb in notebooks/, sorted. */
export function listNotebooks(args = []) {
  if (args.length) {
    return args.map((a) => {
      if (!a.endsWith('.ipynb') || !existsSync(a)) throw new Error(`${a}: no such notebook (give .ipynb files, or nothing for all of notebooks/)`);
      return resolve(a);
    });
  }
  return readdirSync(NOTEBOOKS).filter((f) => f.endsWith('.ipynb')).sort().map((f) => join(NOTEBOOKS, f));
}

/** A kernel spec for tslab from this checkout, in a fresh folder for JUPYTER_PATH. */
function kernelSpecDir() {
  const tslab = join(ROOT, 'node_modules', 'tslab', 'bin', 'tslab');
  if (!existsSync(tslab)) throw new Error(`${relative(ROOT, tslab)} is missing: run npm install (tslab is a devDependency)`);
  const dir = mkdtempSync(join(tmpdir(), 'isotropy-jupyter-'));
  mkdirSync(join(dir, 'kernels', 'tslab'), { recursive: true });
  const spec = { argv: [process.execPath, tslab, 'kernel', '--config-path', '{connection_file}'], display_name: 'TypeScript', language: 'typescript' };
  writeFileSync(join(dir, 'kernels', 'tslab', 'kernel.json'), JSON.stringify(spec, null, 1) + '\n');
  return dir;
}

function main(argv) {
  const check = argv.includes('--check');
  const files = listNotebooks(argv.filter((a) => a !== '--check'));
  const jupyter = process.env.JUPYTER || 'jupyter';
  if (spawnSync(jupyter, ['nbconvert', '--version'], { encoding: 'utf8' }).status !== 0) {
    process.stderr.write(`notebooks: "${jupyter} nbconvert" does not run; install Jupyter (Debian: apt-get install jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client) or set JUPYTER\n`);
    return 2;
  }
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
    process.stderr.write('notebooks: dist/ is missing: run npm run build first (the notebooks import the built package)\n');
    return 2;
  }
  if (!files.length) {
    process.stdout.write('notebooks: none in notebooks/\n');
    return 0;
  }
  const specs = kernelSpecDir();
  // Executed copies land here first: a notebook replaces the committed file only when it ran clean.
  const out = mkdtempSync(join(tmpdir(), 'isotropy-notebooks-'));
  const env = {
    ...process.env,
    JUPYTER_PATH: [specs, process.env.JUPYTER_PATH].filter(Boolean).join(delimiter),
    // as npm run sets it, for anything a notebook spawns (npx isotropy ...)
    PATH: [join(ROOT, 'node_modules', '.bin'), process.env.PATH].join(delimiter),
    JUPYTER_PLATFORM_DIRS: '1',
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
  };
  let failed = 0;
  try {
    for (const file of files) {
      const name = relative(ROOT, file);
      const before = JSON.parse(readFileSync(file, 'utf8'));
      const committed = check ? notebookProblems(before, { executed: true }).filter((p) => p.endsWith('never executed')) : [];
      // --allow-errors: a failing cell's own message (tslab writes it to stderr) ends up in the
      // executed copy, where notebookProblems finds it; nbconvert's exception would not carry it.
      const args = ['nbconvert', '--to', 'notebook', '--execute', '--allow-errors',
        '--ExecutePreprocessor.kernel_name=tslab', `--ExecutePreprocessor.timeout=${CELL_TIMEOUT_S}`,
        '--ExecutePreprocessor.record_timing=False', '--output-dir', out, '--output', basename(file), file];
      const executedPath = join(out, basename(file));
      const started = process.hrtime.bigint();
      const r = spawnSync(jupyter, args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const problems = [];
      if (r.status !== 0) {
        const tail = `${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
        process.stderr.write(`${tail}\n`);
        problems.push(`nbconvert exited with ${r.status ?? r.signal}: the kernel did not start, died or timed out`);
      } else {
        problems.push(...notebookProblems(JSON.parse(readFileSync(executedPath, 'utf8'))));
        // what GitHub and nbviewer do with it: an output nbconvert cannot put in a page fails here
        const html = spawnSync(jupyter, ['nbconvert', '--to', 'html', '--stdout', executedPath], { env, encoding: 'utf8', maxBuffer: 256 << 20 });
        if (html.status !== 0) problems.push(`nbconvert --to html fails on it: ${brief(`${html.stderr ?? ''}`.trim().split('\n').pop() ?? '')}`);
      }
      problems.push(...committed.map((p) => `${p} in the committed file: run npm run notebooks and commit the outputs`));
      if (problems.length) {
        failed++;
        process.stdout.write(`${name}: FAILED after ${seconds.toFixed(1)} s\n${problems.map((p) => `  ${p}\n`).join('')}`);
      } else {
        if (!check) {
          const tmp = `${file}.tmp-${process.pid}`;
          writeFileSync(tmp, notebookJson(numberCells(JSON.parse(readFileSync(executedPath, 'utf8')))));
          renameSync(tmp, file);
        }
        process.stdout.write(`${name}: ran in ${seconds.toFixed(1)} s${check ? '' : ', outputs saved'}\n`);
      }
    }
  } finally {
    rmSync(specs, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
  process.stdout.write(failed ? `notebooks: ${failed} of ${files.length} failed\n` : `notebooks: all ${files.length} ran without errors\n`);
  return failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`notebooks: ${e instanceof Error ? e.message : e}\n`);
    process.exitCode = 2;
  }
}
