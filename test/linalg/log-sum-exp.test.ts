// The streaming two-sided log-sum-exp behind I(W): the SIMD kernel against the plain loop and
// against Math.exp, including columns spread too wide for its division trick.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addLogSumExp, addLogSumExpPlain } from '../../src/linalg/log-sum-exp.ts';
import { gaussian } from '../helpers/random.ts';

function state(k: number) {
  return { maxPos: new Float64Array(k).fill(-Infinity), maxNeg: new Float64Array(k).fill(-Infinity), sumPos: new Float64Array(k), sumNeg: new Float64Array(k) };
}
const logZ = (s: ReturnType<typeof state>) => [...s.sumPos.map((v, j) => s.maxPos[j] + Math.log(v)), ...s.sumNeg.map((v, j) => s.maxNeg[j] + Math.log(v))];

test('kernel, plain loop and Math.exp agree over several blocks, odd k, strided columns, wide spreads', () => {
  const g = gaussian(5);
  const k = 7, stride = 10, offset = 2, rows = 3000;
  // column 3 spreads over about 2000 (the plain path), column 5 drifts up between blocks
  const proj = Float64Array.from({ length: rows * stride }, (_, i) => {
    const r = Math.floor(i / stride), j = (i % stride) - offset;
    return j === 3 ? 400 * g() : j === 5 ? g() * 10 + r / 10 : g() * 30;
  });
  const a = state(k), b = state(k);
  for (const [r0, r1] of [[0, 1], [1, 700], [700, 3000]]) {
    const part = proj.subarray(r0 * stride, r1 * stride);
    addLogSumExp(part, r1 - r0, stride, offset, k, a.maxPos, a.maxNeg, a.sumPos, a.sumNeg);
    addLogSumExpPlain(part, r1 - r0, stride, offset, k, b.maxPos, b.maxNeg, b.sumPos, b.sumNeg);
  }
  const want = [];
  for (const sign of [1, -1]) {
    for (let j = 0; j < k; j++) {
      let m = -Infinity;
      for (let r = 0; r < rows; r++) m = Math.max(m, sign * proj[r * stride + offset + j]);
      let s = 0;
      for (let r = 0; r < rows; r++) s += Math.exp(sign * proj[r * stride + offset + j] - m);
      want.push(m + Math.log(s));
    }
  }
  const got = logZ(a), plain = logZ(b);
  want.forEach((w, i) => {
    assert.ok(Math.abs(got[i] - w) <= 1e-12 * Math.max(1, Math.abs(w)), `kernel ${i}: ${got[i]} vs ${w}`);
    assert.ok(Math.abs(plain[i] - w) <= 1e-12 * Math.max(1, Math.abs(w)), `plain ${i}: ${plain[i]} vs ${w}`);
  });
});

test('no rows or no columns change nothing', () => {
  const a = state(2);
  addLogSumExp(new Float64Array(4), 0, 2, 0, 2, a.maxPos, a.maxNeg, a.sumPos, a.sumNeg);
  assert.equal(Array.from(a.sumPos), [0, 0]);
  assert.equal(Array.from(a.maxPos), [-Infinity, -Infinity]);
});

test.run();
