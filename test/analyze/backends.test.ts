// Every kernel backend, inline and on worker threads, gives the float64 reference's numbers:
// numpy's on the golden fixtures, the single-threaded TypeScript kernels' on edge cases.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyze, type AnalyzeOptions } from '../../src/analyze/analyze.ts';
import type { Analysis } from '../../src/analyze/schema.ts';
import { NpyWriter } from '../../src/io/index.ts';
import { matrixSource } from '../../src/io/memory-source.ts';
import { unavailableReason } from '../../src/linalg/backends/select.ts';
import { StatsError } from '../../src/stats/errors.ts';
import { GOLDEN_DIR, golden, goldenMismatches, goldenTolerance, leaves, get, type GoldenCase } from '../helpers/golden.ts';
import { anisotropic } from '../helpers/random.ts';
import { makeTempDir, rejects } from '../io/helpers.ts';

const configs: Array<{ backend: string; threads: number }> = [
  { backend: 'js', threads: 1 }, { backend: 'js', threads: 2 },
  { backend: 'wasm', threads: 1 }, { backend: 'wasm', threads: 2 },
];
const nativeWhy = await unavailableReason('native');
// native with threads > 1 runs on one worker thread (its BLAS threads itself), with 1 inline
if (nativeWhy === null) configs.push({ backend: 'native', threads: 1 }, { backend: 'native', threads: 2 });
else console.log(`  (native backend skipped: ${nativeWhy})`);

/** float32 projections (wasm) leave about 1e-6 relative on I(W) and the cosines; 1e-5 is the bound. */
function tolerance(backend: string) {
  return (path: string, transform: string) => {
    const t = goldenTolerance(path, transform);
    return backend === 'wasm' && /^(partitionIsotropy|avgCosine)/.test(path) ? Math.max(t, 1e-5) : t;
  };
}

// One analyze() call per group of cases with the same options: the threads start once per group.
const groups = new Map<string, GoldenCase[]>();
for (const c of golden.cases as GoldenCase[]) {
  const key = JSON.stringify([c.layer, c.dropNonfinite, Object.keys(c.results), c.results.abtt?.remove]);
  groups.set(key, [...(groups.get(key) ?? []), c]);
}

for (const cfg of configs) {
  test(`golden: ${cfg.backend} with ${cfg.threads} thread(s) matches numpy on every fixture`, async () => {
    for (const cases of groups.values()) {
      const c0 = cases[0];
      const a = await analyze(cases.map((c) => GOLDEN_DIR + c.file), {
        transforms: Object.keys(c0.results).filter((t) => t !== 'none'),
        layer: c0.layer ?? undefined, dropNonfinite: c0.dropNonfinite, remove: c0.results.abtt?.remove, ...cfg,
      });
      assert.equal(a.backend?.name, cfg.backend);
      if (cfg.backend !== 'native') assert.is(a.backend?.threads, cfg.threads);
      cases.forEach((c, i) => {
        assert.is(a.inputs[i].droppedRows, c.droppedRows);
        const bad = goldenMismatches(c, a.results.filter((r) => r.input === i), tolerance(cfg.backend));
        assert.equal(bad, [], bad.slice(0, 5).join('\n'));
      });
    }
  });
}

/**
 * The worst disagreement of two analyses, as the ratio of each difference to its allowance:
 * 1e-5 of the value plus an absolute 1e-10 of the scale the value derives from (the largest
 * eigenvalue for eigenvalues, the mean std for the stds, the rows' rms for meanNorm, 1 for the
 * metrics bounded by 1). Values that should be 0 (the spread of the stds after whitening, the
 * mean after centring) are rounding noise of about 1e-14 of their scale in every backend, so
 * they are held to the absolute part only; a relative tolerance on them fails on noise.
 * Nulls must match exactly (I(W) after whitening is null in every backend: W'^T W' = n I).
 */
const UNIT_SCALE = /^(corr\.|isoScore|avgCosine|partitionIsotropy|spectrum\.top)/;

function worst(a: Analysis, b: Analysis): { rel: number; where: string } {
  let rel = 0, where = '';
  a.results.forEach((r, k) => {
    const want = b.results[k];
    const total = want.spectrum.eigenvalues.reduce((x, y) => x + Math.max(0, y), 0);
    for (const [path, w] of leaves(want)) {
      const g = get(r, path) as number | null;
      if (w === null || g === null) {
        if (w !== g) { rel = Infinity; where = `${r.transform} ${path}: ${g} vs ${w}`; }
        continue;
      }
      const scale = path.startsWith('spectrum.eigenvalues') ? Math.abs(want.spectrum.eigenvalues[0])
        : path.startsWith('std.') ? want.std.mean
          : path === 'meanNorm' ? Math.sqrt(total + want.meanNorm ** 2)
            : UNIT_SCALE.test(path) ? 1 : Math.abs(w);
      const e = Math.abs(g - w) / (1e-5 * Math.abs(w) + 1e-10 * scale || Number.MIN_VALUE);
      if (e > rel) { rel = e; where = `${r.transform} ${path}: ${g} vs ${w}`; }
    }
  });
  return { rel, where };
}

/** rows x d anisotropic rows with some rows replaced (NaN, zeros). */
function matrix(rows: number, d: number, edit: (x: Float64Array) => void = () => undefined): Float64Array {
  const x = anisotropic(rows, d, rows + 31 * d);
  edit(x);
  return x;
}

const edgeCases: Array<{ name: string; x: Float64Array; d: number; opts: AnalyzeOptions }> = [
  {
    name: 'NaN and Inf rows dropped (--drop-nonfinite), spread over blocks',
    d: 6,
    x: matrix(90, 6, (x) => { x[7 * 6 + 2] = NaN; x[44 * 6] = Infinity; x[45 * 6 + 5] = -Infinity; x[89 * 6 + 1] = NaN; }),
    opts: { dropNonfinite: true, blockRows: 8, transforms: 'isobn,isobn-running,standardize' },
  },
  {
    name: 'all-zero rows',
    d: 5,
    x: matrix(70, 5, (x) => { for (const r of [0, 13, 14, 69]) x.fill(0, r * 5, r * 5 + 5); }),
    opts: { blockRows: 9, transforms: 'isobn,whiten' },
  },
  { name: 'two rows', d: 3, x: matrix(2, 3), opts: { transforms: 'isobn' } },
  { name: 'fewer rows than threads', d: 4, x: matrix(3, 4), opts: { blockRows: 1, transforms: 'isobn,standardize' } },
  { name: 'd not a multiple of the SIMD tiles', d: 13, x: matrix(301, 13), opts: { blockRows: 50, transforms: 'isobn,abtt', remove: 2 } },
];

test('edge cases with float32 products forced (ISOTROPY_PRODUCTS=float32): native and wasm agree with the float64 kernels to 1e-5', async () => {
  const saved = process.env.ISOTROPY_PRODUCTS;
  process.env.ISOTROPY_PRODUCTS = 'float32';
  try {
    for (const ec of edgeCases) {
      const source = () => matrixSource(ec.x, undefined, ec.d);
      const ref = await analyze([source()], { ...ec.opts, backend: 'js', threads: 1 });
      for (const cfg of configs.filter((c) => c.backend !== 'js')) {
        const a = await analyze([source()], { ...ec.opts, ...cfg });
        const w = worst(a, ref);
        assert.ok(w.rel <= 1, `${ec.name}, ${cfg.backend}/${cfg.threads}: ${w.rel} times the tolerance at ${w.where}`);
      }
    }
  } finally {
    if (saved === undefined) delete process.env.ISOTROPY_PRODUCTS;
    else process.env.ISOTROPY_PRODUCTS = saved;
  }
});

for (const ec of edgeCases) {
  test(`edge case: ${ec.name}: every backend and thread count agree with the float64 kernels`, async () => {
    const source = () => matrixSource(ec.x, undefined, ec.d);
    const ref = await analyze([source()], { ...ec.opts, backend: 'js', threads: 1 });
    for (const cfg of configs.slice(1).concat([{ backend: 'wasm', threads: 3 }])) {
      const a = await analyze([source()], { ...ec.opts, ...cfg });
      assert.equal(a.inputs, ref.inputs);
      const w = worst(a, ref);
      assert.ok(w.rel <= 1, `${cfg.backend}/${cfg.threads}: ${w.rel} times the tolerance at ${w.where}`);
    }
  });
}

test('a float32 file (read as stored, widened by the kernels) gives exactly what its float64 copy gives', async () => {
  const tmp = makeTempDir();
  try {
    const [n, d] = [300, 16];
    const x = Float64Array.from(Float32Array.from(anisotropic(n, d, 11)));
    const paths = await Promise.all((['f4', 'f8'] as const).map(async (dtype) => {
      const path = tmp.file(`x_${dtype}.npy`);
      const w = await NpyWriter.create(path, n, d, { dtype });
      await w.write(x, n);
      await w.commit();
      return path;
    }));
    for (const cfg of configs) {
      const [a32, a64] = await Promise.all(paths.map((p) => analyze([p], { ...cfg, blockRows: 64, transforms: 'isobn,whiten', diagnostics: false })));
      assert.equal(a32.results, a64.results, `${cfg.backend}/${cfg.threads}`);
    }
  } finally {
    tmp.cleanup();
  }
});

test('a NaN row is named by its index in the input whatever the threads', async () => {
  const x = matrix(120, 4, (m) => { m[97 * 4 + 3] = NaN; m[41 * 4 + 1] = NaN; });
  for (const cfg of configs) {
    try {
      await analyze([matrixSource(x, undefined, 4)], { blockRows: 8, ...cfg });
      assert.unreachable('no error');
    } catch (e) {
      assert.instance(e, StatsError);
      assert.match((e as Error).message, /^<memory>: row 41 \(0-based\) holds NaN in dimension 1/);
    }
  }
});

test('threads must be a positive integer; unknown backends are named', async () => {
  const src = () => matrixSource(matrix(10, 2), undefined, 2);
  await rejects(analyze([src()], { threads: 0 }), '`threads` must be a positive integer, got 0');
  await rejects(analyze([src()], { backend: 'cuda' }), 'unknown backend "cuda"');
});

test('auto picks native where it loads, else wasm', async () => {
  const a = await analyze([matrixSource(matrix(50, 3), undefined, 3)], { transforms: 'none' });
  assert.equal(a.backend?.name, nativeWhy === null ? 'native' : 'wasm');
  // a small input runs on one thread; OpenBLAS reports its own count
  if (nativeWhy !== null) assert.is(a.backend?.threads, 1);
  else assert.ok(a.backend!.threads >= 1);
});

test.run();
