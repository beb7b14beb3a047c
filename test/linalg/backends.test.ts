// Every kernel backend against the plain float64 definitions (no timing).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addGramUpper } from '../../src/linalg/gram.ts';
import { matmul } from '../../src/linalg/gemm.ts';
import { jsBackend } from '../../src/linalg/backends/js.ts';
import { loadWasmBackend } from '../../src/linalg/backends/wasm.ts';
import { loadBackend, parseBackend, unavailableReason, availableBackends } from '../../src/linalg/backends/select.ts';
import { BackendError, type KernelBackend } from '../../src/linalg/backends/types.ts';
import { eigh, withEighSolver } from '../../src/linalg/eigh-solver.ts';
import { eigh as ownEigh } from '../../src/linalg/eigh.ts';
import { anisotropic } from '../helpers/random.ts';

const backends: Array<[string, () => Promise<KernelBackend>]> = [
  ['js', async () => jsBackend()],
  ['wasm', async () => loadWasmBackend()],
  ['wasm (float64 projections)', async () => loadWasmBackend({ projection: 'float64' })],
];
const nativeWhy = await unavailableReason('native');
if (nativeWhy === null) backends.push(['native', () => loadBackend('native')]);
else console.log(`  (native backend tests skipped: ${nativeWhy})`);

function centred(x: Float64Array, rows: number, d: number): Float64Array {
  const m = new Float64Array(d);
  for (let r = 0; r < rows; r++) for (let c = 0; c < d; c++) m[c] += x[r * d + c] / rows;
  return x.map((v, i) => v - m[i % d]);
}

function maxRelUpper(a: Float64Array, b: Float64Array, d: number): number {
  let scale = 0, err = 0;
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) {
    scale = Math.max(scale, Math.abs(b[i * d + j]));
    err = Math.max(err, Math.abs(a[i * d + j] - b[i * d + j]));
  }
  return err / scale;
}

for (const [name, load] of backends) {
  test(`${name}: gramUpper adds X^T X on the upper triangle, odd sizes included`, async () => {
    const b = await load();
    for (const [rows, d] of [[1, 1], [2, 3], [5, 4], [9, 5], [3, 13], [300, 17], [1100, 8]]) {
      const x = centred(anisotropic(rows, d, rows + d), rows, d);
      const got = new Float64Array(d * d).fill(0.5);
      const want = new Float64Array(d * d).fill(0.5);
      b.gramUpper(x, rows, d, got);
      addGramUpper(x, rows, d, want);
      // float64 kernels: rounding only; the wasm one is float64 too
      assert.ok(maxRelUpper(got, want, d) < 1e-13, `${rows} x ${d}: ${maxRelUpper(got, want, d)}`);
    }
    b.dispose();
  });

  test(`${name}: projector computes x D + b (centre given or not), odd sizes included`, async () => {
    const be = await load();
    for (const [rows, d, cols] of [[1, 1, 1], [3, 5, 7], [4, 8, 8], [13, 6, 11], [600, 12, 30]]) {
      const x = anisotropic(rows, d, rows * 7 + d);
      const dir = anisotropic(d, cols, cols + 3);
      const bias = Float64Array.from({ length: cols }, (_, j) => j - 2.5);
      const center = Float64Array.from({ length: d }, (_, p) => x[p] * 0.9);
      const want = matmul(x, rows, d, dir, cols).map((v, i) => v + bias[i % cols]);
      for (const c of [center, null]) {
        const p = be.projector(dir, d, cols, bias, c);
        const got = p.apply(x, rows);
        p.dispose();
        const tol = be.precision === 'float32' ? 1e-5 : 1e-12;
        let scale = 0, err = 0;
        want.forEach((w, i) => { scale = Math.max(scale, Math.abs(w)); err = Math.max(err, Math.abs(got[i] - w)); });
        assert.ok(err <= tol * scale, `${rows} x ${d} x ${cols}: ${err / scale}`);
      }
    }
    be.dispose();
  });
}

if (nativeWhy === null) {
  test('native: eigh has linalg\'s values and vectors, signs included', async () => {
    const b = await loadBackend('native');
    const d = 9;
    const x = anisotropic(40, d, 2);
    const m = new Float64Array(d * d);
    addGramUpper(x, 40, d, m);
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) m[i * d + j] = m[j * d + i];
    const got = b.eigh!(m, d, { vectors: true }), want = ownEigh(m, d, { vectors: true });
    for (let k = 0; k < d; k++) assert.ok(Math.abs(got.values[k] - want.values[k]) <= 1e-12 * want.values[0]);
    for (let i = 0; i < d * d; i++) assert.ok(Math.abs(got.vectors![i] - want.vectors![i]) < 1e-9, `entry ${i}`);
  });
}

test('wasm: projectors and Gram calls share the memory without clobbering each other', () => {
  const be = loadWasmBackend();
  const d = 6, cols = 9, rows = 10;
  const x = anisotropic(rows, d, 3);
  const dir = anisotropic(d, cols, 4);
  const p1 = be.projector(dir, d, cols, null, null);
  const first = Array.from(p1.apply(x, rows));
  const g = new Float64Array(d * d);
  be.gramUpper(anisotropic(500, d, 5), 500, d, g);
  const p2 = be.projector(anisotropic(d, 3, 6), d, 3, null, null);
  p2.apply(x, rows);
  assert.equal(Array.from(p1.apply(x, rows)), first);
  p2.dispose();
  p1.dispose();
  assert.throws(() => p1.apply(x, rows), /after dispose/);
});

test('parseBackend: auto, the names, and a clear error for anything else', () => {
  assert.is(parseBackend(undefined), 'auto');
  assert.is(parseBackend('wasm'), 'wasm');
  assert.throws(() => parseBackend('blas'), (e: unknown) => e instanceof BackendError && /unknown backend 'blas'.*auto, native, wasm, tfjs-node, js/.test((e as Error).message));
});

test('js and wasm are always available; an unavailable backend fails with why and what is', async () => {
  const ok = await availableBackends();
  assert.ok(ok.includes('js') && ok.includes('wasm'), ok.join());
  for (const name of ['native', 'tfjs-node'] as const) {
    const why = await unavailableReason(name);
    if (why === null) continue;
    try {
      await loadBackend(name);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, BackendError);
      assert.match((e as Error).message, new RegExp(`'${name}' backend is not available here: .+; available: .*wasm, js`));
    }
  }
});

test('withEighSolver routes eigh to the given solver, only inside the scope and only for plain calls', async () => {
  const m = Float64Array.from([2, 1, 1, 3]);
  let calls = 0;
  const solver = (a: Float64Array, d: number, o: { vectors?: boolean }) => { calls++; return ownEigh(a, d, o); };
  await withEighSolver(solver, async () => {
    await Promise.resolve();
    eigh(m, 2, { vectors: true });
  });
  eigh(m, 2);
  assert.is(calls, 1);
});

test.run();
