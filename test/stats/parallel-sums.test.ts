// The pieces that let the passes run on several threads: partial statistics and partition sums
// merge into the same numbers as one pass over all rows, and the fast exp behind the sums.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addGramUpper } from '../../src/linalg/gram.ts';
import { StatsAccumulator } from '../../src/stats/accumulator.ts';
import { EXP_FLOOR, expNonPositive } from '../../src/linalg/fast-exp.ts';
import { PartitionSums } from '../../src/stats/partition-isotropy.ts';
import { anisotropic, maxRelDiff } from '../helpers/random.ts';

const N = 257, D = 7;
const X = anisotropic(N, D, 11);

test('addFinite in chunks with another Gram kernel equals push', () => {
  const a = new StatsAccumulator(D);
  a.push(X, N);
  let calls = 0;
  const b = new StatsAccumulator(D);
  b.addFinite(X, N, (x, rows, dims, out) => { calls++; addGramUpper(x, rows, dims, out); }, 50);
  assert.is(calls, 6);
  assert.is(b.count, N);
  assert.is(b.seen, N);
  assert.ok(maxRelDiff(b.mean, a.mean) < 1e-13);
  assert.ok(maxRelDiff(b.covariance(), a.covariance(), 1e-12) < 1e-12);
  assert.equal(Array.from(b.min), Array.from(a.min));
  assert.ok(maxRelDiff(b.unitSum, a.unitSum) < 1e-13);
});

test('partial accumulators of interleaved blocks merge into the whole', () => {
  const whole = new StatsAccumulator(D);
  whole.push(X, N);
  const parts = [new StatsAccumulator(D), new StatsAccumulator(D), new StatsAccumulator(D)];
  for (let r = 0, k = 0; r < N; r += 16, k++) {
    const b = Math.min(16, N - r);
    parts[k % 3].addFinite(X.subarray(r * D, (r + b) * D), b);
  }
  const merged = new StatsAccumulator(D);
  for (const p of parts) merged.merge(p);
  assert.is(merged.count, N);
  assert.ok(maxRelDiff(merged.covariance(), whole.covariance(), 1e-12) < 1e-12);
  assert.ok(maxRelDiff(merged.mean, whole.mean) < 1e-13);
});

test('PartitionSums: strided columns, and merged partial sums equal one pass', () => {
  const k = 3, rows = 200, stride = 5;
  const proj = anisotropic(rows, stride, 3).map((v) => v * 20);
  const one = new PartitionSums(k);
  one.add(proj, rows, stride, 2);
  // the same columns, dense
  const dense = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) dense[r * k + j] = proj[r * stride + 2 + j];
  const ref = new PartitionSums(k);
  ref.add(dense, rows);
  assert.ok(maxRelDiff(one.logZ(), ref.logZ()) < 1e-14);
  // by hand, with Math.exp
  for (let j = 0; j < k; j++) {
    let m = -Infinity;
    for (let r = 0; r < rows; r++) m = Math.max(m, dense[r * k + j]);
    let s = 0;
    for (let r = 0; r < rows; r++) s += Math.exp(dense[r * k + j] - m);
    assert.ok(Math.abs(ref.logZ()[j] - (m + Math.log(s))) < 1e-12);
  }
  const a = new PartitionSums(k), b = new PartitionSums(k), empty = new PartitionSums(k);
  a.add(dense.subarray(0, 77 * k), 77);
  b.add(dense.subarray(77 * k), rows - 77);
  a.merge(b).merge(empty);
  assert.ok(maxRelDiff(a.logZ(), ref.logZ()) < 1e-14);
  assert.ok(maxRelDiff(new PartitionSums(k).merge(ref.state()).logZ(), ref.logZ()) === 0);
});

test('expNonPositive: within 1e-14 of Math.exp on [-50, 0], 0 below', () => {
  let worst = 0;
  for (let i = 0; i <= 200000; i++) {
    const x = -50 * (i / 200000) ** 1.5;
    worst = Math.max(worst, Math.abs(expNonPositive(x) / Math.exp(x) - 1));
  }
  assert.ok(worst < 1e-14, String(worst));
  assert.is(expNonPositive(0), 1);
  assert.is(expNonPositive(EXP_FLOOR - 1e-9), 0);
  assert.is(expNonPositive(-Infinity), 0);
});

test.run();
