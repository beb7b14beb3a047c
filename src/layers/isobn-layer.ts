/**
 * IsoBN as a TensorFlow.js Layers API layer, with the semantics of the official PyTorch module
 * (Zhou, Lin & Ren, AAAI 2021; INK-USC/IsoBN `model.py`, class `IsoBN`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputSpec, initializers, layers, type LayerVariable, type Shape } from '@tensorflow/tfjs-layers';
import { ISOBN_DEFAULTS, RUNNING_DEFAULTS, isobnFactors, isobnRunningUpdate } from '../transforms/index.js';
import { LayerError } from './errors.js';

/** The layer's options; the base layer's (`name`, `inputShape`, ...) go alongside. */
export interface IsoBNLayerArgs {
  /** weight of each training batch in the running covariance and std; default 0.05 */
  momentum?: number;
  /** added to gamma_i s_i before the power, and to the energy denominator; default 1e-3 */
  eps?: number;
  /** exponent of the scale: (gamma_i s_i + eps)^(-beta); default 0.5 */
  beta?: number;
  /** the base layer's options (Keras-style) */
  name?: string;
  inputShape?: (number | null)[];
  batchInputShape?: (number | null)[];
  batchSize?: number;
  trainable?: boolean;
  dtype?: 'float32';
}

/** What the scale of the layer is made of, in float64: see {@link IsoBN.factors}. */
export interface IsoBNFactors {
  /** running `d x d` covariance, row-major (the stored float32 values, widened) */
  cov: Float64Array;
  /** running per-dimension std */
  std: Float64Array;
  /** gamma_i = mean_j rho_ij^2 */
  gamma: Float64Array;
  /** the factor each dimension is multiplied by */
  scale: Float64Array;
}

/**
 * IsoBN (isotropic batch normalization) for inputs of shape `[batch, d]`, such as BERT's pooler
 * output before the classifier. It multiplies each dimension by a factor that penalizes
 * dimensions with a large std and strong correlations with the others:
 *
 * - training (`training: true`, as in `model.fit`): the running covariance C and std s move
 *   towards the batch's biased covariance and std, C += m (C_b - C), s += m (s_b - s), **before**
 *   the scale is computed, so the batch is scaled with statistics that include it. Both start at
 *   zero, so after t batches they carry a factor 1 - (1 - m)^t, as in the official code;
 * - inference: the running statistics as they are, no update;
 * - the scale: rho = clamp(C / (s s^T), -1, 1), gamma_i = mean_j rho_ij^2,
 *   a_i = (gamma_i s_i + eps)^(-beta), times sqrt(trace C / (sum_i C_ii a_i^2 + eps));
 *   output = input * a, with a a constant for the gradient (the official `detach()`), so the
 *   gradient with respect to the input is `a` and nothing flows into the statistics.
 *
 * The running covariance (`running_cov`, `d x d`) and std (`running_std`, `d`) are
 * non-trainable weights: `model.save` stores them and `loadLayersModel` restores them (the
 * official code keeps them as plain tensors and loses them). The class is registered for
 * serialization as `IsoBN`.
 *
 * Deviations from the official code, both where it would return NaN: a dimension whose running
 * std is 0 (a constant dimension, or every dimension before the first training batch) has
 * rho_ii = 1 and rho_ij = 0; so a layer never trained outputs zeros (the energy factor is
 * sqrt(0 / eps)) where the official module outputs NaN.
 *
 * The statistics and the scale are computed in float64 on the CPU (the same code as the
 * `isobn-running` transform) and stored as float32: every call reads the batch back from the
 * backend (`dataSync`), which is cheap on the cpu and wasm backends and a sync point on GPUs.
 */
export class IsoBN extends layers.Layer {
  /** @nocollapse */
  static className = 'IsoBN';
  readonly momentum: number;
  readonly eps: number;
  readonly beta: number;
  private runningCov: LayerVariable | null = null;
  private runningStd: LayerVariable | null = null;

  /**
   * @throws LayerError when momentum is not in (0, 1], eps is negative or not finite, or
   *   beta is not finite
   */
  constructor(args: IsoBNLayerArgs = {}) {
    const { momentum, eps, beta, ...base } = args;
    super(base);
    this.momentum = momentum ?? RUNNING_DEFAULTS.momentum;
    this.eps = eps ?? ISOBN_DEFAULTS.eps;
    this.beta = beta ?? ISOBN_DEFAULTS.beta;
    if (!(this.momentum > 0 && this.momentum <= 1)) {
      throw new LayerError(`IsoBN: momentum must be in (0, 1], got ${this.momentum}`);
    }
    if (!Number.isFinite(this.eps) || this.eps < 0) throw new LayerError(`IsoBN: eps must be a finite number >= 0, got ${this.eps}`);
    if (!Number.isFinite(this.beta)) throw new LayerError(`IsoBN: beta must be a finite number, got ${this.beta}`);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const d = shape[shape.length - 1];
    if (shape.length !== 2 || d == null) {
      throw new LayerError(`IsoBN: the input must have shape [batch, d] with d known, got [${shape.map((v) => v ?? 'null').join(', ')}]`);
    }
    this.inputSpec = [new InputSpec({ ndim: 2, axes: { 1: d } })];
    this.runningCov = this.addWeight('running_cov', [d, d], 'float32', initializers.zeros(), undefined, false);
    this.runningStd = this.addWeight('running_std', [d], 'float32', initializers.zeros(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (Array.isArray(inputs) && inputs.length !== 1) throw new LayerError(`IsoBN: expects one input, got ${inputs.length}`);
      if (kwargs.training === true) this.update(x);
      const scale = this.factors().scale;
      return tf.mul(x, tf.tensor1d(Float32Array.from(scale), 'float32'));
    });
  }

  /**
   * The running statistics, gamma and the scale the next inference call applies (float64,
   * computed from the stored float32 statistics).
   */
  factors(): IsoBNFactors {
    const { cov, std } = this.runningStats();
    return { cov, std, ...isobnFactors(cov, std, { eps: this.eps, beta: this.beta }) };
  }

  /** The running covariance (`d x d`, row-major) and std as stored, widened to float64. */
  runningStats(): { cov: Float64Array; std: Float64Array } {
    const [covVar, stdVar] = this.stats();
    return { cov: Float64Array.from(covVar.read().dataSync()), std: Float64Array.from(stdVar.read().dataSync()) };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { momentum: this.momentum, eps: this.eps, beta: this.beta, ...super.getConfig() };
  }

  /** One training step of the running statistics on a batch (the shared float64 update). */
  private update(x: tf.Tensor): void {
    const [covVar, stdVar] = this.stats();
    const [rows, d] = x.shape as [number, number];
    const { cov, std } = this.runningStats();
    isobnRunningUpdate(cov, std, x.dataSync() as Float32Array, rows, d, this.momentum);
    covVar.write(tf.tensor2d(Float32Array.from(cov), [d, d], 'float32'));
    stdVar.write(tf.tensor1d(Float32Array.from(std), 'float32'));
  }

  private stats(): [LayerVariable, LayerVariable] {
    if (!this.runningCov || !this.runningStd) throw new LayerError('IsoBN: the layer is not built yet: apply it to an input first');
    return [this.runningCov, this.runningStd];
  }
}

tf.serialization.registerClass(IsoBN);
