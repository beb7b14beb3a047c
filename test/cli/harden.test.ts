// What a new user hits: output paths checked before the work, one output flag (--out/-o) in every
// command, the memory budget on the command line, degenerate data as n/a, the report's own
// failures (hostile labels, unknown transforms, no report folder) as one clear line.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildNpy, makeTempDir } from '../io/helpers.ts';
import { anisotropic } from '../helpers/random.ts';
import { failsCleanly, isotropy, isotropyIn, ROOT } from './run.ts';

const tmp = makeTempDir();
test.after(() => tmp.cleanup());

function f4(name: string, rows: number, dims: number, values?: Float64Array): string {
  return tmp.file(name, buildNpy({ descr: '<f4', shape: [rows, dims], values: values ?? anisotropic(rows, dims, rows + dims) }));
}


const good = f4('good.npy', 60, 5);
// a NaN in row 40: reading the rows fails, so an error about the output proves it came first
const late = (() => { const x = anisotropic(60, 5, 3); x[40 * 5 + 1] = NaN; return f4('late-nan.npy', 60, 5, x); })();
const missing = join(tmp.dir, 'no', 'such');

test('every output path is checked before the work: analyze, transform, stats, merge', () => {
  failsCleanly(isotropy('analyze', late, '--out', join(missing, 'r.html')), /r\.html: the output folder .* does not exist/);
  failsCleanly(isotropy('transform', late, '--out', join(missing, 'o.npy')), /o\.npy: the output folder .* does not exist/);
  failsCleanly(isotropy('stats', late, '-o', join(missing, 's.json')), /s\.json: the (output )?folder .* does not exist/);
  const shard = join(tmp.dir, 'good.stats.json');
  assert.is(isotropy('stats', good, '--out', shard).code, 0);
  failsCleanly(isotropy('merge', shard, '--out', join(missing, 'm.html')), /m\.html: the (output )?folder .* does not exist/);
  failsCleanly(isotropy('merge', shard, '--save', join(missing, 'm.json')), /m\.json: the (output )?folder .* does not exist/);
  failsCleanly(isotropy('analyze', late, '--out', late), /refusing to overwrite the input file/);
});

test('--out/-o in every command; the old spellings still work (stats --save, transform\'s second argument, --method)', () => {
  const a = join(tmp.dir, 'a.stats.json'), b = join(tmp.dir, 'b.stats.json');
  assert.is(isotropy('stats', good, '-o', a).code, 0);
  assert.is(isotropy('stats', good, '--save', b).code, 0);
  assert.equal(JSON.parse(readFileSync(a, 'utf8')).mean, JSON.parse(readFileSync(b, 'utf8')).mean);
  // merge: -o is its report (as analyze's), --save the merged statistics
  const m = join(tmp.dir, 'm.stats.json'), mh = join(tmp.dir, 'm.html');
  const r = isotropy('merge', a, '-o', mh, '--save', m, '-q');
  assert.is(r.code, 0, r.stderr);
  assert.ok(existsSync(m));
  assert.match(readFileSync(mh, 'utf8'), /^<!DOCTYPE html>/i);
  const t1 = join(tmp.dir, 't1.npy'), t2 = join(tmp.dir, 't2.npy'), t3 = join(tmp.dir, 't3.npy');
  assert.is(isotropy('transform', good, '-o', t1, '--transform', 'standardize', '-q').code, 0);
  assert.is(isotropy('transform', good, t2, '--method', 'standardize', '-q').code, 0);
  assert.is(isotropy('transform', good, '--out', t3, '-t', 'standardize', '-q').code, 0);
  assert.equal(readFileSync(t1), readFileSync(t2));
  assert.equal(readFileSync(t1), readFileSync(t3));
  failsCleanly(isotropy('transform', good), /name the output .npy/);
  failsCleanly(isotropy('transform', good, '--transform', 'isobn,whiten', '-o', join(tmp.dir, 't4.npy')), /--transform takes one transform name/);
});

test('--max-memory: a refusal before any work, one line with the need, the budget and the flags to change', () => {
  failsCleanly(isotropy('analyze', late, '--max-memory', '100K'), /late-nan\.npy: analyzing 5 dimensions needs about .* more than the budget of 100 KiB \(--max-memory\); use fewer transforms, .*--no-report/);
  failsCleanly(isotropy('analyze', good, '--max-memory', 'plenty'), /--max-memory must be a size such as 8G, 512M or 50%, got "plenty"/);
  failsCleanly(isotropy('stats', late, '--max-memory', '1K'), /statistics of 5 dimensions needs about/);
  failsCleanly(isotropy('transform', late, '-o', join(tmp.dir, 'x.npy'), '--max-memory', '1K'), /fitting isobn to 5 dimensions needs about/);
  assert.is(isotropy('analyze', good, '--no-report', '-q', '--max-memory', '2G').code, 0);
});

test('degenerate data: "n/a" in the table and a warning with the reason; never NaN', () => {
  const same = f4('same.npy', 30, 4, Float64Array.from({ length: 120 }, (_, i) => [1, 2, 3, 4][i % 4]));
  const r = isotropy('analyze', same, '--no-report');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^isoScore\s+n\/a\s+n\/a$/m);
  assert.match(r.stdout, /^corr\.meanAbs\s+n\/a\s+n\/a$/m);
  assert.match(r.stdout, /^avgCosine\s+1\s+n\/a$/m);
  assert.not.match(r.stdout, 'NaN');
  assert.match(r.stderr, /warning: .*same\.npy: every row is the same/);
  assert.match(r.stderr, /warning: .*isoScore.* are n\/a \(none, isobn\): no variance: every row is the same/);
  const j = JSON.parse(isotropy('analyze', same, '--no-report', '--json', '-q').stdout);
  assert.is(j.results[0].isoScore, null);
  assert.match(j.results[0].nullReasons.isoScore, 'no variance');
});

test('the text output names the backend that ran', () => {
  const r = isotropy('analyze', good, '--no-report', '--backend', 'js');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^backend: js, 1 thread\(s\)/m);
});

test('report: labels holding U+2028 and quotes with two inputs render (no user string reaches a vega expression)', () => {
  const out = join(tmp.dir, 'hostile.html');
  const r = isotropy('analyze', good, late.replace('late-nan', 'good'), '--label', 'a\u2028b\u2029c', '--label', `"'</script>\${x}\\`, '-q', '-o', out);
  assert.is(r.code, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  assert.not.match(html, '</script>${x}');
  assert.match(html, /<svg/);
});

test('report: an analysis with an unknown transform, or NaN where a number belongs, is refused on read', () => {
  const json = join(tmp.dir, 'a.json');
  const r = isotropy('analyze', good, '--json', '-q', '-o', join(tmp.dir, 'a.html'));
  assert.is(r.code, 0, r.stderr);
  const a = JSON.parse(r.stdout);
  a.results[1].transform = 'isobn-2000';
  writeFileSync(json, JSON.stringify(a));
  failsCleanly(isotropy('report', json, '-o', join(tmp.dir, 'b.html')), /results\[1\]\.transform "isobn-2000" is not a transform this version knows/);
  a.results[1].transform = 'isobn';
  a.results[1].isoScore = 'NaN';
  writeFileSync(json, JSON.stringify(a));
  failsCleanly(isotropy('report', json, '-o', join(tmp.dir, 'b.html')), /results\[1\]\.isoScore is not a finite number or null/);
  assert.not.ok(existsSync(join(tmp.dir, 'b.html')));
});

test('no writable default report folder: a file named reports is in the way; said before the work', () => {
  const cwd = join(tmp.dir, 'cwd-with-file');
  mkdirSync(cwd);
  writeFileSync(join(cwd, 'reports'), 'not a folder');
  failsCleanly(isotropyIn(cwd, 'analyze', late), /cannot write the report into .*reports\/: a file named reports is in the way; pass --out <file\.html> to write the report elsewhere, or --no-report/);
  const saved = join(tmp.dir, 'saved.json');
  writeFileSync(saved, isotropy('analyze', good, '--json', '-q', '-o', join(tmp.dir, 's.html')).stdout);
  failsCleanly(isotropyIn(cwd, 'report', saved), /a file named reports is in the way/);
});

test('a PyTorch file gets the conversion line', () => {
  failsCleanly(isotropy('analyze', join(ROOT, 'fixtures/formats/tensor.pt')), /tensor\.pt: is a PyTorch file .* np\.save\('emb\.npy', t\.detach\(\)\.cpu\(\)\.float\(\)\.numpy\(\)\)/);
});

test('errors name the CLI flag where the library names its option', () => {
  failsCleanly(isotropy('analyze', late), /row 40 \(0-based\) holds NaN in dimension 1: fix the embeddings, or set --drop-nonfinite/);
  failsCleanly(isotropy('analyze', good, '--transform', 'isobn-running', '--batch-size', '100'), /no full batch of 100.*--batch-size.*--keep-last-batch/);
  assert.is(isotropy('analyze', good, '--transform', 'isobn-running', '--batch-size', '100', '--keep-last-batch', '--no-report', '-q').code, 0);
  failsCleanly(isotropy('analyze', good, '--sample-rows', '9999'), /--sample-rows must be a whole number from 0 to 5000/);
});

test('nothing is left behind in the output folders', () => {
  assert.equal(readdirSync(tmp.dir).filter((f) => f.includes('.tmp-')), []);
  assert.ok(ROOT);
});

test.run();
