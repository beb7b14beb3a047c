// `isotropy analyze` writes the HTML report; `isotropy report` renders a saved analysis.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTempDir } from '../io/helpers.ts';
import { probeFixture } from '../report/probe-fixture.ts';
import { failsCleanly, isotropy, isotropyIn, ROOT } from './run.ts';

const BASE = join(ROOT, 'fixtures/golden/base_f8.npy');
const F4 = join(ROOT, 'fixtures/golden/base_f4.npy');
const tmp = makeTempDir();
test.after(() => tmp.cleanup());


test('analyze writes reports/<name>.html under the working folder and prints its path', () => {
  const cwd = join(tmp.dir, 'work');
  mkdirSync(cwd);
  const r = isotropyIn(cwd, 'analyze', BASE, '-q');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^metric\s+none\s+isobn$/m);
  assert.match(r.stdout, /^report: reports\/base_f8\.html$/m);
  const html = readFileSync(join(cwd, 'reports/base_f8.html'), 'utf8');
  assert.match(html, /^<!DOCTYPE html>/i);
  assert.match(html, /<svg/);
});

test('analyze --json keeps stdout pure JSON and names the report on stderr', () => {
  const out = join(tmp.dir, 'j.html');
  const r = isotropy('analyze', BASE, '--json', '--out', out);
  assert.is(r.code, 0, r.stderr);
  const a = JSON.parse(r.stdout);
  assert.is(a.diagnostics.length, 2);
  assert.match(r.stderr, `report: ${out}`);
  assert.ok(existsSync(out));
});

test('analyze of two files with labels: one comparison report, labels escaped', () => {
  const out = join(tmp.dir, 'cmp.html');
  const r = isotropy('analyze', BASE, F4, '--label', 'BERT', '--label', '<img src=x onerror=alert(1)>', '--out', out, '-t', 'isobn,whiten', '-q');
  assert.is(r.code, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  assert.match(html, 'BERT');
  assert.not.match(html, '<img src=x');
  assert.match(html, '&lt;img src=x onerror=alert(1)&gt;');
});

test('analyze --interactive inlines vega-embed; the static page runs no script', () => {
  const still = join(tmp.dir, 'still.html');
  const live = join(tmp.dir, 'live.html');
  assert.is(isotropy('analyze', BASE, '--one-pass', '-q', '--out', still).code, 0);
  assert.is(isotropy('analyze', BASE, '--one-pass', '-q', '--out', live, '--interactive').code, 0);
  const a = readFileSync(still, 'utf8');
  const b = readFileSync(live, 'utf8');
  assert.not.match(a, /<script[\s>]/);
  assert.match(b, /vegaEmbed/);
  assert.ok(b.length > a.length + 500_000, 'the bundles are inlined');
});

test('analyze: report flags are checked', () => {
  failsCleanly(isotropy('analyze', BASE, '--label', 'one', '--label', 'two'), /2 label\(s\) for 1 input\(s\): give one --label entry per input file/);
  failsCleanly(isotropy('analyze', BASE, '--no-report', '--out', join(tmp.dir, 'x.html')), /--out, --interactive, --figures and --probe are about the report: leave out --no-report/);
  failsCleanly(isotropy('analyze', BASE, '--figures', join(tmp.dir, 'missing', 'figs')), /--figures .*figs: its parent folder .* does not exist/);
  failsCleanly(isotropy('analyze', BASE, '--figures', BASE), /--figures .*: this is a file, not a folder/);
  failsCleanly(isotropy('analyze', BASE, '--out', join(tmp.dir, 'missing', 'x.html')), /output folder .* does not exist/);
  failsCleanly(isotropy('analyze', BASE, '--out', BASE), /refusing to overwrite the input file/);
  failsCleanly(isotropy('analyze', BASE, '--sample-rows', '9000'), /--sample-rows must be a whole number from 0 to 5000/);
});

test('report renders a saved analysis, with new labels, without the data', () => {
  const json = join(tmp.dir, 'a.json');
  const r = isotropy('analyze', BASE, '--json', '--out', join(tmp.dir, 'first.html'), '-q');
  writeFileSync(json, r.stdout);
  const out = join(tmp.dir, 'again.html');
  const s = isotropy('report', json, '--out', out, '--label', 'renamed');
  assert.is(s.code, 0, s.stderr);
  assert.is(s.stdout, `report: ${out}\n`);
  assert.match(readFileSync(out, 'utf8'), 'renamed');
});

test('--figures: one standalone SVG, a caption sidecar (and a PNG where resvg loads) per chart', () => {
  const json = join(tmp.dir, 'f.json');
  writeFileSync(json, isotropy('analyze', BASE, F4, '--label', 'BERT', '--label', 'RoBERTa', '-t', 'isobn,whiten', '--json', '--out', join(tmp.dir, 'f.html'), '-q').stdout);
  const dir = join(tmp.dir, 'figs');
  const r = isotropy('report', json, '--out', join(tmp.dir, 'f2.html'), '--figures', dir);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, `figures: ${dir} (`);
  const files = readdirSync(dir).sort();
  const svgs = files.filter((f) => f.endsWith('.svg'));
  assert.ok(svgs.includes('std-histogram.svg') && svgs.includes('rogue-dims.svg') && svgs.includes('metrics-glance.svg'), svgs.join(' '));
  for (const f of svgs) {
    const svg = readFileSync(join(dir, f), 'utf8');
    assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const caption = readFileSync(join(dir, f.replace('.svg', '.caption.txt')), 'utf8');
    assert.ok(caption.split('\n\n').length >= 2 && caption.length > 60, f);
  }
  assert.match(readFileSync(join(dir, 'std-histogram.caption.txt'), 'utf8'), /^Spread of the per-dimension standard deviations \(the paper's Figure 1\)\n\n/);
  const pngs = files.filter((f) => f.endsWith('.png'));
  if (pngs.length) {
    assert.is(pngs.length, svgs.length);
    assert.equal([...readFileSync(join(dir, pngs[0])).subarray(1, 4)], [0x50, 0x4e, 0x47]);
  } else {
    // no rasterizer here: said once, SVG still written
    assert.is(r.stderr.match(/figures are SVG only/g)?.length, 1);
  }
});

test('--probe: analyze and report add the probe section; a bad probe file is refused before any work', () => {
  const probe = tmp.file('probe.json', new TextEncoder().encode(JSON.stringify(probeFixture())));
  const fromAnalyze = join(tmp.dir, 'analyze-probe.html');
  const a = isotropy('analyze', BASE, '--one-pass', '--probe', probe, '--out', fromAnalyze, '--json', '-q');
  assert.is(a.code, 0, a.stderr);
  assert.match(readFileSync(fromAnalyze, 'utf8'), '<section id="probe">');
  const json = tmp.file('p-analysis.json', new TextEncoder().encode(a.stdout));
  const out = join(tmp.dir, 'with-probe.html');
  const r = isotropy('report', json, '--probe', probe, '--out', out);
  assert.is(r.code, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  assert.match(html, '<section id="probe">');
  assert.match(html, /92\.4% ± 1\.9%/);
  const bad = tmp.file('bad-probe.json', new TextEncoder().encode(JSON.stringify({ ...probeFixture(), arms: [] })));
  failsCleanly(isotropy('report', json, '--probe', bad, '--out', join(tmp.dir, 'x.html')), /bad-probe\.json: "arms" is missing or empty; expected the output of `isotropy probe --json`/);
  failsCleanly(isotropy('analyze', BASE, '--probe', bad, '--out', join(tmp.dir, 'x.html')), /bad-probe\.json: "arms" is missing or empty/);
  failsCleanly(isotropy('report', json, '--probe', probe, '--out', probe), /refusing to overwrite the input file/);
  assert.not.ok(existsSync(join(tmp.dir, 'x.html')));
});

test('report: bad inputs give one line and exit 2', () => {
  failsCleanly(isotropy('report', join(tmp.dir, 'nope.json')), /nope\.json: no such file/);
  failsCleanly(isotropy('report', tmp.file('t.json', new TextEncoder().encode('{"a":'))), /t\.json: not JSON/);
  failsCleanly(isotropy('report', tmp.file('s.json', new TextEncoder().encode('{"schema":"isotropy.stats/v1"}'))), /s\.json: schema "isotropy.stats\/v1" is not isotropy.analysis\/v1/);
  const bare = isotropy('analyze', BASE, '--json', '--no-report').stdout;
  failsCleanly(isotropy('report', tmp.file('bare.json', new TextEncoder().encode(bare))), /holds no chart data \(it was saved with --no-report\)/);
});

test.run();
