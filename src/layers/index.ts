/**
 * `isotropy-toolkit/layers`: IsoBN as a TensorFlow.js Layers API layer, and a file IOHandler to
 * save and load models without `@tensorflow/tfjs-node`. Kept out of the main entry point so that
 * importing the statistics API does not load tfjs.
 *
 * ```ts
 * import { IsoBN, isoBN, fileIO } from 'isotropy-toolkit/layers';
 * const model = tf.sequential({ layers: [isoBN({ inputShape: [768] }), tf.layers.dense({ units: 2, activation: 'softmax' })] });
 * ```
 */
import { IsoBN, type IsoBNLayerArgs } from './isobn-layer.js';

export { IsoBN, type IsoBNLayerArgs, type IsoBNFactors } from './isobn-layer.js';
export { fileIO } from './file-io.js';
export { LayerError } from './errors.js';

/** `new IsoBN(args)`, in the style of `tf.layers.*` factories. */
export function isoBN(args: IsoBNLayerArgs = {}): IsoBN {
  return new IsoBN(args);
}
