/**
 * Mean cosine similarity over all ordered pairs i != j, exactly, from the sum of unit vectors:
 * `(||sum_i u_i||^2 - n) / (n (n - 1))`, since `||sum u_i||^2 = n + sum_{i != j} cos(w_i, w_j)`.
 *
 * @param unitSum  sum of `w_i / ||w_i||` over the non-zero rows
 * @param n        number of non-zero rows
 * @returns null when n < 2 (no pair)
 */
export function avgCosine(unitSum: ArrayLike<number>, n: number): number | null {
  if (n < 2) return null;
  let ss = 0;
  for (let i = 0; i < unitSum.length; i++) ss += unitSum[i] * unitSum[i];
  return (ss - n) / (n * (n - 1));
}
