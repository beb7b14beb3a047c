import { performance } from 'node:perf_hooks';

/**
 * Where an analysis spends its time, for profiling (`ISOTROPY_PHASES=1 isotropy analyze ...`
 * prints it on stderr; the bench reads that line). Off unless the environment variable is set, so
 * the passes pay one boolean test per block. Times are wall-clock seconds on this thread; work done
 * on worker threads shows as the time this thread waited for it (`pass1`/`pass2` compute).
 */
export const PHASES_ENABLED = Boolean(process.env.ISOTROPY_PHASES) && process.env.ISOTROPY_PHASES !== '0';

const totals = new Map<string, number>();
/** phases measured on worker threads (summed over them), sent back with their partial results */
const threadTotals = new Map<string, number>();

/** Adds the time since `t0` (a {@link phaseStart} value) to phase `name`. */
export function phaseEnd(name: string, t0: number): void {
  if (!PHASES_ENABLED) return;
  totals.set(name, (totals.get(name) ?? 0) + (performance.now() - t0) / 1000);
}

/** A start time for {@link phaseEnd}; 0 when profiling is off. */
export function phaseStart(): number {
  return PHASES_ENABLED ? performance.now() : 0;
}

/** Runs `fn`, adding its duration to phase `name`. */
export function timed<T>(name: string, fn: () => T): T {
  if (!PHASES_ENABLED) return fn();
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    phaseEnd(name, t0);
  }
}

/** The phases so far, in seconds, in the order first seen; empties the record. */
export function takePhases(): Array<[string, number]> {
  const out = [...totals];
  totals.clear();
  return out;
}

/** Adds a worker thread's phases (its {@link takePhases}) to the record of the threads' phases. */
export function addThreadPhases(phases: ReadonlyArray<[string, number]>): void {
  for (const [k, v] of phases) threadTotals.set(k, (threadTotals.get(k) ?? 0) + v);
}

/** The worker threads' phases so far (summed over the threads); empties the record. */
export function takeThreadPhases(): Array<[string, number]> {
  const out = [...threadTotals];
  threadTotals.clear();
  return out;
}

/** One line: `phases (s): read 0.12, moments 0.41, ...`. */
export function formatPhases(phases: Array<[string, number]>): string {
  return `phases (s): ${phases.map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`;
}

/** The blocks of `blocks`, adding the time spent waiting for each to phase `read`. */
export async function* timedBlocks<T>(blocks: AsyncIterable<T>): AsyncGenerator<T> {
  if (!PHASES_ENABLED) {
    yield* blocks;
    return;
  }
  const it = blocks[Symbol.asyncIterator]();
  try {
    for (;;) {
      const t0 = phaseStart();
      const next = await it.next();
      phaseEnd('read', t0);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await it.return?.();
  }
}
