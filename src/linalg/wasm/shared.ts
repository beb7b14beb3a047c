import { Arena, kernelInstance, type KernelExports } from './instance.js';

/** Kernel memory a single call may lay out: far below wasm32's 4 GiB, and i32 addresses stay positive. */
const MAX_BYTES = 2 ** 30;

let shared: { k: KernelExports; arena: Arena } | null | undefined;
let enabled = true;

/**
 * This thread's kernel instance for the eigensolver's loops (products, tridiagonalization), or
 * null without WebAssembly SIMD, when turned off by {@link useEighKernels}, or when the call would
 * need more than 1 GiB of kernel memory (`bytes`; the caller then runs its plain loops).
 */
export function eighKernels(bytes = 0): { k: KernelExports; arena: Arena } | null {
  if (!enabled || bytes > MAX_BYTES) return null;
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
