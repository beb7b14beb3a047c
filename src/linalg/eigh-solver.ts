import { AsyncLocalStorage } from 'node:async_hooks';
import { eigh as ownEigh, type Eigh } from './eigh.js';

/** An eigensolver with {@link ownEigh}'s contract for the `vectors` option. */
export type EighSolver = (m: Float64Array, d: number, opts: { vectors?: boolean }) => Eigh;

const scoped = new AsyncLocalStorage<EighSolver>();

/**
 * Symmetric eigendecomposition: linalg's own solver ({@link ownEigh}, same contract), or the
 * backend's (LAPACK dsyevd through the native addon) inside {@link withEighSolver}. Calls with
 * options other than `vectors` always go to the own solver.
 */
export function eigh(m: Float64Array, d: number, opts: Parameters<typeof ownEigh>[2] = {}): Eigh {
  const solver = scoped.getStore();
  if (solver && Object.keys(opts).every((k) => k === 'vectors')) return solver(m, d, opts);
  return ownEigh(m, d, opts);
}

/**
 * Runs `fn` with `solver` behind {@link eigh} for everything it calls, synchronously or not
 * (AsyncLocalStorage: concurrent analyses keep their own solvers); `undefined` changes nothing.
 */
export function withEighSolver<T>(solver: EighSolver | undefined, fn: () => T): T {
  return solver ? scoped.run(solver, fn) : fn();
}
