// The encoder kernels of the OpenBLAS addon on their own: argument checks, the small helpers
// against plain loops, and the thread setting. The full forward pass is in encoder.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { encoderKernelsUnavailableReason, loadEncoderKernels, NATIVE_ACT, type NativeLayerWeights } from '../../src/extract/native-kernels.ts';
import { mulberry32 } from '../../src/analyze/sample.ts';

const k = loadEncoderKernels();
if (!k) console.log(`  (native kernel tests skipped: ${encoderKernelsUnavailableReason()})`);

const rand = mulberry32(3);
const randArray = (n: number, s = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * s);

function weights(d: number, f: number): NativeLayerWeights {
  return {
    qkvW: randArray(3 * d * d, 0.2), qkvB: randArray(3 * d, 0.1), oW: randArray(d * d, 0.2), oB: randArray(d, 0.1),
    ln1G: randArray(d, 1), ln1B: randArray(d, 0.1), iW: randArray(f * d, 0.2), iB: randArray(f, 0.1),
    fW: randArray(d * f, 0.2), fB: randArray(d, 0.1), ln2G: randArray(d, 1), ln2B: randArray(d, 0.1),
  };
}

const throwsCode = (fn: () => void, code: string, re: RegExp) =>
  assert.throws(fn, (e: unknown) => (e as { code?: string }).code === code && re.test((e as Error).message));

if (k) {
  test('layerNormRows equals the float64 formula', () => {
    const rows = 3, d = 37;
    const x = randArray(rows * d, 3), g = randArray(d), b = randArray(d);
    const want = Array.from(x);
    k.layerNormRows(x, rows, g, b, 1e-5);
    for (let r = 0; r < rows; r++) {
      const row = want.slice(r * d, (r + 1) * d);
      const mu = row.reduce((a, v) => a + v, 0) / d;
      const v = row.reduce((a, y) => a + (y - mu) ** 2, 0) / d;
      for (let j = 0; j < d; j++) {
        const expect = ((row[j] - mu) / Math.sqrt(v + 1e-5)) * g[j] + b[j];
        assert.ok(Math.abs(x[r * d + j] - expect) < 1e-5, `row ${r} col ${j}`);
      }
    }
  });

  test('linearF32 is x W^T + b with W in [out, in] layout', () => {
    const rows = 5, ni = 7, no = 3;
    const x = randArray(rows * ni), w = randArray(no * ni), b = randArray(no), out = new Float32Array(rows * no);
    k.linearF32(x, rows, w, b, out);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < no; o++) {
        let s = b[o];
        for (let i = 0; i < ni; i++) s += x[r * ni + i] * w[o * ni + i];
        assert.ok(Math.abs(out[r * no + o] - s) < 1e-5);
      }
    }
    throwsCode(() => k.linearF32(x, rows, w, b, x), 'ERR_OUT_OF_RANGE', /out/);
    throwsCode(() => k.linearF32(x, rows + 1, w, b, out), 'ERR_OUT_OF_RANGE', /rows/);
  });

  test('encoderLayer checks its arguments before touching memory', () => {
    const B = 2, T = 3, d = 8, f = 16, H = 2;
    const w = weights(d, f);
    const x = randArray(B * T * d), kb = new Float32Array(B * T), work = new Float32Array(k.encoderWorkspace(B, T, d, f));
    const call = (over: Partial<{ x: unknown; heads: number; w: unknown; kb: unknown; act: number; eps: number; work: unknown }>) => () =>
      k.encoderLayer((over.x ?? x) as Float32Array, B, T, over.heads ?? H, (over.w ?? w) as NativeLayerWeights, (over.kb ?? kb) as Float32Array,
        over.act ?? NATIVE_ACT.gelu, over.eps ?? 1e-12, (over.work ?? work) as Float32Array, false);
    call({})();
    throwsCode(call({ x: new Float64Array(B * T * d) }), 'ERR_INVALID_ARG_TYPE', /x must be a Float32Array, got a Float64Array/);
    throwsCode(call({ x: randArray(B * T * d - 1) }), 'ERR_OUT_OF_RANGE', /x has 47 elements/);
    throwsCode(call({ heads: 3 }), 'ERR_OUT_OF_RANGE', /not a positive multiple of heads 3/);
    throwsCode(call({ w: { ...w, oB: randArray(d + 1) } }), 'ERR_OUT_OF_RANGE', /weights\.oB has 9 elements, expected 8/);
    const { fW: _, ...noFW } = w;
    throwsCode(call({ w: noFW }), 'ERR_INVALID_ARG_TYPE', /weights\.fW is missing/);
    throwsCode(call({ kb: new Float32Array(B * T + 1) }), 'ERR_OUT_OF_RANGE', /keyBias/);
    throwsCode(call({ act: 7 }), 'ERR_OUT_OF_RANGE', /act must be/);
    throwsCode(call({ eps: Number.NaN }), 'ERR_OUT_OF_RANGE', /eps/);
    throwsCode(call({ work: new Float32Array(4) }), 'ERR_OUT_OF_RANGE', /work has 4 elements/);
    throwsCode(call({ work: x }), 'ERR_OUT_OF_RANGE', /too small|must not share|work has/);
  });

  test('encoderLayer gives the same rows with any OpenBLAS thread count and a first-row-only call agrees', () => {
    const B = 3, T = 5, d = 16, f = 32, H = 4;
    const w = weights(d, f);
    const x0 = randArray(B * T * d);
    const kb = Float32Array.from({ length: B * T }, (_, i) => (i % T < T - (i / T | 0) ? 0 : -1e9));
    const before = k.blasThreads();
    try {
      const run = (threads: number, clsOnly: boolean) => {
        k.blasThreads(threads);
        const x = x0.slice();
        k.encoderLayer(x, B, T, H, w, kb, NATIVE_ACT.gelu_new, 1e-5, new Float32Array(k.encoderWorkspace(B, T, d, f)), clsOnly);
        return x;
      };
      const one = run(1, false), two = run(2, false), first = run(2, true);
      for (let i = 0; i < one.length; i++) assert.ok(Math.abs(one[i] - two[i]) < 1e-5, `element ${i}`);
      for (let b = 0; b < B; b++) for (let j = 0; j < d; j++) assert.ok(Math.abs(first[b * d + j] - one[b * T * d + j]) < 1e-5, `sentence ${b}`);
      assert.ok(one.every(Number.isFinite));
    } finally {
      k.blasThreads(before);
    }
    assert.is(k.blasThreads(), before);
    throwsCode(() => k.blasThreads(0), 'ERR_OUT_OF_RANGE', /between 1 and/);
  });
}

test('ISOTROPY_NATIVE=0 turns the native backend off with a reason', () => {
  const script = `import('./src/extract/backend.ts').then(async (m) => {
    try { await m.initBackend('native'); console.log('loaded'); } catch (e) { console.log(String(e.isUserError) + " " + e.message); }
    console.log(await m.initBackend());
  })`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', env: { ...process.env, ISOTROPY_NATIVE: '0' } });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^true cannot use the 'native' backend: .*ISOTROPY_NATIVE=0/m, r.stdout);
  assert.match(r.stdout, /^(tensorflow|wasm|cpu)$/m);
});

test.run();
