import { tfjsKernels, type Tfjs } from './tfjs-kernels.js';
import type { KernelBackend } from './types.js';

// A variable specifier keeps TypeScript from resolving the optional package at compile time.
const TFJS_NODE = '@tensorflow/tfjs-node';

/**
 * Kernels on native TensorFlow through @tensorflow/tfjs-node (an optional dependency whose
 * install downloads libtensorflow; it is not installed where this was written, so this adapter is
 * thin and untested there). TensorFlow threads its own matMul, so it runs on the calling thread.
 * Same float32 products merged in float64 as the wasm backend. Uses tfjs-node's own copy of
 * tfjs-core, so a version mismatch with ours does not matter.
 *
 * @returns the backend, or the reason it cannot load
 */
export async function loadTfjsNodeBackend(): Promise<KernelBackend | string> {
  let tf: Tfjs & { version?: Record<string, string> };
  try {
    tf = (await import(TFJS_NODE)) as Tfjs;
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return `${TFJS_NODE} is not installed or its native binding failed to load (${msg})`;
  }
  try {
    if (!(await tf.setBackend('tensorflow'))) return `${TFJS_NODE} loaded but its 'tensorflow' backend failed to initialise`;
    await tf.ready();
  } catch (err) {
    return `${TFJS_NODE} failed to initialise: ${err instanceof Error ? err.message : String(err)}`;
  }
  const version = tf.version?.['tfjs-node'] ?? tf.version_core;
  return tfjsKernels(tf, 'tfjs-node', `@tensorflow/tfjs-node ${version} (TensorFlow), float32 products merged in float64`, true);
}
