// The README stays true where a test can tell: the Node version is package.json's `engines`, its
// commands run from a clone (`npx isotropy ...`), and every flag it shows exists.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const reports = readFileSync(new URL('../reports/README.md', import.meta.url), 'utf8');

/** The lines of the README's sh code blocks. */
const shellLines = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1].split('\n')).filter((l) => l.trim());

test('the Node version the README states is package.json\'s engines', () => {
  assert.ok(readme.includes(`\`${pkg.engines.node}\``), `README lacks ${pkg.engines.node}`);
  assert.is(pkg.engines.node, JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')).packages[''].engines.node);
});

test('README commands work from a clone: npx isotropy, never a bare isotropy', () => {
  const bare = shellLines.filter((l) => /(^|[|;&]\s*|xargs [^|]*\s)isotropy\s/.test(l) && !/npx isotropy/.test(l));
  assert.equal(bare, []);
  assert.ok(shellLines.some((l) => l.startsWith('npx isotropy analyze')));
});

test('every flag in the README\'s commands is one the CLI knows', async () => {
  const { readdirSync } = await import('node:fs');
  const sources = readdirSync(new URL('../src/cli/commands/', import.meta.url)).map((f) => readFileSync(new URL(`../src/cli/commands/${f}`, import.meta.url), 'utf8')).join('\n')
    + readFileSync(new URL('../src/cli/options.ts', import.meta.url), 'utf8');
  // the isotropy command lines (not the environment of a job script around them)
  const commands = shellLines.filter((l) => /^(npx isotropy|ls .*npx isotropy)/.test(l.trim())).map((l) => l.replace(/#.*$/, ''));
  const flags = new Set(commands.join(' ').match(/(?<=\s)--[a-z][a-z-]*/g) ?? []);
  for (const f of flags) {
    const name = f.slice(2).replace(/^no-/, '');
    assert.ok(sources.includes(`'${name}'`), `${f} is not an option of any command`);
  }
});

test('reports/README.md describes the folder as it is used', () => {
  assert.match(reports, 'npx isotropy analyze emb.npy');
  assert.match(reports, 'reports/emb.html');
  assert.not.match(reports, 'once the report generator lands');
});

test.run();
