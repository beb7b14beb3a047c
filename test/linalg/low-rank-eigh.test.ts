// The low-rank eigensolver (pivoted Cholesky, then the small r x r problem) against the dense one,
// on the matrices an analysis of n << d rows makes: covariances and second moments of rank <= n.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eigh } from '../../src/linalg/eigh.ts';
import { eighLowRank } from '../../src/linalg/low-rank-eigh.ts';
import { gaussian } from '../helpers/random.ts';

/** W^T W of `n` random rows of `d` dims (centred when asked): rank n (n - 1). */
function gram(n: number, d: number, seed: number, centre = false): Float64Array {
  const g = gaussian(seed);
  const w = Float64Array.from({ length: n * d }, (_, i) => g() * (1 + (i % d) / d) + (i % 7 === 0 ? 3 : 0));
  if (centre) {
    for (let c = 0; c < d; c++) {
      let m = 0;
      for (let r = 0; r < n; r++) m += w[r * d + c] / n;
      for (let r = 0; r < n; r++) w[r * d + c] -= m;
    }
  }
  const out = new Float64Array(d * d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] += w[r * d + i] * w[r * d + j];
  return out;
}

for (const [n, d, centre] of [[2, 96, false], [3, 128, true], [9, 200, false], [1, 70, false]] as const) {
  test(`rank ${centre ? n - 1 : n} of ${d}: the same eigenvalues and eigenvectors as the dense solver`, () => {
    const m = gram(n, d, n * 31 + d, centre);
    const rank = centre ? n - 1 : n;
    const dense = eigh(m, d, { vectors: true });
    const low = eighLowRank(m, d, n, { vectors: true });
    const top = dense.values[0];
    assert.is(low.values.length, d);
    for (let k = 0; k < d; k++) assert.ok(Math.abs(low.values[k] - dense.values[k]) <= 1e-12 * top, `value ${k}: ${low.values[k]} vs ${dense.values[k]}`);
    for (let k = rank; k < d; k++) assert.is(low.values[k], 0);
    assert.is(low.cols, rank);
    // same unit vectors, same signs (largest entry positive), orthonormal
    for (let j = 0; j < low.cols; j++) {
      for (let i = 0; i < d; i++) {
        assert.ok(Math.abs(low.vectors![i * low.cols + j] - dense.vectors![i * d + j]) < 1e-9, `vector ${j} entry ${i}`);
      }
      for (let q = 0; q <= j; q++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += low.vectors![i * low.cols + j] * low.vectors![i * low.cols + q];
        assert.ok(Math.abs(dot - (q === j ? 1 : 0)) < 1e-12, `V^T V [${j}, ${q}] = ${dot}`);
      }
    }
  });
}

test('values only, top columns, a zero matrix, a non-finite one', () => {
  const m = gram(4, 80, 5);
  const values = eighLowRank(m, 80, 4).values;
  assert.equal(Array.from(values), Array.from(eighLowRank(m, 80, 4, { vectors: true }).values));
  assert.is(eighLowRank(m, 80, 4, { vectors: true, top: 2 }).cols, 2);
  const zero = eighLowRank(new Float64Array(64 * 64), 64, 3, { vectors: true });
  assert.is(zero.cols, 0);
  assert.ok(zero.values.every((v) => v === 0));
  const bad = new Float64Array(64 * 64);
  bad[0] = Infinity;
  assert.ok(eighLowRank(bad, 64, 3).values.every(Number.isNaN));
});

test.run();
