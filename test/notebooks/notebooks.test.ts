// The notebooks under notebooks/, as committed (CI executes them: scripts/run-notebooks.mjs --check):
// TypeScript on the tslab kernel, only the public API, executed with their outputs kept, charts as
// SVG images and tables as HTML. And the runner's rules for what counts as a failed notebook.
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUNNER = new URL('../../scripts/run-notebooks.mjs', import.meta.url).href;
const { notebookProblems, numberCells } = (await import(RUNNER)) as {
  notebookProblems: (nb: unknown, opts?: { executed?: boolean }) => string[];
  numberCells: <T>(nb: T) => T;
};
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>; dependencies: Record<string, string>; devDependencies: Record<string, string>;
};

interface Cell { cell_type: string; source: string | string[]; execution_count?: number | null; outputs?: { output_type: string; data?: Record<string, unknown> }[] }
const text = (s: string | string[]) => (Array.isArray(s) ? s.join('') : s);
const files = readdirSync(join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();
const load = (f: string) => JSON.parse(readFileSync(join(ROOT, 'notebooks', f), 'utf8')) as { metadata: { kernelspec?: { name: string } }; cells: Cell[] };

/** What a notebook may import: the package by name and its documented subpaths, node builtins, tslab, and the project's own dependencies. */
const allowed = new Set([
  ...Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? 'isotropy-toolkit' : `isotropy-toolkit/${k.slice(2)}`)),
  ...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies).filter((d) => d !== 'isotropy-toolkit'),
]);

test('the three notebooks of the issues are there', () => {
  for (const f of ['01-paper-diagnostics.ipynb', '02-stats-api.ipynb', '03-isobn-training.ipynb']) assert.ok(files.includes(f), f);
});

for (const f of files) {
  test(`${f}: tslab kernel, public API only, executed and clean, charts as SVG, tables as HTML`, () => {
    const nb = load(f);
    assert.is(nb.metadata.kernelspec?.name, 'tslab');
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    assert.ok(code.length > 0, 'has code');
    for (const c of code) {
      for (const m of text(c.source).matchAll(/^\s*import\s+(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
        const spec = m[1];
        const bare = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        const ok = spec.startsWith('node:') || builtinModules.includes(spec) || allowed.has(spec) || (!spec.startsWith('isotropy-toolkit') && allowed.has(bare));
        assert.ok(ok, `${f} imports "${spec}": only isotropy-toolkit, its documented subpaths and the project's dependencies`);
      }
      assert.not.match(text(c.source), /\.\.\/src\/|\/dist\//, `${f}: no reaching into src/ or dist/`);
    }
    assert.equal(notebookProblems(nb, { executed: true }), [], `${f}: committed with clean outputs (npm run notebooks)`);
    const data = code.flatMap((c) => (c.outputs ?? []).map((o) => o.data ?? {}));
    const mimes = data.flatMap((d) => Object.keys(d));
    const html = data.map((d) => text((d['text/html'] ?? '') as string | string[])).join('\n');
    assert.match(html, /<img alt="[^"]*" src="data:image\/svg\+xml;base64,/, `${f}: charts, as SVG images`);
    assert.match(html, /<table>/, `${f}: tables, as HTML`);
    for (const bitmap of ['image/png', 'image/jpeg', 'image/gif']) assert.not.ok(mimes.includes(bitmap), `${f}: charts as SVG, not ${bitmap}`);
    assert.not.match(html, /src="data:image\/(png|jpeg|gif)/, `${f}: charts as SVG, not bitmaps`);
  });
}

test('the runner fails a notebook on an error output, on stderr, and (for committed files) on a cell never run', () => {
  const cell = (outputs: object[], count: number | null = 1) => ({ cell_type: 'code', source: 'x', execution_count: count, outputs });
  const nb = (...cells: object[]) => ({ cells: [{ cell_type: 'markdown', source: '# t' }, ...cells] });
  assert.equal(notebookProblems(nb(cell([{ output_type: 'stream', name: 'stdout', text: ['fine\n'] }]))), []);
  assert.equal(notebookProblems(nb(cell([]), cell([{ output_type: 'error', ename: 'TypeError', evalue: 'x is undefined', traceback: [] }]))),
    ['cell 2: error TypeError: x is undefined']);
  assert.equal(notebookProblems(nb(cell([{ output_type: 'stream', name: 'stderr', text: ["1:8 - Cannot find module 'nope'\n"] }]))),
    ["cell 1: stderr 1:8 - Cannot find module 'nope'"]);
  assert.equal(notebookProblems(nb(cell([], null)), { executed: true }), ['cell 1: never executed']);
  assert.equal(notebookProblems(nb(cell([], null))), []);
  assert.equal(notebookProblems({}), ['not a notebook: no cells']);
});

test('a clean run is saved with its code cells numbered in order (tslab reports no count), empty cells left unnumbered', () => {
  const nb = numberCells({ cells: [
    { cell_type: 'code', source: 'a', execution_count: null, outputs: [] },
    { cell_type: 'markdown', source: '# t' },
    { cell_type: 'code', source: ['  \n'], execution_count: null, outputs: [] },
    { cell_type: 'code', source: ['b'], execution_count: null, outputs: [{ output_type: 'execute_result', execution_count: null }] },
  ] });
  assert.equal(nb.cells.map((c) => ('execution_count' in c ? c.execution_count : '-')), [1, '-', null, 2]);
  assert.is((nb.cells[3] as { outputs: { execution_count: number }[] }).outputs[0].execution_count, 2);
});

test.run();
