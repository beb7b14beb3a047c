import { createRequire } from 'node:module';
import path from 'node:path';
import { tfjsKernels, type Tfjs } from './tfjs-kernels.js';
import type { KernelBackend } from './types.js';

/**
 * The portable backend: @tensorflow/tfjs-backend-wasm's XNNPACK kernels (128-bit SIMD), float32
 * products merged in float64. tfjs-wasm runs single-threaded under Node, so parallelism comes from
 * one backend per worker thread; this makes it the current tfjs backend of the calling thread,
 * so call it in a worker (or a process that uses tfjs for nothing else).
 *
 * @throws Error with the reason when the package or its .wasm binary cannot be loaded
 */
export async function loadWasmBackend(): Promise<KernelBackend> {
  const tf: Tfjs = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // Under Node the loader cannot guess where the .wasm files are once imported from elsewhere.
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
  tf.env().set('PROD', true);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs-backend-wasm failed to initialise');
  await tf.ready();
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const detail = `tfjs-backend-wasm ${wasm.version_wasm} (XNNPACK${simd ? ', SIMD' : ', no SIMD'}), float32 products merged in float64`;
  return tfjsKernels(tf, 'wasm', detail, false);
}

/** Why the wasm backend cannot run here, or null when its package resolves (cheap; loads nothing). */
export function wasmUnavailableReason(): string | null {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
  } catch {
    return '@tensorflow/tfjs-backend-wasm is not installed';
  }
  return typeof (globalThis as { WebAssembly?: unknown }).WebAssembly === 'object' ? null : 'this JavaScript engine has no WebAssembly';
}
