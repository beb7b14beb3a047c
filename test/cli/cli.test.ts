import { readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readEmbeddings, writeNpy } from '../../src/io/index.ts';
import { makeTempDir } from '../io/helpers.ts';
import { isotropy } from './run.ts';

const EXAMPLE = 'fixtures/glove-100d-5k.npy';
const BASE = 'fixtures/golden/base_f8.npy';
const golden = JSON.parse(readFileSync('fixtures/golden/expected.json', 'utf8'));
const goldenBase = golden.cases.find((c: any) => c.file === 'base_f8.npy');
const tmp = makeTempDir();

test.after(() => tmp.cleanup());

test('analyze the bundled example: a table with both columns, exit 0, nothing on stderr', () => {
  const r = isotropy('analyze', EXAMPLE, '--no-report');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'fixtures/glove-100d-5k.npy');
  assert.match(r.stdout, '5000 rows x 100 dims, dtype <f4, C order');
  assert.match(r.stdout, /^metric\s+none\s+isobn$/m);
  for (const m of ['meanNorm', 'std.cv', 'corr.meanAbs', 'spectrum.effectiveRank', 'isoScore', 'partitionIsotropy', 'avgCosine']) {
    assert.match(r.stdout, new RegExp(`^${m.replace('.', '\\.')}\\s+\\S+\\s+\\S+$`, 'm'), m);
  }
  assert.is(r.stderr, '');
});

test('analyze --json prints the isotropy.analysis/v1 shape with numpy-exact numbers', () => {
  const r = isotropy('analyze', BASE, '--json', '--no-report');
  assert.is(r.code, 0, r.stderr);
  const a = JSON.parse(r.stdout);
  assert.is(a.schema, 'isotropy.analysis/v1');
  assert.equal(Object.keys(a.inputs[0]).slice(0, 5), ['path', 'rows', 'dims', 'dtype', 'fortranOrder']);
  assert.equal(a.inputs[0].path, BASE);
  assert.equal(a.results.map((x: any) => x.transform), ['none', 'isobn']);
  const keys = ['input', 'transform', 'meanNorm', 'std', 'corr', 'constantDims', 'spectrum', 'isoScore', 'partitionIsotropy', 'avgCosine', 'rogueDims'];
  assert.equal(Object.keys(a.results[0]), keys);
  assert.equal(Object.keys(a.results[0].std), ['mean', 'std', 'min', 'max', 'cv']);
  assert.equal(Object.keys(a.results[0].corr), ['meanAbs', 'maxAbs']);
  assert.equal(Object.keys(a.results[0].spectrum), ['top1', 'top10', 'effectiveRank', 'condition', 'eigenvalues']);
  assert.is(a.results[0].spectrum.eigenvalues.length, 12);
  assert.is(a.results[0].scale, undefined);
  assert.is(a.results[1].scale.length, 12);
  assert.ok(Math.abs(a.results[1].isoScore - goldenBase.results.isobn.isoScore) < 1e-12);
  assert.ok(Math.abs(a.results[1].scale[4] - goldenBase.results.isobn.scale[4]) < 1e-12);
});

test('analyze two files with --transform isobn,standardize; --transform none gives only the input', () => {
  const r = isotropy('analyze', BASE, 'fixtures/golden/base_f4.npy', '--transform', 'isobn,standardize', '--json', '--no-report');
  assert.is(r.code, 0, r.stderr);
  const a = JSON.parse(r.stdout);
  assert.is(a.inputs.length, 2);
  assert.equal(a.results.map((x: any) => `${x.input}:${x.transform}`), ['0:none', '0:isobn', '0:standardize', '1:none', '1:isobn', '1:standardize']);
  const t = isotropy('analyze', BASE, '--transform', 'none', '--json', '--no-report');
  assert.equal(JSON.parse(t.stdout).results.map((x: any) => x.transform), ['none']);
});

test('analyze --one-pass leaves I(W) and transformed cosines null; table shows "-"', () => {
  const a = JSON.parse(isotropy('analyze', BASE, '--json', '--one-pass', '--no-report').stdout);
  assert.is(a.results[0].partitionIsotropy, null);
  assert.is(a.results[1].avgCosine, null);
  assert.ok(a.results[0].avgCosine !== null, 'the input cosine comes from the first pass');
  assert.match(isotropy('analyze', BASE, '--one-pass', '--no-report').stdout, /^partitionIsotropy\s+n\/a\s+n\/a$/m);
});

test('analyze an (n, L, d) file: default last layer, --layer picks another', () => {
  const a = JSON.parse(isotropy('analyze', 'fixtures/golden/layers_f4.npy', '--json', '--no-report').stdout);
  assert.equal(a.inputs[0].shape, [200, 3, 12]);
  assert.is(a.inputs[0].layer, 2);
  const b = JSON.parse(isotropy('analyze', 'fixtures/golden/layers_f4.npy', '--json', '--layer', '0', '--no-report').stdout);
  assert.is(b.inputs[0].layer, 0);
  const want = golden.cases.find((c: any) => c.file === 'layers_f4.npy' && c.layer === 0).results.none.isoScore;
  assert.ok(Math.abs(b.results[0].isoScore - want) < 1e-9);
});

test('transform writes x * scale to a new file, atomically, and never over its input', async () => {
  const out = join(tmp.dir, 'out.npy');
  const r = isotropy('transform', BASE, out, '--method', 'isobn');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /out\.npy: 200 x 12 <f8, isobn \(eps=0\.001 beta=0\.5\)/);
  const x = await readEmbeddings(BASE);
  const y = await readEmbeddings(out);
  assert.is(y.dtype, '<f8');
  const scale = goldenBase.results.isobn.scale;
  for (let k = 0; k < x.data.length; k++) assert.ok(Math.abs(y.data[k] - x.data[k] * scale[k % 12]) <= 1e-12 * Math.abs(y.data[k]) + 1e-15);
  assert.equal(readdirSync(tmp.dir).filter((f) => f.includes('.tmp-')), []);

  const f32 = isotropy('transform', BASE, join(tmp.dir, 'w.npy'), '--method', 'whiten', '--keep', '5', '--dtype', 'f32');
  assert.is(f32.code, 0, f32.stderr);
  assert.equal((await readEmbeddings(join(tmp.dir, 'w.npy'))).shape, [200, 5]);

  const before = readFileSync(BASE);
  const self = isotropy('transform', BASE, BASE);
  assert.is(self.code, 2);
  assert.match(self.stderr, /refusing to overwrite the input file/);
  const link = join(tmp.dir, 'link.npy');
  symlinkSync(join(process.cwd(), BASE), link);
  assert.is(isotropy('transform', link, BASE).code, 2);
  assert.is(isotropy('transform', BASE, link).code, 2);
  assert.ok(readFileSync(BASE).equals(before), 'the input is untouched');
});

test('stats --save on shards, then merge, equals the one-pass analysis of the whole file', async () => {
  const x = await readEmbeddings(BASE);
  const cut = 77 * 12;
  await writeNpy(join(tmp.dir, 'part1.npy'), x.data.subarray(0, cut), 77, 12, { dtype: 'f8' });
  await writeNpy(join(tmp.dir, 'part2.npy'), x.data.subarray(cut), 123, 12, { dtype: 'f8' });
  for (const p of ['part1', 'part2']) {
    const s = isotropy('stats', join(tmp.dir, `${p}.npy`), '--save', join(tmp.dir, `${p}.stats.json`));
    assert.is(s.code, 0, s.stderr);
    assert.match(s.stdout, /statistics of \d+ rows x 12 dims/);
  }
  const m = isotropy('merge', join(tmp.dir, 'part1.stats.json'), join(tmp.dir, 'part2.stats.json'), '--json', '--save', join(tmp.dir, 'all.stats.json'));
  assert.is(m.code, 0, m.stderr);
  const merged = JSON.parse(m.stdout);
  const whole = JSON.parse(isotropy('analyze', BASE, '--json', '--one-pass', '--no-report').stdout);
  assert.is(merged.inputs[0].rows, 200);
  assert.equal(merged.inputs[0].shards.length, 2);
  for (const k of [0, 1]) {
    const a = merged.results[k], b = whole.results[k];
    for (const f of ['meanNorm', 'isoScore'] as const) assert.ok(Math.abs(a[f] - b[f]) <= 1e-12 * Math.abs(b[f]), f);
    assert.ok(Math.abs(a.spectrum.top1 - b.spectrum.top1) < 1e-12);
    assert.is(a.partitionIsotropy, null);
  }
  assert.ok(Math.abs(merged.results[0].avgCosine - whole.results[0].avgCosine) < 1e-12);
  assert.is(JSON.parse(readFileSync(join(tmp.dir, 'all.stats.json'), 'utf8')).count, 200);
  // stdout without --save is the statistics JSON itself
  assert.is(JSON.parse(isotropy('stats', BASE).stdout).schema, 'isotropy.stats/v1');
});

test('merge refuses what it cannot do, in one line', () => {
  const notStats = join(tmp.dir, 'not-stats.json');
  writeFileSync(notStats, '{"schema": "isotropy.analysis/v1"}');
  const r = isotropy('merge', notStats);
  assert.is(r.code, 2);
  assert.match(r.stderr, /not-stats\.json: not an isotropy statistics file/);
  const s = isotropy('stats', BASE, '--save', join(tmp.dir, 'b.stats.json'));
  assert.is(s.code, 0);
  const run = isotropy('merge', join(tmp.dir, 'b.stats.json'), '--transform', 'isobn-running');
  assert.is(run.code, 2);
  assert.match(run.stderr, /holds no isobn-running state: make every shard with isotropy stats --transform isobn-running/);
});

test('--help and --version work', () => {
  const h = isotropy('--help');
  assert.is(h.code, 0);
  for (const c of ['analyze', 'transform', 'stats', 'merge']) assert.match(h.stdout, c);
  assert.match(isotropy('--version').stdout, /^\d+\.\d+\.\d+/);
});

test.run();
