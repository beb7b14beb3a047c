import { mulberry32 } from '../analyze/sample.js';

/**
 * A 32-bit seed from several integers (splitmix-style mixing), so that every run of the probe
 * (seed, fold, model) gets its own reproducible random stream.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Fisher-Yates shuffle in place with a seeded generator. */
export function shuffleInPlace(a: Int32Array | number[], next: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/**
 * Stratified k-fold assignment: each class's rows are shuffled (seeded) and dealt to the folds in
 * turn, continuing from where the previous class stopped, so every fold gets about n/k rows and
 * the class proportions of the whole set.
 *
 * @param y      class index of each row
 * @param folds  k >= 2
 * @returns the fold (0..k-1) of each row
 */
export function stratifiedFolds(y: Int32Array, classes: number, folds: number, seed: number): Int32Array {
  const next = mulberry32(seed);
  const fold = new Int32Array(y.length);
  let turn = 0;
  for (let c = 0; c < classes; c++) {
    const rows: number[] = [];
    for (let i = 0; i < y.length; i++) if (y[i] === c) rows.push(i);
    shuffleInPlace(rows, next);
    for (const r of rows) fold[r] = turn++ % folds;
  }
  return fold;
}
