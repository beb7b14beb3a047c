// `isotropy probe` end to end (the built binary): the table, --json and --out, and one-line errors
// with exit code 2 for bad labels.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildNpy, makeTempDir } from '../io/helpers.ts';
import { gaussian } from '../helpers/random.ts';
import { failsCleanly, ROOT, isotropy } from './run.ts';

const tmp = makeTempDir();
test.after(() => tmp.cleanup());
const text = (s: string) => new TextEncoder().encode(s);

const g = gaussian(5);
const N = 24;
const values = Float64Array.from({ length: N * 3 }, (_, k) => g() + (k % 3 === 0 ? (Math.floor(k / 3) % 2 ? 3 : -3) : 0));
const emb = tmp.file('emb.npy', buildNpy({ descr: '<f4', shape: [N, 3], values }));
const labels = tmp.file('labels.csv', text('id,valence\n' + Array.from({ length: N }, (_, i) => `${i},${i % 2 ? 2 : -1}`).join('\n') + '\n'));
const FAST = ['--folds', '3', '--seeds', '1', '--epochs', '4', '--batch-size', '4', '--lr', '0.05', '--hidden', '4', '-q'];


test('probe prints the table; --json and --out give the isotropy.probe/v1 result', () => {
  const r = isotropy('probe', emb, '--labels', labels, '--label-column', 'valence', '--threshold', '0', '--isobn', ...FAST);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 classes \(<= 0: 12, > 0: 12\)/);
  assert.match(r.stdout, /linear\s+no\s+\d+\.\d%/);
  assert.match(r.stdout, /mlp\s+yes\s+100\.0%/);
  assert.match(r.stdout, /after IsoBN \(mlp runs\)/);
  const out = join(tmp.dir, 'probe.json');
  const j = isotropy('probe', emb, '--labels', labels, '--label-column', 'valence', '--threshold', '0', '--models', 'linear', '--json', '--out', out, ...FAST);
  assert.is(j.code, 0, j.stderr);
  const result = JSON.parse(j.stdout);
  assert.is(result.schema, 'isotropy.probe/v1');
  assert.equal(result.arms.map((a: any) => [a.model, a.isobn]), [['linear', false]]);
  assert.is(result.labels.threshold, 0);
  assert.equal(JSON.parse(readFileSync(out, 'utf8')), result);
});

test('probe reads any input the analysis reads, with its flags and its errors: a safetensors tensor (--key)', () => {
  const st = join(ROOT, 'fixtures/formats/tensors.safetensors');
  const rows = (JSON.parse(readFileSync(join(ROOT, 'fixtures/formats/base.json'), 'utf8')) as { rows: number[][] }).rows;
  const signs = tmp.file('signs.txt', text(rows.map((r) => (r[7] > 0 ? 'pos' : 'neg')).join('\n') + '\n'));
  const r = isotropy('probe', st, '--key', 'emb', '--labels', signs, '--models', 'linear', '--json', ...FAST);
  assert.is(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.input, { path: st, rows: 257, dims: 12 });
  assert.ok(result.arms[0].accuracy.mean > 0.75, `accuracy ${result.arms[0].accuracy.mean}`);
  // the same one-line error as analyze for the same flags
  const probeErr = isotropy('probe', st, '--labels', signs, ...FAST);
  failsCleanly(probeErr, /has 4 2-D\/3-D tensors: .*pick one with the key option \(--key\)/);
  assert.is(probeErr.stderr, isotropy('analyze', st, '-q').stderr);
  failsCleanly(isotropy('probe', emb, '--labels', labels, '--label-word', 'id', '--label-column', 'valence', ...FAST), /emb\.npy: --label-word joins labels to rows by word, but the rows of this file carry no words/);
});

test('bad labels: one line, exit 2', () => {
  const short = tmp.file('short.txt', text('a\nb\n'));
  failsCleanly(isotropy('probe', emb, '--labels', short, ...FAST), /short\.txt: 2 labels for the 24 rows of .*emb\.npy/);
  const one = tmp.file('one.txt', text('x\n'.repeat(N)));
  failsCleanly(isotropy('probe', emb, '--labels', one, ...FAST), /all 24 labels are in one class/);
  failsCleanly(isotropy('probe', emb, '--labels', labels, '--label-column', 'id', '--threshold', 'x', ...FAST), /threshold/i);
  const words = tmp.file('words.txt', text('1\n'.repeat(N - 1) + 'high\n'));
  failsCleanly(isotropy('probe', emb, '--labels', words, '--threshold', '0', ...FAST), /words\.txt: line 24: label "high" is not a number/);
  failsCleanly(isotropy('probe', emb, '--labels', labels, '--models', 'svm', ...FAST), /--models: unknown classifier "svm"/);
  failsCleanly(isotropy('probe', emb, '--labels', labels, '--label-column', 'valence', '--out', join(tmp.dir, 'no', 'x.json'), ...FAST), /--out .*does not exist/);
});

test.run();
