import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eigh } from '../../src/linalg/eigh.ts';
import { addABt, addABtPlain, addAtB, addAtBPlain } from '../../src/linalg/strided-products.ts';
import { useEighKernels } from '../../src/linalg/wasm/shared.ts';
import { gaussian } from '../helpers/random.ts';

function maxDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** eigh with the WebAssembly kernels turned off: the plain loops. */
function plainEigh(a: Float64Array, d: number, opts: Parameters<typeof eigh>[2]) {
  useEighKernels(false);
  try {
    return eigh(a, d, opts);
  } finally {
    useEighKernels(true);
  }
}

// odd sizes and strides: edge rows and columns, odd column counts in the four-row kernel, several chunks
const SHAPES: [number, number, number][] = [[37, 45, 300], [5, 7, 2000], [300, 261, 33], [4, 4, 4096], [3, 200, 200], [130, 9, 517]];

test('strided products: the wasm kernel path equals the plain loops to rounding', () => {
  const g = gaussian(7);
  for (const [m, n, p] of SHAPES) {
    const lda = m + 3, ldb = n + 5, ldc = n + 2;
    const a = Float64Array.from({ length: p * lda + 7 }, g), b = Float64Array.from({ length: p * ldb + 9 }, g);
    const c = Float64Array.from({ length: m * ldc + 4 }, g), c0 = c.slice();
    addAtB(m, n, p, -0.7, a, 3, lda, b, 5, ldb, c, 2, ldc);
    addAtBPlain(m, n, p, -0.7, a, 3, lda, b, 5, ldb, c0, 2, ldc);
    assert.ok(maxDiff(c, c0) < 1e-13 * Math.sqrt(p), `A^T B ${m}x${n}x${p}: ${maxDiff(c, c0)}`);
    const lda2 = p + 1, ldb2 = p + 3;
    const a2 = Float64Array.from({ length: m * lda2 + 2 }, g), b2 = Float64Array.from({ length: n * ldb2 + 2 }, g);
    const e = Float64Array.from({ length: m * ldc + 4 }, g), e0 = e.slice();
    addABt(m, n, p, 1.3, a2, 1, lda2, b2, 2, ldb2, e, 1, ldc);
    addABtPlain(m, n, p, 1.3, a2, 1, lda2, b2, 2, ldb2, e0, 1, ldc);
    assert.ok(maxDiff(e, e0) < 1e-13 * Math.sqrt(p), `A B^T ${m}x${n}x${p}: ${maxDiff(e, e0)}`);
  }
});

test('eigh: the wasm kernels give the plain loops\' values and vectors within 1e-13 (values) and 1e-12 (vectors)', () => {
  for (const d of [31, 32, 37, 130, 259]) {
    const g = gaussian(d);
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) a[i * d + j] = a[j * d + i] = g();
    const ours = eigh(a, d, { vectors: true });
    const plain = plainEigh(a, d, { vectors: true });
    const scale = Math.max(Math.abs(plain.values[0]), Math.abs(plain.values[d - 1]));
    assert.ok(maxDiff(ours.values, plain.values) < 1e-13 * scale, `d = ${d} values: ${maxDiff(ours.values, plain.values)}`);
    // random spectra are well separated: the vectors are unique up to the sign eigh fixes (about 2e-14 seen)
    assert.ok(maxDiff(ours.vectors!, plain.vectors!) < 1e-12, `d = ${d} vectors: ${maxDiff(ours.vectors!, plain.vectors!)}`);
    const top = eigh(a, d, { vectors: true, top: 3 });
    const topPlain = plainEigh(a, d, { vectors: true, top: 3 });
    assert.ok(maxDiff(top.vectors!, topPlain.vectors!) < 1e-12, `d = ${d} top-3: ${maxDiff(top.vectors!, topPlain.vectors!)}`);
  }
});

test.run();
