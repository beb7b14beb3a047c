export { TransformError } from './errors.js';
export { applyMap, mapMoments, outputDims, type AffineMap } from './affine-map.js';
export { isobn, isobnScale, isobnFactors, isobnOptions, ISOBN_DEFAULTS, type IsoBNOptions } from './isobn.js';
export { RunningIsoBN, RUNNING_DEFAULTS, type RunningIsoBNOptions } from './isobn-running.js';
export { isobnRunningUpdate } from './isobn-update.js';
export { standardizeMap } from './standardize.js';
export { whitenMap } from './whiten.js';
export { abttMap, defaultRemove } from './abtt.js';
export {
  TRANSFORM_NAMES, parseTransforms, needsOrderedRows, startOrderedFit, fitTransform,
  type TransformName, type TransformParams, type FittedTransform,
} from './registry.js';
