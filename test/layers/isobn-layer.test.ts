// The tfjs IsoBN layer against the official PyTorch module (fixtures/isobn/make_isobn_torch.py ran
// INK-USC/IsoBN's class itself over fixed batches: running stats, scale and output after every
// batch, training then eval, float64 and float32).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { layers, loadLayersModel, sequential } from '@tensorflow/tfjs-layers';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IsoBN, LayerError, fileIO, isoBN } from '../../src/layers/index.ts';
import { RunningIsoBN, isobnFactors, isobnRunningUpdate } from '../../src/transforms/index.ts';
import { anisotropic } from '../helpers/random.ts';

const fx = JSON.parse(readFileSync(new URL('../../fixtures/isobn/torch_isobn.json', import.meta.url), 'utf8'));
const D: number = fx.dims;
const B: number = fx.batchSize;
const caseOf = (name: string) => fx.cases.find((c: any) => c.name === name);

/** Largest |a - e| relative to the largest |e| of the array (near-zero entries of a covariance have no relative precision of their own). */
function scaledDiff(a: ArrayLike<number>, e: ArrayLike<number>): number {
  assert.is(a.length, e.length);
  let diff = 0, big = 0;
  for (let i = 0; i < e.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - e[i]));
    big = Math.max(big, Math.abs(e[i]));
  }
  return diff / big;
}

/** Largest elementwise relative difference. */
function relDiff(a: ArrayLike<number>, e: ArrayLike<number>): number {
  assert.is(a.length, e.length);
  let m = 0;
  for (let i = 0; i < e.length; i++) m = Math.max(m, Math.abs(a[i] - e[i]) / Math.abs(e[i]));
  return m;
}

test.before(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

/** Feeds a fixture's batches through a layer in the fixture's modes; per step: stats, scale, output. */
function runLayer(c: any, layer: IsoBN) {
  return c.steps.map((s: any, k: number) => {
    const out = tf.tidy(() => {
      const x = tf.tensor2d(Float32Array.from(c.batches[k]), [B, D]);
      return (layer.apply(x, { training: s.mode === 'train' }) as tf.Tensor).dataSync();
    });
    return { ...layer.factors(), out };
  });
}

test('float32: the layer matches the official module after every batch, training then eval, to 1e-6', () => {
  const c = caseOf('defaults-float32');
  const got = runLayer(c, new IsoBN());
  c.steps.forEach((s: any, k: number) => {
    const g = got[k];
    const at = `batch ${k} (${s.mode})`;
    assert.ok(scaledDiff(g.cov, s.cov) < 1e-6, `cov, ${at}: ${scaledDiff(g.cov, s.cov)}`);
    assert.ok(relDiff(g.std, s.std) < 1e-6, `std, ${at}`);
    assert.ok(relDiff(g.scale, s.scale) < 1e-6, `scale, ${at}: ${relDiff(g.scale, s.scale)}`);
    assert.ok(relDiff(g.out, s.output) < 1e-6, `output, ${at}: ${relDiff(g.out, s.output)}`);
  });
  // eval batches leave the statistics alone
  const last = c.steps.length - 1;
  assert.equal(Array.from(got[last].std), Array.from(got[last - 2].std));
});

test("float64: the layer's math (the shared running update and scale) matches the official module to 1e-12", () => {
  // tfjs's cpu backend is float32 only; the layer runs this float64 code and stores its result in
  // float32 weights, so float64 equivalence is checked on the code path itself.
  for (const name of ['defaults-float64', 'options-float64']) {
    const c = caseOf(name);
    const { momentum, eps, beta } = c.options;
    const cov = new Float64Array(D * D), std = new Float64Array(D);
    c.steps.forEach((s: any, k: number) => {
      const x = Float64Array.from(c.batches[k]);
      if (s.mode === 'train') isobnRunningUpdate(cov, std, x, B, D, momentum);
      const { scale } = isobnFactors(cov, std, { eps, beta });
      const out = x.map((v, i) => v * scale[i % D]);
      const at = `${name} batch ${k} (${s.mode})`;
      assert.ok(relDiff(cov, s.cov) < 1e-12, `cov, ${at}`);
      assert.ok(relDiff(std, s.std) < 1e-12, `std, ${at}`);
      assert.ok(relDiff(scale, s.scale) < 1e-12, `scale, ${at}`);
      assert.ok(relDiff(out, s.output) < 1e-12, `output, ${at}`);
    });
  }
});

test('options: momentum, eps and beta act as in the official forward(momentum, eps, beta)', () => {
  const c = caseOf('options-float64');
  const layer = isoBN(c.options);
  const got = runLayer(c, layer);
  c.steps.forEach((s: any, k: number) => {
    assert.ok(relDiff(got[k].scale, s.scale) < 1e-6, `scale, batch ${k}`);
    assert.ok(relDiff(got[k].out, s.output) < 1e-6, `output, batch ${k}`);
  });
  assert.equal(layer.getConfig().momentum, 0.2);
  assert.equal([layer.eps, layer.beta], [1e-2, 0.7]);
});

test('isobn-running gives the final scale of the layer after the same full batches', () => {
  const c = caseOf('defaults-float64');
  const train = c.steps.filter((s: any) => s.mode === 'train').length;
  const rows = Float64Array.from(c.batches.slice(0, train).flat());
  const est = new RunningIsoBN(D, { batchSize: B, momentum: 0.05 });
  est.push(rows, train * B);
  assert.is(est.batches, train);
  assert.ok(relDiff(est.scale(), c.steps[train - 1].scale) < 1e-12, 'isobn-running = official, float64');
  const layer = new IsoBN();
  runLayer({ ...c, steps: c.steps.slice(0, train) }, layer);
  assert.ok(relDiff(layer.factors().scale, est.scale()) < 1e-6, 'layer (float32 weights) = isobn-running');
});

test('a constant dimension gets the documented rule (rho_ii = 1, rho_ij = 0), not NaN', () => {
  const d = 4, n = 16;
  const x = anisotropic(n, d, 3);
  for (let r = 0; r < n; r++) x[r * d + 2] = 0.5;
  const layer = new IsoBN();
  const out = tf.tidy(() => (layer.apply(tf.tensor2d(Float32Array.from(x), [n, d]), { training: true }) as tf.Tensor).dataSync());
  const f = layer.factors();
  assert.ok(f.scale.every(Number.isFinite) && out.every(Number.isFinite));
  assert.is(f.std[2], 0);
  const expected = isobnFactors(f.cov, f.std);
  assert.equal(Array.from(f.scale), Array.from(expected.scale));
  assert.ok(Math.abs(expected.gamma[2] - 1 / d) < 1e-15);
});

test('an untrained layer outputs zeros in inference (the official module gives NaN there)', () => {
  const layer = new IsoBN();
  const out = tf.tidy(() => (layer.apply(tf.ones([3, 5]), { training: false }) as tf.Tensor).dataSync());
  assert.ok(out.every((v) => v === 0));
});

test('gradient: d(output)/d(input) is the scale alone; nothing flows into the statistics', () => {
  const n = 16, d = 5;
  const x0 = tf.tensor2d(Float32Array.from(anisotropic(n, d, 4)), [n, d]);
  const layer = new IsoBN();
  const w = tf.variable(tf.ones([n, d]));
  const grads = tf.variableGrads(() => tf.sum(layer.apply(tf.mul(x0, w), { training: true }) as tf.Tensor) as tf.Scalar);
  const scale = layer.factors().scale;
  // with the scale detached, d/dw sum(x * w * a) = x * a exactly
  const g = grads.grads[w.name].dataSync();
  const x = x0.dataSync();
  for (let i = 0; i < n * d; i++) assert.ok(Math.abs(g[i] - x[i] * Math.fround(scale[i % d])) <= 1e-6 * Math.abs(x[i] * scale[i % d]) + 1e-12, `entry ${i}`);
  // the statistics are weights of the layer, none of them trainable, and get no gradient
  assert.equal(layer.trainableWeights.length, 0);
  assert.equal(layer.nonTrainableWeights.map((v) => v.originalName.split('/').pop()), ['running_cov', 'running_std']);
  for (const v of layer.weights) assert.not.ok(v.name in grads.grads, `${v.name} got a gradient`);
  assert.ok(w.name in grads.grads);
  tf.dispose([x0, w, grads.value, ...Object.values(grads.grads)]);
});

test('save and load through fileIO keep the running statistics, the options and the predictions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'isobn-layer-'));
  try {
    const n = 64, d = 6;
    const x = tf.tensor2d(Float32Array.from(anisotropic(n, d, 5)), [n, d]);
    const y = tf.tensor1d(Array.from({ length: n }, (_, i) => i % 2), 'float32');
    const model = sequential({ layers: [isoBN({ inputShape: [d], momentum: 0.1, eps: 2e-3 }), layers.dense({ units: 2, activation: 'softmax' })] });
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    await model.fit(x, y, { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 });
    const before = (model.layers[0] as IsoBN).factors();
    assert.ok(before.std.some((v) => v > 0), 'fit updated the running statistics');
    await model.save(fileIO(join(dir, 'm')));
    const loaded = await loadLayersModel(fileIO(join(dir, 'm', 'model.json')));
    // by class name: when the built package was imported in the same process (test/index.test.ts),
    // the registry holds dist's copy of the class, not this file's
    const iso = loaded.layers[0] as IsoBN;
    assert.is(iso.getClassName(), 'IsoBN');
    assert.equal([iso.momentum, iso.eps, iso.beta], [0.1, 2e-3, 0.5]);
    const after = iso.factors();
    assert.equal(Array.from(after.cov), Array.from(before.cov));
    assert.equal(Array.from(after.std), Array.from(before.std));
    const p1 = (model.predict(x) as tf.Tensor).dataSync();
    const p2 = (loaded.predict(x) as tf.Tensor).dataSync();
    assert.equal(Array.from(p2), Array.from(p1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fileIO: loading a missing model is a user error naming the path', async () => {
  try {
    await loadLayersModel(fileIO('/nonexistent/isobn-model'));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LayerError);
    assert.match((e as Error).message, '/nonexistent/isobn-model');
  }
});

test('bad options and inputs are LayerErrors', () => {
  assert.throws(() => new IsoBN({ momentum: 0 }), (e: Error) => e instanceof LayerError && /momentum/.test(e.message));
  assert.throws(() => new IsoBN({ eps: -1 }), (e: Error) => e instanceof LayerError && /eps/.test(e.message));
  assert.throws(() => new IsoBN({ beta: NaN }), (e: Error) => e instanceof LayerError && /beta/.test(e.message));
  assert.throws(() => new IsoBN().apply(tf.ones([2, 3, 4])), (e: Error) => e instanceof LayerError && /\[batch, d\]/.test(e.message));
});

test.run();
