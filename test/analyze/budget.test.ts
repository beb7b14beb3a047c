// The memory budget: one estimator for every command that does d x d work, checked before any row
// is read; refusals say how much, the budget, and what to do.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyze } from '../../src/analyze/analyze.ts';
import {
  ResourceError, checkMemory, defaultMemoryBudget, estimateMemory, formatBytes, machineMemory, parseMemorySize, type WorkShape,
} from '../../src/analyze/budget.ts';
import type { EmbeddingSource } from '../../src/io/types.ts';
import { matrixSource } from '../../src/io/memory-source.ts';
import { anisotropic } from '../helpers/random.ts';

/** A source of any shape whose rows must never be read (the check comes first). */
function untouchable(rows: number, dims: number): EmbeddingSource {
  return {
    path: `<${rows} x ${dims}>`, rows, dims, dtype: '<f4', fortranOrder: false, shape: [rows, dims], layer: null, notes: [],
    blocks() { throw new Error('rows were read before the memory check'); },
    async close() {},
  };
}

const shape = (over: Partial<WorkShape>): WorkShape => ({
  dims: 1024, rows: 100_000, transforms: ['isobn'], workers: 0, backend: 'native', diagnostics: true, secondPass: true, ...over,
});

test('sizes: bytes, units (powers of 1024) and percentages of the machine', () => {
  assert.is(parseMemorySize(1234), 1234);
  assert.is(parseMemorySize('512M'), 512 * 2 ** 20);
  assert.is(parseMemorySize('1.5 GiB'), 1.5 * 2 ** 30);
  assert.is(parseMemorySize('8g'), 8 * 2 ** 30);
  assert.is(parseMemorySize('50%'), Math.floor(machineMemory() / 2));
  assert.is(defaultMemoryBudget(), Math.floor(machineMemory() / 2));
  for (const bad of ['', 'lots', '-1G', '0', '150%', '1X', 0, -5, NaN]) {
    assert.throws(() => parseMemorySize(bad as string), (e: Error) => e instanceof ResourceError && /`maxMemory` must be a size/.test(e.message), String(bad));
  }
  assert.is(formatBytes(3 * 2 ** 30), '3.0 GiB');
  assert.is(formatBytes(100), '100 bytes');
});

test('the estimate grows with d^2, the views and the worker threads; rows << d take the low-rank path', () => {
  const base = estimateMemory(shape({}));
  assert.is(base.matrix, 8 * 1024 * 1024);
  assert.ok(estimateMemory(shape({ dims: 2048 })).bytes > 3.5 * (base.bytes - 160 * 2 ** 20));
  assert.ok(estimateMemory(shape({ transforms: ['isobn', 'whiten', 'abtt'] })).bytes > base.bytes);
  assert.ok(estimateMemory(shape({ workers: 4, backend: 'wasm' })).bytes > base.bytes);
  assert.ok(estimateMemory(shape({ diagnostics: false, secondPass: false })).bytes < base.bytes);
  assert.ok(estimateMemory(shape({ rows: 2, dims: 4096 })).matrices < estimateMemory(shape({ rows: 100_000, dims: 4096 })).matrices);
  assert.is(base.hardLimit, null);
});

test('hard limits no budget lifts: a d x d array past 2^32 entries, a wasm memory past 4 GiB', () => {
  assert.match(estimateMemory(shape({ dims: 65536, rows: 2 })).hardLimit!, 'd must be at most 65535');
  assert.is(estimateMemory(shape({ dims: 65535, rows: 2 })).hardLimit, null);
  assert.match(estimateMemory(shape({ dims: 30000, backend: 'wasm', workers: 2 })).hardLimit!, 'WebAssembly memory');
  assert.is(estimateMemory(shape({ dims: 30000, backend: 'native' })).hardLimit, null);
});

test('checkMemory: one line with the need, the budget and what to do', () => {
  const s = shape({ dims: 8192, transforms: ['isobn', 'whiten'], workers: 2, backend: 'wasm' });
  try {
    checkMemory(estimateMemory(s), 2 ** 30, 'emb.npy: analyzing 8192 dimensions', s);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ResourceError);
    const m = (e as Error).message;
    assert.not.match(m, '\n');
    assert.match(m, /^emb\.npy: analyzing 8192 dimensions needs about \d+(\.\d)? GiB of memory \(\d+ matrices of 512 MiB\), more than the budget of 1\.0 GiB \(`maxMemory`\); use fewer transforms, fewer `threads`, no report data \(`diagnostics`\), fewer dimensions/);
  }
  checkMemory(estimateMemory(shape({})), 64 * 2 ** 30, 'fits');
});

test('analyze refuses before reading a row: too wide for the budget, or for any array', async () => {
  for (const [src, opts, want] of [
    [untouchable(3, 30000), { maxMemory: '4G' }, /<3 x 30000>: analyzing 30000 dimensions needs about .* GiB of memory .* more than the budget of 4\.0 GiB/],
    [untouchable(2, 65536), {}, /<2 x 65536>: analyzing 65536 dimensions cannot run here: .*\(d must be at most 65535\)/],
    [untouchable(10, 2048), { maxMemory: 1e6, backend: 'js', threads: 1 }, /needs about .* more than the budget of 977 KiB/],
  ] as const) {
    try {
      await analyze([src], opts);
      assert.unreachable('no error');
    } catch (e) {
      assert.instance(e, ResourceError);
      assert.match((e as Error).message, want);
    }
  }
  // every input is checked before the first is read: a good first input does not run
  try {
    await analyze([untouchable(100, 8), untouchable(2, 65536)]);
    assert.unreachable('no error');
  } catch (e) {
    assert.instance(e, ResourceError);
  }
});

test('analyze under a tight budget drops threads rather than refusing (when threads are not given)', async () => {
  const x = anisotropic(3000, 64, 3);
  const budget = estimateMemory({ dims: 64, rows: 3000, transforms: ['isobn'], workers: 0, backend: 'wasm', diagnostics: false, secondPass: true }).bytes + 1000;
  const a = await analyze([matrixSource(x, undefined, 64)], { backend: 'wasm', maxMemory: budget, diagnostics: false, blockRows: 100 });
  assert.is(a.backend?.threads, 1);
  // the same with threads asked for explicitly is refused, naming `threads`
  try {
    await analyze([matrixSource(x, undefined, 64)], { backend: 'wasm', threads: 8, maxMemory: budget, diagnostics: false, blockRows: 100 });
    assert.unreachable('no error');
  } catch (e) {
    assert.match((e as Error).message, 'fewer `threads`');
  }
});

test.run();
