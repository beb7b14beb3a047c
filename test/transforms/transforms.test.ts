import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readEmbeddings } from '../../src/io/index.ts';
import { StatsAccumulator } from '../../src/stats/accumulator.ts';
import { momentsOf } from '../../src/stats/moments.ts';
import { applyMap, mapMoments } from '../../src/transforms/affine-map.ts';
import { isobn, isobnFactors, isobnScale } from '../../src/transforms/isobn.ts';
import { RunningIsoBN } from '../../src/transforms/isobn-running.ts';
import { fitTransform, parseTransforms, TRANSFORM_NAMES } from '../../src/transforms/registry.ts';
import { defaultRemove } from '../../src/transforms/abtt.ts';
import { TransformError } from '../../src/transforms/errors.ts';
import { anisotropic, maxRelDiff, naiveCovariance } from '../helpers/random.ts';

const golden = JSON.parse(readFileSync(new URL('../../fixtures/golden/expected.json', import.meta.url), 'utf8'));
const base = golden.cases.find((c: any) => c.file === 'base_f8.npy');
const basePath = new URL('../../fixtures/golden/base_f8.npy', import.meta.url).pathname;

test('isobn() on an in-memory matrix gives the scale of the numpy port of the official code', async () => {
  const x = await readEmbeddings(basePath);
  const { output, scale } = isobn(x.data, x.rows, x.dims);
  assert.ok(maxRelDiff(scale, base.results.isobn.scale) < 1e-12);
  assert.is(output[5 * x.dims + 3], x.data[5 * x.dims + 3] * scale[3]);
});

test('isobn-running replays the official training-time estimator, whatever the block boundaries', async () => {
  const x = await readEmbeddings(basePath);
  for (const block of [1, 5, 16, 37, x.rows]) {
    const est = new RunningIsoBN(x.dims);
    for (let r = 0; r < x.rows; r += block) {
      const b = Math.min(block, x.rows - r);
      est.push(x.data.subarray(r * x.dims, (r + b) * x.dims), b);
    }
    assert.ok(maxRelDiff(est.scale(), base.results['isobn-running'].scale) < 1e-12, `block ${block}`);
    assert.is(est.batches, Math.floor(x.rows / 16));
  }
});

test('isobn scale: equal stds and no correlation give equal factors; total variance is kept', () => {
  const cov = Float64Array.from([4, 0, 0, 4]);
  const a = isobnScale(cov, Float64Array.from([2, 2]));
  assert.ok(Math.abs(a[0] - a[1]) < 1e-15);
  // trace(cov) ~= sum cov_ii a_i^2 (up to eps)
  const after = 4 * a[0] ** 2 + 4 * a[1] ** 2;
  assert.ok(Math.abs(after - 8) < 1e-2);
});

test('isobn scale: a constant dimension gets no correlation and no NaN', () => {
  const cov = Float64Array.from([1, 0, 0, 0]);
  const a = isobnScale(cov, Float64Array.from([1, 0]));
  assert.ok(a.every(Number.isFinite));
});

/** Random anisotropic rows and their moments. */
function sample(n: number, d: number, seed: number) {
  const x = anisotropic(n, d, seed);
  const acc = new StatsAccumulator(d);
  acc.push(x, n);
  return { x, m: momentsOf(acc) };
}

test('moments derived through a map equal the moments of the mapped rows (every transform)', () => {
  const n = 150, d = 7;
  const { x, m } = sample(n, d, 21);
  const running = new RunningIsoBN(d);
  running.push(x, n);
  for (const name of TRANSFORM_NAMES) {
    const f = fitTransform(name, m, { keep: name === 'whiten' ? 5 : undefined, remove: 2 }, running);
    const mapped = mapMoments(f.map, m);
    const y = applyMap(f.map, x, n, d);
    const ref = naiveCovariance(y, n, mapped.dims);
    const scaleOf = Math.max(...ref.cov.map(Math.abs));
    assert.ok(maxRelDiff(mapped.cov, ref.cov, scaleOf) < 1e-9, name);
    assert.ok(maxRelDiff(mapped.mean, ref.mean, 1) < 1e-9, name);
  }
});

test('whiten gives identity covariance over the kept components; abtt removes the top directions', () => {
  const { m } = sample(120, 6, 5);
  const w = mapMoments(fitTransform('whiten', m, { keep: 4 }).map, m);
  assert.is(w.dims, 4);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) assert.ok(Math.abs(w.cov[i * 4 + j] - (i === j ? 1 : 0)) < 1e-9);
  const ab = fitTransform('abtt', m, { remove: 2 });
  assert.is(ab.params.remove, 2);
  const am = mapMoments(ab.map, m);
  assert.ok(Math.max(...am.mean.map(Math.abs)) < 1e-9, 'abtt centers');
});

test('abtt default: max(1, round(d / 100)), halves rounding up', () => {
  assert.equal([12, 49, 50, 150, 250, 768, 1024].map(defaultRemove), [1, 1, 1, 2, 3, 8, 10]);
});

test('parseTransforms: lists, none, duplicates and unknown names', () => {
  assert.equal(parseTransforms('isobn,standardize'), ['isobn', 'standardize']);
  assert.equal(parseTransforms(['isobn', 'isobn, whiten']), ['isobn', 'whiten']);
  assert.equal(parseTransforms('none'), []);
  assert.throws(() => parseTransforms('isobm'), (e: Error) => e instanceof TransformError && /unknown transform "isobm".*isobn-running/.test(e.message));
});

test('bad parameters are TransformErrors that name the API option (the CLI shows the flag)', () => {
  const { m } = sample(10, 3, 2);
  assert.throws(() => fitTransform('isobn', m, { eps: -1 }), /`eps`/);
  assert.throws(() => fitTransform('whiten', m, { keep: 4 }), /`keep` must be a whole number from 1 to 3/);
  assert.throws(() => fitTransform('abtt', m, { remove: 3 }), /`remove`/);
  assert.throws(() => new RunningIsoBN(3, { batchSize: 0 }), /`batchSize`/);
  assert.throws(() => new RunningIsoBN(3, { momentum: 2 }), /`momentum`/);
  assert.throws(() => fitTransform('isobn-running', m), /original order/);
});

test('isobn-running drops a short final batch (DataLoader(drop_last=True)) unless keepLastBatch', () => {
  const d = 4, n = 40;
  const x = anisotropic(n, d, 8);
  // reference: the official update, written out, over the full batches only / over all
  const replay = (batches: number[][]) => {
    const cov = new Float64Array(d * d), std = new Float64Array(d);
    for (const rows of batches) {
      const b = rows.length;
      const mean = new Float64Array(d);
      for (const r of rows) for (let c = 0; c < d; c++) mean[c] += x[r * d + c] / b;
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (const r of rows) s += (x[r * d + i] - mean[i]) ** 2;
        std[i] += 0.05 * (Math.sqrt(s / b) - std[i]);
        for (let j = 0; j < d; j++) {
          let c = 0;
          for (const r of rows) c += (x[r * d + i] - mean[i]) * (x[r * d + j] - mean[j]);
          cov[i * d + j] += 0.05 * (c / b - cov[i * d + j]);
        }
      }
    }
    return isobnFactors(cov, std).scale;
  };
  const rows = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);
  const full = [rows(0, 16), rows(16, 32)];
  const dropped = new RunningIsoBN(d);
  dropped.push(x, n);
  assert.ok(maxRelDiff(dropped.scale(), replay(full)) < 1e-12);
  assert.is(dropped.batches, 2);
  assert.is(dropped.droppedRows, 8);
  const kept = new RunningIsoBN(d, { keepLastBatch: true });
  kept.push(x, n);
  assert.ok(maxRelDiff(kept.scale(), replay([...full, rows(32, 40)])) < 1e-12);
  assert.is(kept.batches, 3);
  assert.ok(maxRelDiff(kept.scale(), dropped.scale()) > 1e-6, 'the last batch moves the scale');
  // the fitted transform says which it did; fewer rows than one batch is an error naming the options
  const acc = new StatsAccumulator(d);
  acc.push(x, n);
  assert.is(fitTransform('isobn-running', momentsOf(acc), {}, dropped).params.keepLastBatch, 0);
  const tiny = new RunningIsoBN(d);
  tiny.push(x, 10);
  assert.throws(() => fitTransform('isobn-running', momentsOf(acc), {}, tiny), /no full batch of 16.*`batchSize`.*`keepLastBatch`/);
});

test.run();
