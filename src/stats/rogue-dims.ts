/** How many dimensions `rogueDims` lists. */
export const ROGUE_TOP = 10;

/**
 * Each dimension's share of the average cosine (rogue dimensions, Timkey & van Schijndel, EMNLP
 * 2021), exactly, from the sums of the unit rows u_k = w_k / |w_k|:
 *
 *   share_i = (S_i^2 - Q_i) / (n (n - 1)),  S_i = sum_k u_ki,  Q_i = sum_k u_ki^2,
 *
 * the mean over ordered pairs k != l of u_ki u_li. The d shares sum to the average cosine
 * `(|S|^2 - n) / (n (n - 1))`, since sum_i Q_i = n. A share is negative for a dimension whose
 * components disagree in sign more than they agree; a rogue dimension has a share far above
 * avgCosine / d.
 *
 * @param unitSum  S, sum of the unit rows over the non-zero rows
 * @param unitSq   Q, sum of their squared components
 * @param n        number of non-zero rows
 * @returns null when n < 2 (no pair)
 */
export function rogueShares(unitSum: ArrayLike<number>, unitSq: ArrayLike<number>, n: number): Float64Array | null {
  if (n < 2) return null;
  const d = unitSum.length;
  if (unitSq.length !== d) throw new RangeError(`rogueShares: ${unitSq.length} squared sums for ${d} dimensions`);
  const pairs = n * (n - 1);
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) out[i] = (unitSum[i] * unitSum[i] - unitSq[i]) / pairs;
  return out;
}

/** The `k` dimensions with the largest share, largest first (ties: lower dimension first). */
export function topRogueDims(shares: ArrayLike<number>, k = ROGUE_TOP): { dim: number; share: number }[] {
  return Array.from(shares, (share, dim) => ({ dim, share }))
    .sort((p, q) => q.share - p.share || p.dim - q.dim)
    .slice(0, k);
}
