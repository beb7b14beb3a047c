import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addGramUpper, symmetrizeUpper } from '../../src/linalg/gram.ts';
import { matmul, congruence } from '../../src/linalg/gemm.ts';
import { eigh } from '../../src/linalg/eigh.ts';
import { anisotropic, maxRelDiff } from '../helpers/random.ts';

function naiveGram(x: Float64Array, rows: number, d: number): Float64Array {
  const g = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += x[r * d + i] * x[r * d + j];
    g[i * d + j] = s;
  }
  return g;
}

for (const d of [1, 3, 4, 7, 13]) {
  test(`addGramUpper equals X^T X (d = ${d}, tiles and edges)`, () => {
    const x = anisotropic(9, d, d);
    const g = new Float64Array(d * d).fill(1);
    addGramUpper(x, 9, d, g);
    symmetrizeUpper(g, d);
    const ref = naiveGram(x, 9, d).map((v) => v + 1);
    assert.ok(maxRelDiff(g, ref, 1e-12) < 1e-13);
  });
}

test('addGramUpper with zero rows is a no-op', () => {
  const g = new Float64Array(4);
  addGramUpper(new Float64Array(0), 0, 2, g);
  assert.equal(Array.from(g), [0, 0, 0, 0]);
});

test('matmul matches the definition for odd shapes', () => {
  const a = anisotropic(7, 5, 2), b = anisotropic(5, 3, 3);
  const c = matmul(a, 7, 5, b, 3);
  for (let i = 0; i < 7; i++) for (let j = 0; j < 3; j++) {
    let s = 0;
    for (let p = 0; p < 5; p++) s += a[i * 5 + p] * b[p * 3 + j];
    assert.ok(Math.abs(c[i * 3 + j] - s) <= 1e-12 * Math.abs(s) + 1e-12);
  }
});

test('congruence A^T M A is symmetric and right', () => {
  const x = anisotropic(20, 4, 5);
  const m = naiveGram(x, 20, 4);
  const a = anisotropic(4, 2, 6);
  const c = congruence(m, 4, a, 2);
  const at = new Float64Array(8);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 2; j++) at[j * 4 + i] = a[i * 2 + j];
  const ref = matmul(matmul(at, 2, 4, m, 4), 2, 4, a, 2);
  assert.ok(maxRelDiff(c, ref, 1e-9) < 1e-12);
  assert.is(c[1], c[2]);
});

test('eigh: known spectrum, descending, orthonormal vectors', () => {
  // Q diag(5, 3, 1) Q^T with Q a rotation: eigenvalues 5, 3, 1.
  const c = Math.cos(0.3), s = Math.sin(0.3);
  const q = Float64Array.from([c, -s, 0, s, c, 0, 0, 0, 1]);
  const l = [5, 3, 1];
  const m = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) m[i * 3 + j] += q[i * 3 + k] * l[k] * q[j * 3 + k];
  const { values, vectors } = eigh(m, 3, { vectors: true });
  assert.ok(maxRelDiff(values, l) < 1e-14);
  for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
    let dot = 0;
    for (let i = 0; i < 3; i++) dot += vectors![i * 3 + a] * vectors![i * 3 + b];
    assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-14);
  }
  // M v = l v
  for (let k = 0; k < 3; k++) for (let i = 0; i < 3; i++) {
    let mv = 0;
    for (let j = 0; j < 3; j++) mv += m[i * 3 + j] * vectors![j * 3 + k];
    assert.ok(Math.abs(mv - l[k] * vectors![i * 3 + k]) < 1e-13);
  }
});

test('eigh reads the upper triangle only', () => {
  const m = Float64Array.from([2, 1, 999, 2]); // lower entry is garbage
  assert.ok(maxRelDiff(eigh(m, 2).values, [3, 1]) < 1e-15);
});

test.run();
