const EPS = 2 ** -52;
const MAX_SWEEPS = 60;

/**
 * Eigenvalues of a symmetric tridiagonal matrix by implicit QL with Wilkinson shifts; O(n^2), no
 * vectors. Absolute accuracy about eps * ||T||.
 *
 * @param diag  length n (not modified)
 * @param off   length >= n - 1, `off[i] = T[i][i + 1]` (not modified)
 * @returns     the n eigenvalues, ascending (all NaN when an entry is not finite)
 */
export function tridiagonalEigenvalues(diag: Float64Array, off: Float64Array, n: number): Float64Array {
  let big = 0;
  for (let i = 0; i < n; i++) big = Math.max(big, Math.abs(diag[i]));
  for (let i = 0; i + 1 < n; i++) big = Math.max(big, Math.abs(off[i]));
  if (big === 0) return new Float64Array(n);
  if (!Number.isFinite(big)) return new Float64Array(n).fill(NaN);
  const s = 2 ** -Math.round(Math.log2(big)); // exact; see implicitQL on why
  const d = Float64Array.from(diag.subarray(0, n), (x) => x * s);
  implicitQL(d, Float64Array.from(off.subarray(0, Math.max(n - 1, 0)), (x) => x * s), n, null, 0, 0, 0);
  for (let i = 0; i < n; i++) d[i] /= s;
  return d.sort();
}

/**
 * Implicit QL with Wilkinson shifts, in place: `d` becomes the eigenvalues (unsorted) and `e` is
 * destroyed. When `z` is given, each plane rotation is applied to rows i, i+1 of the row block
 * `z[zOff + r * ldz + c]` (r < n, c < cols): start from the identity to get the eigenvectors as
 * rows (row i belongs to d[i]). Rows, not columns, so every rotation runs over contiguous memory.
 * Rotations use a plain `sqrt(a^2 + b^2)` (Math.hypot is 2x slower in V8): callers scale T so its
 * largest entry is about 1.
 *
 * An off-diagonal is negligible when it is below eps times its two diagonal neighbours (relative,
 * as LAPACK) or below eps * `norm`: without the absolute test, blocks whose entries are all at the
 * rounding-noise level of a larger matrix can sweep forever.
 *
 * @param norm  the scale of the whole matrix (default: the largest entry of this block)
 * @throws Error after {@link MAX_SWEEPS} sweeps on one eigenvalue (never seen on finite input)
 */
export function implicitQL(
  d: Float64Array, e: Float64Array, n: number,
  z: Float64Array | null, zOff: number, ldz: number, cols: number, norm?: number,
): void {
  if (n <= 1) return;
  let scale = norm ?? 0;
  if (norm === undefined) {
    for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(d[i]));
    for (let i = 0; i + 1 < n; i++) scale = Math.max(scale, Math.abs(e[i]));
  }
  const absTol = EPS * scale;
  // e[n - 1] = 0 is the sentinel that ends every search for a negligible off-diagonal
  const f = new Float64Array(n);
  f.set(e.subarray(0, n - 1));
  for (let l = 0; l < n; l++) {
    let sweeps = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const fm = Math.abs(f[m]);
        if (fm <= absTol || fm <= EPS * (Math.abs(d[m]) + Math.abs(d[m + 1]))) break;
      }
      if (m === l) break;
      if (++sweeps > MAX_SWEEPS) throw new Error('eigh: tridiagonal QL did not converge');
      // shift: the eigenvalue of the leading 2 x 2 block closer to d[l]
      let g = (d[l + 1] - d[l]) / (2 * f[l]);
      let r = Math.abs(g) > 1e150 ? Math.abs(g) : Math.sqrt(g * g + 1);
      g = d[m] - d[l] + f[l] / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const a = s * f[i], b = c * f[i];
        r = Math.sqrt(a * a + g * g);
        f[i + 1] = r;
        if (r === 0) {
          // underflow: the rotation would be undefined; T already splits here
          d[i + 1] -= p;
          f[m] = 0;
          break;
        }
        s = a / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (z) rotateRows(z, zOff + i * ldz, zOff + (i + 1) * ldz, cols, c, s);
      }
      if (i >= l) continue;
      d[l] -= p;
      f[l] = g;
      f[m] = 0;
    }
  }
}

/** Rows x (at xo) and y (at yo): `y' = s x + c y`, `x' = c x - s y`. */
function rotateRows(z: Float64Array, xo: number, yo: number, cols: number, c: number, s: number): void {
  for (let k = 0; k < cols; k++) {
    const x = z[xo + k], y = z[yo + k];
    z[yo + k] = s * x + c * y;
    z[xo + k] = c * x - s * y;
  }
}
