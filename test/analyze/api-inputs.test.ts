// analyze() takes arrays, typed arrays with a shape, ml-matrix matrices and async iterables of
// batches, with the same numbers as the .npy of the same rows; statsMatrices gives ml-matrix
// results; importing the package does not load ml-matrix.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Matrix } from 'ml-matrix';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyze, statsMatrices, toMatrix, type Analysis, type RowBatch } from '../../src/index.js';
import { analysisMismatch } from '../helpers/compare.js';
import { anisotropic, maxRelDiff, naiveCovariance } from '../helpers/random.js';
import { buildNpy, makeTempDir, rejects } from '../io/helpers.js';

const N = 300;
const D = 9;
const x = anisotropic(N, D, 5);
const rows = Array.from({ length: N }, (_, i) => Array.from(x.subarray(i * D, (i + 1) * D)));
const tmp = makeTempDir();
const file = tmp.file('x.npy', buildNpy({ descr: '<f8', shape: [N, D], values: x }));
test.after(() => tmp.cleanup());
const opts = { transforms: 'isobn,standardize', sampleRows: 30 };
let reference: Analysis;
test.before(async () => {
  reference = await analyze([file], opts);
});

function same(a: Analysis, what: string) {
  assert.is(analysisMismatch(a, reference), null, what);
  assert.is(a.inputs[0].rows, N);
  assert.is(a.inputs[0].dims, D);
}

test('number[][], alone or in a list', async () => {
  same(await analyze(rows, opts), 'number[][] alone');
  same(await analyze([rows], opts), 'number[][] in a list');
});

test('Float64Array and Float32Array with a shape (rows/dims or shape)', async () => {
  same(await analyze([{ data: x, rows: N, dims: D }], opts), 'Float64Array rows/dims');
  same(await analyze({ data: x, shape: [N, D] }, opts), 'Float64Array shape');
  const f32 = Float32Array.from(x);
  const f32file = tmp.file('x32.npy', buildNpy({ descr: '<f4', shape: [N, D], values: f32 }));
  const ref32 = await analyze([f32file], opts);
  assert.is(analysisMismatch(await analyze([{ data: f32, dims: D }], opts), ref32), null, 'Float32Array');
  await rejects(analyze([{ data: x }], opts), 'needs its shape');
  await rejects(analyze([{ data: x, shape: [N, 3, 3] }], opts), 'give a 2-D [rows, dims] shape');
  await rejects(analyze([{ data: x, rows: N + 1 }], opts), 'do not make');
});

test('an ml-matrix Matrix, as it is', async () => {
  same(await analyze(new Matrix(rows), opts), 'Matrix');
  same(await analyze([new Matrix(rows).transpose().transpose()], opts), 'Matrix in a list');
});

test('an async iterable of row batches (any batch kind, read once)', async () => {
  let reads = 0;
  async function* batches(): AsyncGenerator<RowBatch> {
    reads++;
    yield rows.slice(0, 50);
    yield { data: x.subarray(50 * D, 170 * D), rows: 120, dims: D };
    yield [];
    yield new Matrix(rows.slice(170));
  }
  same(await analyze(batches(), opts), 'async iterable');
  assert.is(reads, 1);
  async function* ragged(): AsyncGenerator<RowBatch> {
    yield rows.slice(0, 5);
    yield [[1, 2]];
  }
  await rejects(analyze(ragged(), opts), 'batch 1 has rows of 2 values, the first batch 9');
  async function* empty(): AsyncGenerator<RowBatch> {}
  await rejects(analyze(empty(), opts), 'no rows to analyze');
});

test('statsMatrices: covariance and correlation as ml-matrix matrices; toMatrix', async () => {
  const { covariance, correlation, mean, rows: n } = await statsMatrices(file);
  assert.ok(covariance instanceof Matrix && correlation instanceof Matrix);
  assert.is(n, N);
  const ref = naiveCovariance(x, N, D);
  assert.ok(maxRelDiff(covariance.to1DArray(), ref.cov, 1e-3) < 1e-12);
  assert.ok(maxRelDiff(mean, ref.mean) < 1e-12);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < D; j++) {
      const r = ref.cov[i * D + j] / Math.sqrt(ref.cov[i * D + i] * ref.cov[j * D + j]);
      assert.ok(Math.abs(correlation.get(i, j) - r) < 1e-12);
    }
  }
  // the same from a Matrix input; after IsoBN the correlations stay (a per-dimension rescaling)
  const iso = await statsMatrices(new Matrix(rows), { transform: 'isobn' });
  assert.ok(maxRelDiff(iso.correlation.to1DArray(), correlation.to1DArray(), 1e-3) < 1e-10);
  assert.ok(maxRelDiff(iso.covariance.to1DArray(), covariance.to1DArray(), 1e-3) > 1e-3, 'the covariance changes');
  const m = await toMatrix([1, 2, 3, 4, 5, 6], 2, 3);
  assert.equal(m.to2DArray(), [[1, 2, 3], [4, 5, 6]]);
});

test('importing isotropy-toolkit does not load ml-matrix; the matrix helpers do', () => {
  const src = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
  // the CJS cache lists every ml-matrix file a process loaded (its ESM entry loads the CJS build)
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
    `import { createRequire } from 'node:module'; const m = await import(${JSON.stringify(src)});` +
    `const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('ml-matrix')).length;` +
    `const before = loaded(); await m.toMatrix([1], 1, 1); console.log(JSON.stringify({ before, after: loaded() > 0 }));`], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout.trim().split('\n').pop()!), { before: 0, after: true });
});

test.run();
