import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readEmbeddings } from '../../src/io/index.ts';
import { eigh } from '../../src/linalg/eigh.ts';
import { gaussian } from '../helpers/random.ts';

interface Case {
  name: string;
  d: number;
  matrix?: number[];
  file?: string;
  eigvalsh: number[];
  eighValues: number[];
  vectors?: number[];
}

const doc = JSON.parse(readFileSync(new URL('../../fixtures/eigh/cases.json', import.meta.url), 'utf8')) as { cases: Case[] };

async function matrixOf(c: Case): Promise<Float64Array> {
  if (c.matrix) return Float64Array.from(c.matrix);
  return (await readEmbeddings(new URL(`../../fixtures/eigh/${c.file}`, import.meta.url).pathname)).data;
}

/** max |x| over an array (1e-300 for an all-zero one). */
function maxAbs(x: ArrayLike<number>): number {
  let m = 1e-300;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

/** max entry of |A V - V diag(values)| / max|values|, V being d x k. */
function residual(a: Float64Array, d: number, values: ArrayLike<number>, v: Float64Array, k: number): number {
  let worst = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let p = 0; p < d; p++) s += a[i * d + p] * v[p * k + j];
      worst = Math.max(worst, Math.abs(s - values[j] * v[i * k + j]));
    }
  }
  return worst / maxAbs(values);
}

/** max entry of |V^T V - I|, V being d x k. */
function orthogonality(v: Float64Array, d: number, k: number): number {
  let worst = 0;
  for (let j = 0; j < k; j++) {
    for (let l = j; l < k; l++) {
      let s = 0;
      for (let p = 0; p < d; p++) s += v[p * k + j] * v[p * k + l];
      worst = Math.max(worst, Math.abs(s - (j === l ? 1 : 0)));
    }
  }
  return worst;
}

function isDescending(x: ArrayLike<number>): boolean {
  for (let i = 1; i < x.length; i++) if (x[i] > x[i - 1]) return false;
  return true;
}

/** max over columns j < k of min(|u_j - w_j|, |u_j + w_j|), u being d x ku and w d x kw. */
function columnsDiffUpToSign(u: Float64Array, ku: number, w: Float64Array, kw: number, d: number, k: number): number {
  let worst = 0;
  for (let j = 0; j < k; j++) {
    let plus = 0, minus = 0;
    for (let i = 0; i < d; i++) {
      plus = Math.max(plus, Math.abs(u[i * ku + j] - w[i * kw + j]));
      minus = Math.max(minus, Math.abs(u[i * ku + j] + w[i * kw + j]));
    }
    worst = Math.max(worst, Math.min(plus, minus));
  }
  return worst;
}

/** Leading gaps wide enough (relative to the largest |value|) for the first k vectors to be well defined. */
function separatedTop(values: ArrayLike<number>, k: number): boolean {
  const scale = maxAbs(values);
  for (let j = 0; j < Math.min(k, values.length - 1); j++) {
    if (values[j] - values[j + 1] < 1e-6 * scale) return false;
  }
  return true;
}

function symmetricFrom(d: number, seed: number, f: (i: number, j: number, g: () => number) => number): Float64Array {
  const g = gaussian(seed);
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const x = f(i, j, g);
      a[i * d + j] = x;
      a[j * d + i] = x;
    }
  }
  return a;
}

for (const c of doc.cases) {
  test(`eigh ${c.name} (d = ${c.d}): values match numpy's eigvalsh and eigh within 1e-12 of the largest`, async () => {
    const a = await matrixOf(c);
    const only = eigh(a, c.d);
    assert.is(only.vectors, undefined);
    const full = eigh(a, c.d, { vectors: true });
    const scale = maxAbs(c.eigvalsh);
    assert.is(only.values.length, c.d);
    for (let i = 0; i < c.d; i++) {
      assert.ok(Math.abs(only.values[i] - c.eigvalsh[i]) <= 1e-12 * scale, `values-only ${i}: ${only.values[i]} vs ${c.eigvalsh[i]}`);
      assert.ok(Math.abs(full.values[i] - c.eighValues[i]) <= 1e-12 * scale, `vectors path ${i}: ${full.values[i]} vs ${c.eighValues[i]}`);
    }
    assert.ok(isDescending(only.values) && isDescending(full.values));
  });

  test(`eigh ${c.name} (d = ${c.d}): residual and orthogonality below 1e-12`, async () => {
    const a = await matrixOf(c);
    const { values, vectors } = eigh(a, c.d, { vectors: true });
    assert.is(vectors!.length, c.d * c.d);
    if (c.d === 0) return;
    const r = residual(a, c.d, values, vectors!, c.d);
    const o = orthogonality(vectors!, c.d, c.d);
    assert.ok(r < 1e-12, `residual ${r}`);
    assert.ok(o < 1e-12, `orthogonality ${o}`);
    if (c.vectors) {
      const diff = columnsDiffUpToSign(vectors!, c.d, Float64Array.from(c.vectors), c.d, c.d, c.d);
      assert.ok(diff < 1e-9, `numpy's vectors differ by ${diff}`);
    }
  });

  test(`eigh ${c.name} (d = ${c.d}): top-k vectors are the leading full ones`, async () => {
    const a = await matrixOf(c);
    if (c.d === 0) return;
    const full = eigh(a, c.d, { vectors: true });
    for (const k of [1, 2, 5, Math.ceil(c.d / 2)]) {
      const kk = Math.min(k, c.d);
      const top = eigh(a, c.d, { vectors: true, top: k });
      assert.is(top.vectors!.length, c.d * kk);
      assert.is(top.values.length, c.d);
      const r = residual(a, c.d, top.values, top.vectors!, kk);
      const o = orthogonality(top.vectors!, c.d, kk);
      assert.ok(r < 1e-12, `top ${k}: residual ${r}`);
      assert.ok(o < 1e-12, `top ${k}: orthogonality ${o}`);
      if (separatedTop(full.values, kk)) {
        const diff = columnsDiffUpToSign(top.vectors!, kk, full.vectors!, c.d, c.d, kk);
        assert.ok(diff < 1e-9, `top ${k}: differs from the full vectors by ${diff}`);
      }
    }
  });
}

test('eigh reads only the upper triangle', async () => {
  for (const name of ['sym64', 'aniso40', 'wishart300']) {
    const c = doc.cases.find((x) => x.name === name)!;
    const a = await matrixOf(c);
    const garbled = a.slice();
    for (let i = 0; i < c.d; i++) for (let j = 0; j < i; j++) garbled[i * c.d + j] = 1e6 * (i - j);
    const x = eigh(a, c.d, { vectors: true }), y = eigh(garbled, c.d, { vectors: true });
    assert.equal(Array.from(y.values), Array.from(x.values));
    assert.equal(Array.from(y.vectors!), Array.from(x.vectors!));
  }
});

test('eigh signs each vector so that its largest entry is positive, the same on every path', async () => {
  const c = doc.cases.find((x) => x.name === 'sym64')!;
  const a = await matrixOf(c);
  const d = c.d;
  const full = eigh(a, d, { vectors: true }).vectors!;
  for (let k = 0; k < d; k++) {
    let big = 0, at = 0;
    for (let i = 0; i < d; i++) if (Math.abs(full[i * d + k]) > big) [big, at] = [Math.abs(full[i * d + k]), i];
    assert.ok(full[at * d + k] > 0);
  }
  for (const k of [2, 7, 40]) {
    const top = eigh(a, d, { vectors: true, top: k }).vectors!;
    let diff = 0;
    for (let i = 0; i < d; i++) for (let j = 0; j < k; j++) diff = Math.max(diff, Math.abs(top[i * k + j] - full[i * d + j]));
    assert.ok(diff < 1e-9, `top ${k}: ${diff}`);
  }
});

test('eigh known answers: diagonal matrix', () => {
  const diag = [3, -1, 7.5, 0, 2, -2.25];
  const d = diag.length;
  const a = new Float64Array(d * d);
  diag.forEach((x, i) => (a[i * d + i] = x));
  const { values, vectors } = eigh(a, d, { vectors: true });
  assert.equal(Array.from(values), [7.5, 3, 2, 0, -1, -2.25]);
  // column k is e_i for the i holding values[k]
  for (let k = 0; k < d; k++) {
    const i = diag.indexOf(values[k]);
    for (let r = 0; r < d; r++) assert.is(vectors![r * d + k], r === i ? 1 : 0);
  }
});

test('eigh known answers: 2 x 2 closed form', () => {
  const [p, q, r] = [2.5, -1.25, 0.75];
  const { values, vectors } = eigh(Float64Array.from([p, q, q, r]), 2, { vectors: true });
  const mid = (p + r) / 2, rad = Math.hypot((p - r) / 2, q);
  assert.ok(Math.abs(values[0] - (mid + rad)) < 1e-15 * 4);
  assert.ok(Math.abs(values[1] - (mid - rad)) < 1e-15 * 4);
  // (q, lambda - p) is an eigenvector of lambda
  for (let k = 0; k < 2; k++) {
    const ex = q, ey = values[k] - p, n = Math.hypot(ex, ey);
    const dot = (vectors![k] * ex + vectors![2 + k] * ey) / n;
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-15 * 4, `column ${k}: |cos| = ${Math.abs(dot)}`);
  }
});

test('eigh edge cases: d = 0, 1 x 1, zero matrix, non-finite entry, bad top', () => {
  assert.is(eigh(new Float64Array(0), 0).values.length, 0);
  assert.is(eigh(new Float64Array(0), 0).vectors, undefined);
  assert.equal(eigh(new Float64Array(0), 0, { vectors: true }).vectors, new Float64Array(0));
  assert.equal(eigh(Float64Array.of(-4), 1, { vectors: true }), { values: Float64Array.of(-4), vectors: Float64Array.of(1) });
  const z = eigh(new Float64Array(9), 3, { vectors: true });
  assert.equal(Array.from(z.values), [0, 0, 0]);
  assert.equal(Array.from(z.vectors!), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.equal(Array.from(eigh(new Float64Array(9), 3, { vectors: true, top: 2 }).vectors!), [1, 0, 0, 1, 0, 0]);
  const bad = Float64Array.from([1, NaN, 0, 0, 2, 0, 0, 0, 3]);
  const nan = eigh(bad, 3, { vectors: true });
  assert.ok(nan.values.every(Number.isNaN) && nan.vectors!.every(Number.isNaN));
  assert.ok(eigh(Float64Array.from([1, Infinity, 0, 2]), 2).values.every(Number.isNaN));
  assert.throws(() => eigh(new Float64Array(4), 2, { vectors: true, top: 0 }), RangeError);
  assert.throws(() => eigh(new Float64Array(4), 2, { vectors: true, top: 1.5 }), RangeError);
  // top beyond d: all d vectors
  assert.is(eigh(Float64Array.of(1, 0, 0, 2), 2, { vectors: true, top: 5 }).vectors!.length, 4);
});

test('eigh is exact under power-of-two scaling, however extreme', async () => {
  const c = doc.cases.find((x) => x.name === 'spd20')!;
  const a = await matrixOf(c);
  const base = eigh(a, c.d, { vectors: true });
  for (const s of [2 ** -900, 2 ** -300, 2 ** 300, 2 ** 900]) {
    const r = eigh(a.map((x) => x * s), c.d, { vectors: true });
    assert.equal(Array.from(r.values), Array.from(base.values, (x) => x * s));
    assert.equal(Array.from(r.vectors!), Array.from(base.vectors!));
  }
});

// Structures that stress divide and conquer (deflation, clusters, odd split sizes) and the
// inverse-iteration top-k path, at sizes crossing its block boundaries.
const structured: [string, number, Float64Array][] = [
  ['random indefinite', 97, symmetricFrom(97, 3, (_i, _j, g) => g())],
  ['graded diagonal + tiny coupling', 130, symmetricFrom(130, 4, (i, j, g) => (i === j ? 10 ** (3 - (11 * i) / 129) : 1e-9 * g()))],
  ['diagonal (everything deflates)', 100, symmetricFrom(100, 5, (i, j) => (i === j ? Math.floor(i / 7) : 0))],
  ['identity times 3', 70, symmetricFrom(70, 6, (i, j) => (i === j ? 3 : 0))],
  ['glued Wilkinson W21+ x 6', 126, symmetricFrom(126, 7, (i, j) => (i === j ? Math.abs((i % 21) - 10) : j === i + 1 ? (i % 21 === 20 ? 1e-10 : 1) : 0))],
  ['three eigenvalues, rotated', 90, rotatedSpectrum(90, 8, (i) => [4, 1, -2][i % 3])],
  ['rank 3', 80, lowRank(80, 3, 9)],
  // T has long stretches at the rounding-noise level: QL stalls without its absolute test
  ['eigenvalues 1, 1e-8, 0, rotated', 200, rotatedSpectrum(200, 1, (i) => [0, 1, 1e-8][i % 3])],
];

for (const [name, d, a] of structured) {
  test(`eigh ${name} (d = ${d}): residual, orthogonality, order, top-k`, () => {
    const only = eigh(a, d);
    const full = eigh(a, d, { vectors: true });
    const scale = maxAbs(full.values);
    for (let i = 0; i < d; i++) assert.ok(Math.abs(only.values[i] - full.values[i]) <= 1e-12 * scale);
    assert.ok(isDescending(full.values) && isDescending(only.values));
    const r = residual(a, d, full.values, full.vectors!, d);
    const o = orthogonality(full.vectors!, d, d);
    assert.ok(r < 1e-12, `residual ${r}`);
    assert.ok(o < 1e-12, `orthogonality ${o}`);
    for (const k of [2, 12, 40]) {
      const top = eigh(a, d, { vectors: true, top: k });
      const rt = residual(a, d, top.values, top.vectors!, k);
      const ot = orthogonality(top.vectors!, d, k);
      assert.ok(rt < 1e-12, `top ${k}: residual ${rt}`);
      assert.ok(ot < 1e-12, `top ${k}: orthogonality ${ot}`);
      if (separatedTop(full.values, k)) {
        const diff = columnsDiffUpToSign(top.vectors!, k, full.vectors!, d, d, k);
        assert.ok(diff < 1e-9, `top ${k}: differs from the full vectors by ${diff}`);
      }
    }
  });
}

/** Q diag(f(i)) Q^T with Q a product of random Householder reflections. */
function rotatedSpectrum(d: number, seed: number, f: (i: number) => number): Float64Array {
  const g = gaussian(seed);
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) a[i * d + i] = f(i);
  for (let h = 0; h < 4; h++) {
    const v = Float64Array.from({ length: d }, () => g());
    const vv = v.reduce((s, x) => s + x * x, 0);
    // A <- H A H with H = I - 2 v v^T / v^T v
    const av = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) av[i] += a[i * d + j] * v[j];
    const vav = v.reduce((s, x, i) => s + x * av[i], 0);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        a[i * d + j] += (-2 * (av[i] * v[j] + v[i] * av[j])) / vv + (4 * vav * v[i] * v[j]) / (vv * vv);
      }
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) a[i * d + j] = a[j * d + i];
  return a;
}

/** B^T B for a random r x d matrix B. */
function lowRank(d: number, r: number, seed: number): Float64Array {
  const g = gaussian(seed);
  const b = Float64Array.from({ length: r * d }, () => g());
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let p = 0; p < r; p++) s += b[p * d + i] * b[p * d + j];
      a[i * d + j] = s;
    }
  }
  return a;
}

test.run();
