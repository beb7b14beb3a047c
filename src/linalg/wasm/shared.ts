import { Arena, kernelInstance, type KernelExports } from './instance.js';

let shared: { k: KernelExports; arena: Arena } | null | undefined;
let enabled = true;

/**
 * This thread's kernel instance for the eigensolver's loops (products, tridiagonalization), or
 * null without WebAssembly SIMD or when turned off by {@link useEighKernels}.
 */
export function eighKernels(): { k: KernelExports; arena: Arena } | null {
  if (!enabled) return null;
  if (shared === undefined) {
    const k = kernelInstance();
    shared = typeof k === 'string' ? null : { k, arena: new Arena(k.memory) };
  }
  return shared;
}

/** Turns the eigensolver's kernels off (or back on) for this thread: lets tests compare them with the plain loops. */
export function useEighKernels(on: boolean): void {
  enabled = on;
}
