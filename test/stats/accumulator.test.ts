import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StatsAccumulator } from '../../src/stats/accumulator.ts';
import { NonFiniteRowError, StatsError } from '../../src/stats/errors.ts';
import { anisotropic, maxRelDiff, naiveCovariance } from '../helpers/random.ts';

const N = 301, D = 9;
const X = anisotropic(N, D, 7);

function pushInBlocks(acc: StatsAccumulator, x: Float64Array, rows: number, block: number): StatsAccumulator {
  const d = acc.dims;
  for (let r = 0; r < rows; r += block) {
    const b = Math.min(block, rows - r);
    acc.push(x.subarray(r * d, (r + b) * d), b);
  }
  return acc;
}

test('mean and biased covariance equal the two-pass definition, whatever the block size', () => {
  const ref = naiveCovariance(X, N, D);
  for (const block of [1, 2, 7, 64, N]) {
    const acc = pushInBlocks(new StatsAccumulator(D), X, N, block);
    assert.is(acc.count, N);
    assert.ok(maxRelDiff(acc.mean, ref.mean, 1e-9) < 1e-12, `mean, block ${block}`);
    assert.ok(maxRelDiff(acc.covariance(), ref.cov, 1e-9) < 1e-11, `cov, block ${block}`);
  }
});

test('merge(a, b) equals the one-pass result over a + b', () => {
  const whole = pushInBlocks(new StatsAccumulator(D), X, N, 50);
  const a = pushInBlocks(new StatsAccumulator(D), X.subarray(0, 120 * D), 120, 33);
  const b = pushInBlocks(new StatsAccumulator(D), X.subarray(120 * D), N - 120, 17);
  a.merge(b);
  assert.is(a.count, whole.count);
  assert.ok(maxRelDiff(a.mean, whole.mean, 1e-9) < 1e-12);
  assert.ok(maxRelDiff(a.covariance(), whole.covariance(), 1e-9) < 1e-11);
  assert.ok(maxRelDiff(a.unitSum, whole.unitSum) < 1e-12);
  assert.equal(Array.from(a.min), Array.from(whole.min));
  assert.equal(Array.from(a.max), Array.from(whole.max));
});

test('merging an empty accumulator changes nothing; merging into one copies', () => {
  const a = pushInBlocks(new StatsAccumulator(D), X, N, 100);
  const before = a.covariance();
  a.merge(new StatsAccumulator(D));
  assert.equal(Array.from(a.covariance()), Array.from(before));
  const e = new StatsAccumulator(D).merge(a);
  assert.ok(maxRelDiff(e.covariance(), before) < 1e-15);
});

test('stays accurate when the mean dwarfs the spread (Chan update, not sum of squares)', () => {
  const rows = 1000;
  const x = new Float64Array(rows * 2);
  for (let r = 0; r < rows; r++) { x[2 * r] = 1e8 + (r % 2 ? 1 : -1); x[2 * r + 1] = 1e8 + (r % 4 < 2 ? 0.5 : -0.5); }
  const acc = pushInBlocks(new StatsAccumulator(2), x, rows, 64);
  const cov = acc.covariance();
  assert.ok(Math.abs(cov[0] - 1) < 1e-9, String(cov[0]));
  assert.ok(Math.abs(cov[3] - 0.25) < 1e-9, String(cov[3]));
});

test('JSON round trip is exact and versioned', () => {
  const acc = pushInBlocks(new StatsAccumulator(D), X, N, 64);
  acc.sources = [{ path: 'a.npy', rows: N, dtype: '<f4' }];
  const back = StatsAccumulator.fromJSON(JSON.parse(JSON.stringify(acc.toJSON())));
  assert.is(back.toJSON().schema, 'isotropy.stats/v1');
  assert.equal(Array.from(back.comoment.filter((_, k) => Math.floor(k / D) <= k % D)), Array.from(acc.comoment.filter((_, k) => Math.floor(k / D) <= k % D)));
  assert.equal(Array.from(back.mean), Array.from(acc.mean));
  assert.equal(back.sources, acc.sources);
  assert.is(back.count, N);
});

test('fromJSON refuses foreign and damaged objects with a StatsError', () => {
  assert.throws(() => StatsAccumulator.fromJSON({ schema: 'other' }), (e: Error) => e instanceof StatsError && /isotropy stats --out/.test(e.message));
  const j = new StatsAccumulator(3).toJSON();
  assert.throws(() => StatsAccumulator.fromJSON({ ...j, mean: 'AAAA' }), (e: Error) => e instanceof StatsError && /mean/.test(e.message));
  assert.throws(() => StatsAccumulator.fromJSON({ ...j, dims: -1 }), (e: Error) => e instanceof StatsError);
});

test('a NaN row is an error naming the first bad row, across blocks', () => {
  const x = X.slice(0, 40 * D);
  x[23 * D + 4] = NaN;
  x[30 * D] = Infinity;
  try {
    pushInBlocks(new StatsAccumulator(D), x, 40, 10);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, NonFiniteRowError);
    assert.is((e as NonFiniteRowError).row, 23);
    assert.match((e as Error).message, /row 23 \(0-based\) holds NaN in dimension 4.*--drop-nonfinite/);
  }
});

test('dropNonfinite skips and counts bad rows; the rest equals the clean data', () => {
  const x = X.slice(0, 40 * D);
  x[5 * D] = NaN; x[31 * D + 2] = -Infinity;
  const acc = new StatsAccumulator(D);
  for (let r = 0; r < 40; r += 8) acc.push(x.subarray(r * D, (r + 8) * D), 8, { dropNonfinite: true });
  const clean = new StatsAccumulator(D);
  for (let r = 0; r < 40; r++) if (r !== 5 && r !== 31) clean.push(x.subarray(r * D, (r + 1) * D), 1);
  assert.is(acc.nonfiniteRows, 2);
  assert.is(acc.count, 38);
  assert.ok(maxRelDiff(acc.covariance(), clean.covariance(), 1e-9) < 1e-12);
});

test('constant dimensions get exactly zero covariance and are flagged', () => {
  const rows = 30, x = new Float64Array(rows * 3);
  for (let r = 0; r < rows; r++) { x[3 * r] = r; x[3 * r + 1] = 0.1; x[3 * r + 2] = r * r; }
  const acc = pushInBlocks(new StatsAccumulator(3), x, rows, 7);
  assert.equal(Array.from(acc.constantMask()), [0, 1, 0]);
  const cov = acc.covariance();
  assert.equal([cov[1], cov[3], cov[4], cov[5], cov[7]], [0, 0, 0, 0, 0]);
});

test('zero rows are counted and left out of the unit sum', () => {
  const acc = new StatsAccumulator(2);
  acc.push(Float64Array.from([0, 0, 3, 4, 0, 0]), 3);
  assert.is(acc.zeroRows, 2);
  assert.ok(maxRelDiff(acc.unitSum, [0.6, 0.8]) < 1e-15);
});

test('merge refuses other dimensions', () => {
  assert.throws(() => new StatsAccumulator(3).merge(new StatsAccumulator(4)), /cannot merge/);
});

test.run();
