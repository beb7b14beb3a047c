// Every bad input: one clear line on stderr naming the file and the fix, exit code 2, no stack
// trace, nothing on stdout, no output file.
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildNpy, makeTempDir } from '../io/helpers.ts';
import { failsCleanly, isotropy } from './run.ts';
import { anisotropic } from '../helpers/random.ts';

const tmp = makeTempDir();
test.after(() => tmp.cleanup());

function f4(name: string, rows: number, dims: number, values?: Float64Array): string {
  return tmp.file(name, buildNpy({ descr: '<f4', shape: [rows, dims], values: values ?? anisotropic(rows, dims, rows + dims) }));
}


const good = f4('good.npy', 50, 4);

test('missing file', () => failsCleanly(isotropy('analyze', join(tmp.dir, 'nope.npy')), /nope\.npy: no such file/));

test('empty file', () => failsCleanly(isotropy('analyze', tmp.file('empty.npy', new Uint8Array(0))), /empty\.npy: .*empty/));

test('wrong magic', () => failsCleanly(isotropy('analyze', tmp.file('text.npy', new TextEncoder().encode('hello, world\n'.repeat(10)))), /text\.npy: not a \.npy file/));

test('truncated data', () => {
  const bytes = buildNpy({ descr: '<f4', shape: [50, 4], values: anisotropic(50, 4) });
  failsCleanly(isotropy('analyze', tmp.file('cut.npy', bytes.subarray(0, bytes.length - 10))), /cut\.npy: truncated/);
});

test('header shape not matching the size', () => {
  const bytes = buildNpy({ descr: '<f4', shape: [40, 4], data: new Uint8Array(50 * 4 * 4) });
  failsCleanly(isotropy('analyze', tmp.file('extra.npy', bytes)), /extra\.npy: .*after the data/);
});

test('object / pickle dtype is refused, never unpickled', () => {
  failsCleanly(isotropy('analyze', 'test/io/data/np_object.npy'), /np_object\.npy: .*pickle/);
  failsCleanly(isotropy('analyze', 'test/io/data/np_pickle.pkl'), /np_pickle\.pkl: .*pickle; isotropy never unpickles/);
});

test('1-D and 4-D arrays', () => {
  failsCleanly(isotropy('analyze', 'test/io/data/np_1d.npy'), /np_1d\.npy: .*2-D \(n, d\) or 3-D/);
  const four = tmp.file('four.npy', buildNpy({ descr: '<f4', shape: [2, 2, 2, 2], values: anisotropic(4, 4) }));
  failsCleanly(isotropy('analyze', four), /four\.npy: .*\(2, 2, 2, 2\)/);
});

test('n = 1', () => failsCleanly(isotropy('analyze', f4('one.npy', 1, 4)), /one\.npy: 1 usable row: statistics need at least 2 rows/));

test('n < d warns that the spectrum is rank-deficient, and still answers', () => {
  const r = isotropy('analyze', f4('wide.npy', 5, 8), '--json', '--no-report');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: .*wide\.npy: only 5 rows for 8 dimensions.*rank-deficient/);
  assert.is(JSON.parse(r.stdout).results[0].spectrum.eigenvalues.length, 8);
});

test('NaN/Inf rows: an error naming the first bad row; --drop-nonfinite skips and reports them', () => {
  const x = anisotropic(60, 4, 9);
  x[17 * 4 + 2] = NaN;
  x[42 * 4] = Infinity;
  const p = f4('nan.npy', 60, 4, x);
  failsCleanly(isotropy('analyze', p), /nan\.npy: row 17 \(0-based\) holds NaN in dimension 2.*--drop-nonfinite/);
  const r = isotropy('analyze', p, '--drop-nonfinite', '--json', '--no-report');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /dropped 2 row\(s\) holding NaN\/Inf/);
  const a = JSON.parse(r.stdout);
  assert.is(a.inputs[0].droppedRows, 2);
  assert.ok(a.results.every((res: any) => Number.isFinite(res.isoScore) && Number.isFinite(res.partitionIsotropy)));
  const t = isotropy('transform', p, join(tmp.dir, 'nan-out.npy'));
  failsCleanly(t, /row 17/);
  assert.ok(!readdirSync(tmp.dir).some((f) => f.startsWith('nan-out')), 'no partial output file');
});

test('constant dimensions: a warning, every metric still finite', () => {
  const x = anisotropic(40, 5, 3);
  for (let r = 0; r < 40; r++) x[r * 5 + 1] = 0.25;
  const file = f4('const.npy', 40, 5, x);
  const r = isotropy('analyze', file, '--json', '--no-report', '--transform', 'isobn,standardize,whiten,abtt');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /1 constant dimension\(s\) \(zero variance\): 1;/);
  assert.match(r.stderr, /IsoBN gives them its largest factor .*drop them first/, 'says what IsoBN does to them and the fix');
  const a = JSON.parse(r.stdout);
  for (const res of a.results) {
    for (const v of [res.meanNorm, res.std.mean, res.corr.meanAbs, res.corr.maxAbs, res.isoScore, res.avgCosine, res.spectrum.top1]) {
      assert.ok(Number.isFinite(v), `${res.transform}: ${JSON.stringify(res)}`);
    }
  }
  assert.is(a.results[0].constantDims, 1);
  const plain = isotropy('analyze', file, '--json', '--no-report', '--transform', 'none,whiten');
  assert.is(plain.code, 0, plain.stderr);
  assert.not.match(plain.stderr, /IsoBN/, 'the IsoBN remark only when an IsoBN view is asked for');
});

test('unknown flags, unknown transforms, bad parameters, missing arguments', () => {
  failsCleanly(isotropy('analyze', good, '--frobnicate'), /Unknown argument: frobnicate/);
  failsCleanly(isotropy('analyze', good, '--transform', 'isobm'), /unknown transform "isobm": choose from none, isobn/);
  failsCleanly(isotropy('analyze', good, '--eps', '-1'), /--eps must be/);
  failsCleanly(isotropy('analyze'), /Not enough non-option arguments/);
  failsCleanly(isotropy('launch'), /unknown command "launch": the commands are analyze, report, transform, stats, merge, extract, probe/);
  // a typo gets the nearest command
  failsCleanly(isotropy('anlyze', good), /unknown command "anlyze": did you mean `isotropy analyze`\?/);
  failsCleanly(isotropy('tranform', good), /did you mean `isotropy transform`/);
  failsCleanly(isotropy('merg'), /did you mean `isotropy merge`/);
  failsCleanly(isotropy('analyze', good, '--layer', '1'), /no layer axis/);
});

test('transform: output folder missing, output is a folder; no partial file', () => {
  failsCleanly(isotropy('transform', good, join(tmp.dir, 'no', 'such', 'out.npy')), /output folder .* does not exist/);
  mkdirSync(join(tmp.dir, 'adir'));
  failsCleanly(isotropy('transform', good, join(tmp.dir, 'adir')), /is a directory/);
});

test('merge: missing and non-JSON files', () => {
  failsCleanly(isotropy('merge', join(tmp.dir, 'none.stats.json')), /none\.stats\.json: no such file/);
  writeFileSync(join(tmp.dir, 'garbage.json'), 'not json');
  failsCleanly(isotropy('merge', join(tmp.dir, 'garbage.json')), /garbage\.json: not JSON/);
});

test.run();
