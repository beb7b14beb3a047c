// Several layers of an (n, L, d) input in the same passes: every layer's result equals that
// layer analysed alone, in every reader of 3-D arrays and with worker threads.
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyze, openEmbeddings, type AnalyzeOptions } from '../../src/index.js';
import { anisotropic } from '../helpers/random.js';
import { resultMismatch } from '../helpers/compare.js';
import { buildNpy, collect, makeTempDir, rejects } from '../io/helpers.js';

const N = 400;
const L = 4;
const D = 10;
// layer l of row i: a different anisotropic matrix per layer
const layers = Array.from({ length: L }, (_, l) => anisotropic(N, D, 11 + l));
const values = new Float64Array(N * L * D);
for (let i = 0; i < N; i++) for (let l = 0; l < L; l++) values.set(layers[l].subarray(i * D, (i + 1) * D), (i * L + l) * D);
values.fill(NaN, (3 * L + 1) * D, (3 * L + 1) * D + 2); // row 3 has NaN in layer 1 only
values.fill(0, (7 * L + 2) * D, (7 * L + 3) * D); // row 7 is all zero in layer 2

const tmp = makeTempDir();
const cFile = tmp.file('c.npy', buildNpy({ descr: '<f8', shape: [N, L, D], values }));
const fFile = tmp.file('f.npy', buildNpy({ descr: '<f4', shape: [N, L, D], values: Float32Array.from(values), fortranOrder: true }));
test.after(() => tmp.cleanup());

const base: AnalyzeOptions = { transforms: 'isobn,abtt,isobn-running', dropNonfinite: true, sampleRows: 40, backend: 'js', threads: 1 };

async function checkEveryLayer(file: string, opts: AnalyzeOptions, want: number[], dims = D, count = L) {
  const all = await analyze([file], { ...opts, layers: want.length === count ? 'all' : want });
  assert.equal(all.inputs[0].layers, want);
  assert.is(all.inputs[0].dims, dims);
  assert.is(all.inputs[0].layer, undefined);
  for (const l of want) {
    const alone = await analyze([file], { ...opts, layer: l });
    const mine = all.results.filter((r) => r.layer === l);
    assert.is(mine.length, alone.results.length, `layer ${l}`);
    mine.forEach((r, k) => assert.is(resultMismatch(r, alone.results[k]), null, `layer ${l}`));
    const diag = all.diagnostics!.filter((v) => v.layer === l);
    assert.is(diag.length, alone.diagnostics!.length);
    diag.forEach((v, k) => {
      assert.equal(v.corrHistogram.counts, alone.diagnostics![k].corrHistogram.counts);
      assert.equal(v.pca?.x.length, alone.diagnostics![k].pca?.x.length);
    });
  }
  return all;
}

test('--layers all on a C-order .npy equals each layer alone (NaN in one layer drops that row there only)', async () => {
  const all = await checkEveryLayer(cFile, base, [0, 1, 2, 3]);
  assert.is(all.results.length, 4 * L);
  assert.is(all.inputs[0].droppedRows, 1);
});

test('chosen layers (negative from the end) on a Fortran-order float32 .npy, with two worker threads', async () => {
  await checkEveryLayer(fFile, { ...base, threads: 2 }, [0, 3, 2]);
  const src = await openEmbeddings(fFile, { layers: [0, -1, 2] });
  assert.equal(src.layers, [0, 3, 2]);
  assert.is(src.dims, 3 * D);
  const rows = await collect(src, { blockRows: 7 });
  for (let i = 0; i < N; i += 37) {
    for (const [j, l] of [0, 3, 2].entries()) {
      for (let c = 0; c < D; c++) assert.is(rows[i * 3 * D + j * D + c], Math.fround(values[(i * L + l) * D + c]));
    }
  }
  await src.close();
});

test('every reader of 3-D arrays reads several layers: .npz (deflated), safetensors, HDF5', async () => {
  const fixtures = (name: string) => fileURLToPath(new URL(`../../fixtures/formats/${name}`, import.meta.url));
  await checkEveryLayer(fixtures('savez_compressed.npz'), { ...base, key: 'layers' }, [0, 1, 2], 12, 3);
  await checkEveryLayer(fixtures('h5py.h5'), { ...base, key: '/model/layers' }, [0, 2], 12, 3);
  await checkEveryLayer(fixtures('tensors.safetensors'), { ...base, key: 'layers' }, [2, 0], 12, 3);
});

test('bad --layers: out of range, repeated, with --layer, on 2-D input, on a text format', async () => {
  await rejects(analyze([cFile], { layers: [0, 4] }), 'layer 4 is out of range', 'use 0..3 or -4..-1');
  await rejects(analyze([cFile], { layers: [1, -3] }), 'layer 1 is asked for twice');
  await rejects(analyze([cFile], { layers: [1], layer: 0 }), 'either one layer (--layer) or several (--layers)');
  const flat = tmp.file('flat.npy', buildNpy({ descr: '<f8', shape: [N, D], values: layers[0] }));
  await rejects(analyze([flat], { layers: 'all' }), 'no layer axis', 'drop the layers option');
  const csv = tmp.file('x.csv', new TextEncoder().encode('1,2\n3,4\n5,7\n'));
  await rejects(analyze([csv], { layers: 'all' }), 'without a layer axis', 'drop the layers option');
});

test.run();
