import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../../src/extract/backend.ts';
import { ExtractError } from '../../src/extract/types.ts';
import { encoderKernelsUnavailableReason } from '../../src/extract/native-kernels.ts';

const hasNative = encoderKernelsUnavailableReason() === null;

const require = createRequire(import.meta.url);
function hasTfjsNode(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

test('initBackend() picks native where the addon is built, else one of the tfjs three, and is idempotent', async () => {
  const name = await initBackend();
  if (hasNative) assert.is(name, 'native');
  else {
    assert.ok((['tensorflow', 'wasm', 'cpu'] as BackendName[]).includes(name));
    assert.is(tf.getBackend(), name);
    // without tfjs-node installed the default is wasm
    if (!hasTfjsNode()) assert.is(name, 'wasm');
  }
  assert.is(await initBackend(), name);
});

test('native leaves tfjs alone; without the addon it is a clear ExtractError', async () => {
  assert.is(await initBackend('wasm'), 'wasm');
  if (hasNative) {
    assert.is(await initBackend('native'), 'native');
    assert.is(tf.getBackend(), 'wasm');
    assert.is(await initBackend(), 'native');
  } else {
    try {
      await initBackend('native');
      assert.unreachable('should have thrown');
    } catch (err) {
      assert.instance(err, ExtractError);
      assert.match((err as Error).message, /native BLAS addon/);
    }
  }
});

test('prefer cpu, then wasm; a later initBackend() keeps the last choice', async () => {
  assert.is(await initBackend('cpu'), 'cpu');
  assert.is(tf.getBackend(), 'cpu');
  assert.is(await initBackend(), 'cpu');
  assert.is(await initBackend('wasm'), 'wasm');
  assert.is(tf.getBackend(), 'wasm');
  const x = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([1, 0, 0, 1], [2, 2]));
  assert.equal(Array.from(await x.data()), [1, 2, 3, 4]);
  tf.dispose(x);
});

test('concurrent calls agree', async () => {
  const [a, b, c] = await Promise.all([initBackend('cpu'), initBackend(), initBackend()]);
  assert.is(a, 'cpu');
  assert.is(b, 'cpu');
  assert.is(c, 'cpu');
});

test('prefer tensorflow without tfjs-node is a clear ExtractError', async () => {
  if (hasTfjsNode()) {
    // installed here: it must then load (or say why)
    try {
      assert.is(await initBackend('tensorflow'), 'tensorflow');
    } catch (err) {
      assert.instance(err, ExtractError);
    }
    return;
  }
  const current = tf.getBackend();
  try {
    await initBackend('tensorflow');
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, ExtractError);
    assert.match((err as Error).message, /tfjs-node/);
    assert.match((err as Error).message, /wasm/);
  }
  assert.is(tf.getBackend(), current, 'a failed preference leaves the current backend alone');
});

test('an unknown backend name is an ExtractError', async () => {
  try {
    await initBackend('webgl' as BackendName);
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, ExtractError);
  }
});

test.run();
