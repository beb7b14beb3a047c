/**
 * One probe run: a classifier (linear, or one hidden layer) trained with Adam on the training
 * rows of one fold, optionally behind an IsoBN layer, scored on the held-out rows after every
 * epoch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initializers, layers, sequential, type LayersModel } from '@tensorflow/tfjs-layers';
import { mulberry32 } from '../analyze/sample.js';
import { IsoBN, type IsoBNLayerArgs } from '../layers/index.js';
import { mixSeed, shuffleInPlace } from './folds.js';
import type { ProbeModel } from './schema.js';

export type { ProbeModel } from './schema.js';

/** What one run trains, and how. */
export interface RunSpec {
  model: ProbeModel;
  /** IsoBN's options when the classifier sits behind an IsoBN layer, else null */
  isobn: IsoBNLayerArgs | null;
  /** hidden units of the mlp */
  hidden: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** seeds the initial weights and the batch order; runs that differ only in `isobn` share both */
  seed: number;
}

/** What one run gives. */
export interface RunResult {
  /** held-out accuracy after each epoch */
  curve: number[];
  /** held-out accuracy after the last epoch */
  accuracy: number;
  /** the first epoch (1-based) whose held-out accuracy is at least the final one */
  epochsToFinal: number;
  /** the IsoBN layer's inference scale after training (IsoBN runs only) */
  scale?: Float64Array;
}

/** The rows and labels every run of a probe shares, on the tfjs backend. */
export interface ProbeData {
  /** `rows x dims`, float32 */
  x: tf.Tensor2D;
  /** class index of each row, int32 */
  y: tf.Tensor1D;
  labels: Int32Array;
  classes: number;
}

/**
 * Trains one classifier on `train` and scores it on `test` after every epoch. Each epoch shuffles
 * the training rows (seeded) and feeds full batches only, as the official IsoBN training loop does
 * (`drop_last=True`): a short last batch never reaches the layer. A training set smaller than
 * `batchSize` is one batch.
 */
export function trainRun(data: ProbeData, train: Int32Array, test: Int32Array, spec: RunSpec): RunResult {
  const dims = data.x.shape[1];
  const { model, iso } = buildModel(dims, data.classes, spec);
  const optimizer = tf.train.adam(spec.learningRate);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const testIdx = tf.tensor1d(test, 'int32');
  const xTest = tf.gather(data.x, testIdx);
  try {
    const order = Int32Array.from(train);
    const next = mulberry32(mixSeed(spec.seed, 0x0bad5eed));
    const batch = Math.min(spec.batchSize, order.length);
    const steps = Math.floor(order.length / batch);
    const curve: number[] = [];
    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      shuffleInPlace(order, next);
      for (let s = 0; s < steps; s++) {
        tf.tidy(() => {
          const idx = tf.tensor1d(order.subarray(s * batch, (s + 1) * batch), 'int32');
          const xb = tf.gather(data.x, idx);
          const yb = tf.oneHot(tf.gather(data.y, idx), data.classes);
          optimizer.minimize(() => tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar, false, vars);
        });
      }
      curve.push(accuracy(model, xTest, test, data.labels));
    }
    const final = curve[curve.length - 1];
    const result: RunResult = { curve, accuracy: final, epochsToFinal: curve.findIndex((a) => a >= final) + 1 };
    if (iso) result.scale = iso.factors().scale;
    return result;
  } finally {
    tf.dispose([testIdx, xTest]);
    optimizer.dispose();
    model.dispose();
  }
}

function buildModel(dims: number, classes: number, spec: RunSpec): { model: LayersModel; iso: IsoBN | null } {
  const iso = spec.isobn ? new IsoBN({ ...spec.isobn, inputShape: [dims] }) : null;
  const first = iso ? {} : { inputShape: [dims] };
  const stack = [];
  if (iso) stack.push(iso);
  if (spec.model === 'mlp') {
    stack.push(layers.dense({ ...first, units: spec.hidden, activation: 'relu', kernelInitializer: initializers.glorotUniform({ seed: mixSeed(spec.seed, 1) }) }));
  }
  stack.push(layers.dense({
    ...(stack.length === 0 ? first : {}),
    units: classes,
    kernelInitializer: initializers.glorotUniform({ seed: mixSeed(spec.seed, 2) }),
  }));
  return { model: sequential({ layers: stack }), iso };
}

/** Share of `rows` whose predicted class (inference mode) is their label. */
function accuracy(model: LayersModel, x: tf.Tensor2D, rows: Int32Array, labels: Int32Array): number {
  const predicted = tf.tidy(() => tf.argMax(model.apply(x, { training: false }) as tf.Tensor, 1).dataSync());
  let right = 0;
  for (let i = 0; i < rows.length; i++) if (predicted[i] === labels[rows[i]]) right++;
  return right / rows.length;
}
