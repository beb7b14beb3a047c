// Files in test/io/data were written by numpy 2.4 (np.save / np.lib.format.write_array /
// np.savez / pickle.dump; see data/README.md). Python is not needed to run these tests.
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openNpy, readEmbeddings } from '../../src/io/index.js';
import { collect, describeMismatch, ramp, rejects, sameValues } from './helpers.js';

const data = (name: string): string => fileURLToPath(new URL(`./data/${name}`, import.meta.url));

function check(actual: ArrayLike<number>, expected: ArrayLike<number>, what = 'values'): void {
  assert.ok(sameValues(actual, expected), `${what}: ${describeMismatch(actual, expected)}`);
}
/** np.arange(12).reshape(3, 4) * 0.25 - 1 */
const BASE = ramp(12, 0.25, -1);
/** np.arange(24).reshape(2, 3, 4) * 0.5 - 3 */
const CUBE = ramp(24, 0.5, -3);
const cubeLayer = (l: number): number[] => [...CUBE.subarray(l * 4, l * 4 + 4), ...CUBE.subarray(12 + l * 4, 12 + l * 4 + 4)];

test("np.save '<f4' 3x4", async () => {
  const r = await readEmbeddings(data('np_f4_c_3x4.npy'));
  assert.is(r.dtype, '<f4');
  assert.equal(r.shape, [3, 4]);
  check(r.data, BASE);
});

test("np.save '>f8' Fortran-order 3x4", async () => {
  const src = await openNpy(data('np_f8be_f_3x4.npy'));
  assert.is(src.dtype, '>f8');
  assert.is(src.fortranOrder, true);
  check(await collect(src), BASE);
  check(await collect(src, { blockRows: 1 }), BASE);
  check(await collect(src, { start: 1, end: 3, blockRows: 2 }), BASE.subarray(4));
});

test("np.save '<f2' 2x3x4: layers", async () => {
  for (const [layer, idx] of [[undefined, 2], [0, 0], [1, 1], [-3, 0]] as const) {
    const r = await readEmbeddings(data('np_f2_2x3x4.npy'), layer === undefined ? {} : { layer });
    assert.is(r.dtype, '<f2');
    assert.equal(r.shape, [2, 3, 4]);
    assert.is(r.layer, idx);
    assert.is(r.rows, 2);
    assert.is(r.dims, 4);
    check(r.data, cubeLayer(idx), `layer ${layer}`);
  }
});

test("np.save Fortran-order '<f4' 2x3x4", async () => {
  for (const layer of [0, 1, 2]) {
    const r = await readEmbeddings(data('np_f4_f_2x3x4.npy'), { layer });
    assert.is(r.fortranOrder, true);
    check(r.data, cubeLayer(layer), `layer ${layer}`);
  }
});

test('write_array version (2, 0) and (3, 0)', async () => {
  check((await readEmbeddings(data('np_v2_f4_5x2.npy'))).data, ramp(10, 1, -4.5));
  check((await readEmbeddings(data('np_v3_f8_2x2.npy'))).data, [1.5, -2, 3.25, 1e300]);
});

test('integer files convert with a note', async () => {
  const i2 = await readEmbeddings(data('np_i2be_2x3.npy'));
  check(i2.data, [-32768, -1, 0, 1, 2, 32767]);
  assert.ok(i2.notes.some((n) => n.includes('>i2')));
  const u1 = await readEmbeddings(data('np_u1_2x2.npy'));
  assert.is(u1.dtype, '|u1');
  check(u1.data, [0, 1, 128, 255]);
});

test('numpy files that must be refused', async () => {
  const p = data;
  await rejects(openNpy(p('np_1d.npy')), `${p('np_1d.npy')}: `, 'got shape (5,)', 'arr.reshape(1, -1)');
  await rejects(openNpy(p('np_object.npy')), `${p('np_object.npy')}: `, 'object arrays need pickle; isotropy never unpickles');
  await rejects(openNpy(p('np_structured.npy')), `${p('np_structured.npy')}: `, 'structured arrays are not supported');
  await rejects(openNpy(p('np_bool.npy')), `${p('np_bool.npy')}: `, '"|b1"', 'bool');
  await rejects(openNpy(p('np_complex.npy')), `${p('np_complex.npy')}: `, '"<c8"', 'complex');
  await rejects(openNpy(p('np_archive.npz')), `${p('np_archive.npz')}: `, "extract the array with np.load(f)['name'] and np.save it");
  await rejects(openNpy(p('np_pickle.pkl')), `${p('np_pickle.pkl')}: `, 'not a .npy file', 'pickle');
});

test.run();
