// The probe on data with known answers: separable classes are learned perfectly, shuffled labels
// are not learned at all; runs are reproducible; labels are read from every format.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeLabels, probe, probeFiles, readLabels, stratifiedFolds, ProbeError, type EncodedLabels } from '../../src/probe/index.ts';
import { buildNpy, makeTempDir } from '../io/helpers.ts';
import { gaussian, rng } from '../helpers/random.ts';

const tmp = makeTempDir();
test.after(() => tmp.cleanup());

/** Two Gaussian blobs 4 std apart along dim 0, in `dims` dims with unequal scales. */
function blobs(n: number, dims: number, seed: number): { data: Float64Array; y: Int32Array } {
  const g = gaussian(seed);
  const data = new Float64Array(n * dims);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let j = 0; j < dims; j++) data[i * dims + j] = g() * (0.2 + j) + (j === 0 ? (y[i] ? 4 : -4) : 0);
  }
  return { data, y };
}

function classes(y: Int32Array): EncodedLabels {
  const counts = [0, 0];
  for (const c of y) counts[c]++;
  return { classes: ['a', 'b'], y, counts };
}

const FAST = { folds: 3, seeds: 2, epochs: 8, batchSize: 8, learningRate: 0.05, hidden: 8 } as const;

test('separable classes: every probe, with and without IsoBN, reaches 100%', async () => {
  const { data, y } = blobs(48, 4, 1);
  const r = await probe({ data, rows: 48, dims: 4 }, classes(y), { ...FAST, isobn: true });
  assert.equal(r.arms.map((a) => [a.model, a.isobn]), [['linear', false], ['linear', true], ['mlp', false], ['mlp', true]]);
  for (const a of r.arms) {
    assert.is(a.accuracy.mean, 1, `${a.model} isobn=${a.isobn}`);
    assert.is(a.runs.length, FAST.folds * FAST.seeds);
    assert.ok(a.epochsToFinal.mean >= 1 && a.epochsToFinal.mean <= FAST.epochs);
    assert.is(a.curve.length, FAST.epochs);
  }
  assert.is(r.majority, 0.5);
  // paired comparison: both arms at 100% in every run
  assert.equal(r.arms[1].vsPlain, { mean: 0, std: 0, better: 0, worse: 0, same: FAST.folds * FAST.seeds });
  assert.is(r.arms[0].vsPlain, undefined);
  // IsoBN evens out the per-dimension stds the classifier sees (the blobs' are 0.2 .. 3.2)
  const plain = r.arms[0].isotropy!, after = r.arms[1].isotropy!;
  assert.ok(after['std.cv']!.mean < plain['std.cv']!.mean);
  assert.is(plain['std.cv']!.std, 0);
});

test('shuffled labels stay near chance', async () => {
  const { data } = blobs(96, 4, 2);
  const next = rng(7);
  const y = Int32Array.from({ length: 96 }, (_, i) => i % 2);
  for (let i = y.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [y[i], y[j]] = [y[j], y[i]];
  }
  const r = await probe({ data, rows: 96, dims: 4 }, classes(y), { ...FAST, models: ['linear'], isotropy: false });
  const acc = r.arms[0].accuracy.mean;
  assert.ok(acc > 0.3 && acc < 0.7, `accuracy ${acc}`);
  assert.is(r.arms[0].isotropy, null);
});

test('deterministic: the same options give the same numbers', async () => {
  const { data, y } = blobs(40, 3, 3);
  const opts = { ...FAST, seeds: 1, epochs: 3, learningRate: 0.01, isobn: true, isotropy: false };
  const a = await probe({ data, rows: 40, dims: 3 }, classes(y), opts);
  const b = await probe({ data, rows: 40, dims: 3 }, classes(y), opts);
  assert.equal(a.arms, b.arms);
  const c = await probe({ data, rows: 40, dims: 3 }, classes(y), { ...opts, seed: 1 });
  assert.not.equal(c.arms.map((x) => x.curve), a.arms.map((x) => x.curve));
});

test('stratified folds: balanced sizes and class proportions', () => {
  const y = Int32Array.from({ length: 30 }, (_, i) => (i < 20 ? 0 : 1));
  const fold = stratifiedFolds(y, 2, 5, 11);
  for (let f = 0; f < 5; f++) {
    const rows = [...fold.keys()].filter((i) => fold[i] === f);
    assert.is(rows.length, 6);
    assert.is(rows.filter((i) => y[i] === 1).length, 2);
  }
});

test('labels: text, CSV column, TSV, JSONL field, numbers split by a threshold', async () => {
  const text = await readLabels(tmp.file('l.txt', new TextEncoder().encode('pos\r\nneg\n pos \n')));
  assert.equal(text.values, ['pos', 'neg', 'pos']);
  assert.equal(encodeLabels(text).classes, ['neg', 'pos']);
  assert.equal(Array.from(encodeLabels(text).y), [1, 0, 1]);
  const csv = await readLabels(tmp.file('l.csv', new TextEncoder().encode('\ufeffword,"label, y"\nhappy,"1"\nsad,-2\n"x,y",3\n')), { column: 'label, y' });
  assert.equal(csv.values, ['1', '-2', '3']);
  assert.equal(csv.lines, [2, 3, 4]);
  const enc = encodeLabels(csv, { threshold: 0 });
  assert.equal(enc.classes, ['<= 0', '> 0']);
  assert.equal(Array.from(enc.y), [1, 0, 1]);
  assert.equal(enc.counts, [1, 2]);
  const tsv = await readLabels(tmp.file('l.tsv', new TextEncoder().encode('a\tb\n1\tx\n2\ty\n')), { column: '1' });
  assert.equal(tsv.values, ['x', 'y']);
  const jsonl = await readLabels(tmp.file('l.jsonl', new TextEncoder().encode('{"m":{"v":-1}}\n{"m":{"v":2.5}}\n')), { column: 'm.v' });
  assert.equal(jsonl.values, [-1, 2.5]);
  assert.equal(encodeLabels(jsonl, { threshold: 0 }).counts, [1, 1]);
});

test('labels given in code: an array in row order encodes as the same labels read from a file', async () => {
  const file = encodeLabels(await readLabels(tmp.file('v.txt', new TextEncoder().encode('3\n-2\n1\n-1\n'))), { threshold: 0 });
  const inCode = encodeLabels([3, -2, 1, -1], { threshold: 0 });
  assert.equal(inCode.classes, file.classes);
  assert.equal(Array.from(inCode.y), Array.from(file.y));
  assert.equal(encodeLabels(['pos', 'neg', true, 'pos']).classes, ['neg', 'pos', 'true']);
  await rejects(() => encodeLabels([1, 'lots', 2], { threshold: 0 }), /^labels\[1\]: label "lots" is not a number/);
  await rejects(() => encodeLabels(['a', 'a']), /^labels: all 2 labels are in one class \("a"\)/);
});

async function rejects(p: Promise<unknown> | (() => unknown), re: RegExp): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    assert.instance(e, ProbeError);
    assert.match((e as Error).message, re);
    assert.not.match((e as Error).message, /\n/);
    return;
  }
  assert.unreachable(`expected ${re}`);
}

test('bad labels: count mismatch, one class, non-numeric with --threshold, empty, missing column', async () => {
  const { data } = blobs(6, 2, 4);
  const npy = tmp.file('six.npy', buildNpy({ descr: '<f8', shape: [6, 2], values: data }));
  const five = tmp.file('five.txt', new TextEncoder().encode('a\nb\na\nb\na\n'));
  await rejects(probeFiles(npy, five), /five\.txt: 5 labels for the 6 rows of .*six\.npy/);
  const one = tmp.file('one.txt', new TextEncoder().encode('a\na\na\na\na\na\n'));
  await rejects(probeFiles(npy, one), /one\.txt: all 6 labels are in one class \("a"\)/);
  const words = tmp.file('words.txt', new TextEncoder().encode('1\n2\n-1\nlots\n3\n4\n'));
  await rejects(probeFiles(npy, words, { threshold: 0 }), /words\.txt: line 4: label "lots" is not a number/);
  const gap = tmp.file('gap.txt', new TextEncoder().encode('a\nb\n\na\nb\na\n'));
  await rejects(probeFiles(npy, gap), /gap\.txt: line 3 has an empty label/);
  const csv = tmp.file('c.csv', new TextEncoder().encode('x,y\n1,2\n'));
  await rejects(readLabels(csv, { column: 'z' }), /c\.csv: no column "z"/);
  await rejects(readLabels(csv), /give --label-column/);
  await rejects(readLabels(tmp.file('bad.jsonl', new TextEncoder().encode('{"y": 1}\n[1]\n')), { column: 'y' }), /line 2 is not a JSON object/);
  await rejects(readLabels(`${tmp.dir}/none.txt`), /none\.txt: no such file/);
  const nonfinite = Float64Array.from(data);
  nonfinite[5] = NaN;
  await rejects(probe({ data: nonfinite, rows: 6, dims: 2 }, classes(Int32Array.from([0, 1, 0, 1, 0, 1]))), /row 2 holds NaN/);
  await rejects(probe({ data, rows: 6, dims: 2 }, classes(Int32Array.from([0, 1, 0, 1, 0, 1])), { folds: 7 }), /--folds \(folds\) must be a whole number from 2 to 6/);
});

test.run();
