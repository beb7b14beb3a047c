import { AsyncLocalStorage } from 'node:async_hooks';
import { eigh as ownEigh, type Eigh } from './eigh.js';

/** An eigensolver with {@link ownEigh}'s contract for the `vectors` option. */
export type EighSolver = (m: Float64Array, d: number, opts: { vectors?: boolean }) => Eigh;

const scoped = new AsyncLocalStorage<EighSolver>();

/**
 * Symmetric eigendecomposition: linalg's own solver ({@link ownEigh}, same contract), or the
 * backend's (LAPACK dsyevd through the native addon) inside {@link withEighSolver}. With `top`,
 * the backend's solver computes every vector and the leading `top` columns are kept: LAPACK's
 * full decomposition is faster than our own top-k path from d = 1024 up (12 s against 19 s at
 * d = 4096).
 */
export function eigh(m: Float64Array, d: number, opts: Parameters<typeof ownEigh>[2] = {}): Eigh {
  const solver = scoped.getStore();
  if (!solver) return ownEigh(m, d, opts);
  if (opts.vectors && opts.top !== undefined && opts.top < d) {
    // validate `top` as the own solver does
    if (!Number.isInteger(opts.top) || opts.top < 1) return ownEigh(m, d, opts);
    const full = solver(m, d, { vectors: true });
    const k = opts.top;
    const vectors = new Float64Array(d * k);
    for (let i = 0; i < d; i++) vectors.set(full.vectors!.subarray(i * d, i * d + k), i * k);
    return { values: full.values, vectors };
  }
  return solver(m, d, { vectors: opts.vectors });
}

/**
 * Runs `fn` with `solver` behind {@link eigh} for everything it calls, synchronously or not
 * (AsyncLocalStorage: concurrent analyses keep their own solvers); `undefined` changes nothing.
 */
export function withEighSolver<T>(solver: EighSolver | undefined, fn: () => T): T {
  return solver ? scoped.run(solver, fn) : fn();
}
