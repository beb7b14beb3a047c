/**
 * IsoScore (Rudman, Gillman, Rayne & Eickhoff, Findings of ACL 2022) from covariance eigenvalues.
 *
 * 1 for an isotropic cloud (all eigenvalues equal), 0 when all variance lies on one direction;
 * `(k - 1) / (d - 1)` when k eigenvalues are equal and the rest are 0. Depends only on the
 * eigenvalues, so any orthogonal rotation of the data leaves it unchanged.
 *
 * @param eigenvalues  all d eigenvalues of the covariance (any order, any positive scale)
 * @returns null when it is undefined: fewer than 2 dimensions, or no variance at all (every
 *          eigenvalue 0), or eigenvalues that are not finite; never NaN
 */
export function isoScore(eigenvalues: ArrayLike<number>): number | null {
  const d = eigenvalues.length;
  if (d < 2) return null;
  let norm = 0;
  for (let i = 0; i < d; i++) norm += eigenvalues[i] * eigenvalues[i];
  norm = Math.sqrt(norm);
  if (!(norm > 0 && Number.isFinite(norm))) return null;
  const sd = Math.sqrt(d);
  let dist = 0;
  for (let i = 0; i < d; i++) {
    const e = (sd * eigenvalues[i]) / norm - 1;
    dist += e * e;
  }
  // delta^2 = ||vhat - 1||^2 / (2 (d - sqrt d)); the score maps delta in [0, 1] onto [0, 1].
  const delta2 = dist / (2 * (d - sd));
  const k = d - delta2 * (d - sd);
  return (k * k - d) / (d * (d - 1));
}
