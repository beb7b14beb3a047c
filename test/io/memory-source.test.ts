import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NpyError, matrixSource } from '../../src/io/index.js';
import { collect, describeMismatch, ramp, sameValues } from './helpers.js';

const isRangeError = (e: unknown): boolean => e instanceof RangeError;
const isNpyError = (e: unknown): boolean => e instanceof NpyError;

function check(actual: ArrayLike<number>, expected: ArrayLike<number>, what = 'values'): void {
  assert.ok(sameValues(actual, expected), `${what}: ${describeMismatch(actual, expected)}`);
}

test('number[][] source: metadata, blocks, ranges', async () => {
  const src = matrixSource([
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 9.5],
  ]);
  assert.is(src.path, '<memory>');
  assert.is(src.rows, 3);
  assert.is(src.dims, 3);
  assert.is(src.dtype, '<f8');
  assert.is(src.fortranOrder, false);
  assert.equal([...src.shape], [3, 3]);
  assert.is(src.layer, null);
  assert.equal(src.notes, []);
  check(await collect(src), [1, 2, 3, 4, 5, 6, 7, 8, 9.5]);
  check(await collect(src, { blockRows: 2, start: 1 }), [4, 5, 6, 7, 8, 9.5]);
  check(await collect(src, { blockRows: 1, start: 1, end: 2 }), [4, 5, 6]);
});

test('Float64Array is row-major; blocks are copies', async () => {
  const data = ramp(12);
  const src = matrixSource(data, 4, 3);
  const blocks = [];
  for await (const b of src.blocks({ blockRows: 3 })) blocks.push(b);
  assert.equal(blocks.map((b) => [b.start, b.rows]), [[0, 3], [3, 1]]);
  blocks[0].data[0] = 999;
  assert.is(data[0], ramp(1)[0]);
  check(await collect(src, { blockRows: 5 }), ramp(12));
  // rows or dims alone is enough
  assert.is(matrixSource(data, 6).dims, 2);
  assert.is(matrixSource(data, undefined, 4).rows, 3);
});

test('Float32Array gives dtype <f4 and widened values', async () => {
  const f32 = new Float32Array([0.1, 0.2, 0.3, 0.4]);
  const src = matrixSource(f32, 2, 2);
  assert.is(src.dtype, '<f4');
  check(await collect(src), Array.from(f32));
});

test('inconsistent sizes throw RangeError; empty matrices are NpyErrors', async () => {
  assert.throws(() => matrixSource(ramp(12), 5, 3), isRangeError);
  assert.throws(() => matrixSource(ramp(12), 5), isRangeError);
  assert.throws(() => matrixSource(ramp(12)), isRangeError);
  assert.throws(() => matrixSource([[1, 2], [3]]), isRangeError);
  assert.throws(() => matrixSource([[1, 2]], 2), isRangeError);
  assert.throws(() => matrixSource([]), (e: unknown) => e instanceof NpyError && e.message.startsWith('<memory>: no rows'));
  assert.throws(() => matrixSource(new Float64Array(0), 0, 5), isNpyError);
  assert.throws(() => matrixSource([[], []]), isNpyError);
});

test('close() stops new passes', async () => {
  const src = matrixSource([[1]]);
  await src.close();
  assert.throws(() => src.blocks());
  await src.close();
});

test.run();
