import type { EmbeddingSource } from '../io/index.js';

/**
 * Rows the report's PCA scatter shows by default: enough to see the shape, small enough for SVG
 * (one element per point and view).
 */
export const DEFAULT_SAMPLE_ROWS = 1000;
/** Upper bound of `sampleRows`: beyond it a scatter is ink, not information. */
export const MAX_SAMPLE_ROWS = 5000;

/**
 * `k` distinct row indices out of `n`, uniformly at random, ascending; all of them when k >= n.
 * Deterministic for a seed on every platform (a 32-bit PRNG of our own, not Math.random), so the
 * same file always gives the same scatter. Floyd's algorithm: O(k) draws, no O(n) array.
 */
export function sampleIndices(n: number, k: number, seed: number): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  const next = mulberry32(seed);
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = Math.floor(next() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}

/**
 * Reads the rows at ascending `indices`, leaving out rows that hold NaN/Inf (the statistics drop
 * them too). Nearby indices are read as one range, so a sample costs a few hundred small reads.
 *
 * @returns the rows, `rows x dims` row-major float64
 */
export async function readRows(source: EmbeddingSource, indices: readonly number[]): Promise<{ data: Float64Array; rows: number }> {
  const d = source.dims;
  const out = new Float64Array(indices.length * d);
  let rows = 0;
  let i = 0;
  while (i < indices.length) {
    // One range read covers indices closer than 64 rows apart.
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] - indices[j] < 64) j++;
    const start = indices[i], end = indices[j] + 1;
    let k = i;
    for await (const block of source.blocks({ start, end, blockRows: end - start })) {
      for (; k <= j && indices[k] < block.start + block.rows; k++) {
        const row = block.data.subarray((indices[k] - block.start) * d, (indices[k] - block.start + 1) * d);
        if (!row.every(Number.isFinite)) continue;
        out.set(row, rows * d);
        rows++;
      }
    }
    i = j + 1;
  }
  return { data: out.subarray(0, rows * d), rows };
}

/** Uniform numbers in [0, 1) from a 32-bit seed (mulberry32): the same sequence on every machine. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The report's row sample of `source`: `sampleRows` rows (default {@link DEFAULT_SAMPLE_ROWS}, at
 * most all of them) drawn with `sampleSeed` (default 0); `rows` is null when none are asked for.
 */
export async function readSample(
  source: EmbeddingSource,
  opts: { sampleRows?: number; sampleSeed?: number },
): Promise<{ seed: number; rows: { data: Float64Array; rows: number } | null }> {
  const seed = opts.sampleSeed ?? 0;
  const want = Math.min(opts.sampleRows ?? DEFAULT_SAMPLE_ROWS, source.rows);
  return { seed, rows: want > 0 ? await readRows(source, sampleIndices(source.rows, want, seed)) : null };
}
