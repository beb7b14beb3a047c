const EPS = 2 ** -52;
const MAX_ITER = 200;

/** Eigenpairs of a rank-one update, see {@link rankOneEigen}. */
export interface RankOneEigen {
  /** ascending, `lambda[i]` in `(d[i], d[i + 1])` (the last in `(d[K-1], d[K-1] + rho |z|^2]`) */
  lambda: Float64Array;
  /** `K x K` row-major, row i = the unit eigenvector of lambda[i] */
  rows: Float64Array;
}

/**
 * Eigen-decomposition of `D + rho z z^T`: the merge step of divide and conquer.
 *
 * Each root of the secular equation `1/rho + sum_j z_j^2 / (d_j - lambda) = 0` is found relative to
 * its nearer pole (so every `d_j - lambda` is known to full relative accuracy) by the two-pole
 * rational model of Li's "middle way" method, kept inside a bisection bracket. The eigenvectors use
 * Gu and Eisenstat's recomputed z (from Loewner's formula on the computed roots), which makes them
 * numerically orthogonal however close the roots are.
 *
 * @param d    K poles, strictly increasing (deflation guarantees it)
 * @param z    K weights, none negligible; only the signs and magnitudes matter
 * @param rho  > 0
 */
export function rankOneEigen(d: Float64Array, z: Float64Array, rho: number): RankOneEigen {
  const K = d.length;
  const lambda = new Float64Array(K);
  if (K === 1) {
    lambda[0] = d[0] + rho * z[0] * z[0];
    return { lambda, rows: Float64Array.of(1) };
  }
  // delta[i * K + j] = d_j - lambda_i, kept to full relative accuracy
  const delta = new Float64Array(K * K);
  const diff = new Float64Array(K);
  let zz = 0;
  for (let j = 0; j < K; j++) zz += z[j] * z[j];
  for (let i = 0; i < K; i++) lambda[i] = secularRoot(i, d, z, rho, zz, diff, delta, i * K);

  // Gu-Eisenstat: the z for which the computed roots are exact,
  // zhat_j^2 = (lambda_j - d_j) prod_{i != j} (lambda_i - d_j) / (d_i - d_j) / rho (row by row)
  const w = new Float64Array(K);
  for (let j = 0; j < K; j++) w[j] = -delta[j * K + j];
  for (let i = 0; i < K; i++) {
    const row = i * K, di = d[i];
    for (let j = 0; j < K; j++) if (j !== i) w[j] *= -delta[row + j] / (di - d[j]);
  }
  const zhat = new Float64Array(K);
  for (let j = 0; j < K; j++) {
    const mag = Math.sqrt(Math.max(w[j], 0) / rho);
    zhat[j] = z[j] >= 0 ? mag : -mag;
  }
  // eigenvector i: zhat_j / (d_j - lambda_i), normalized; overwrites delta row by row
  for (let i = 0; i < K; i++) {
    const row = i * K;
    let ss = 0;
    for (let j = 0; j < K; j++) {
      const x = zhat[j] / delta[row + j];
      delta[row + j] = x;
      ss += x * x;
    }
    const inv = 1 / Math.sqrt(ss);
    for (let j = 0; j < K; j++) delta[row + j] *= inv;
  }
  return { lambda, rows: delta };
}

/**
 * Root i of the secular equation. Writes `d_j - lambda_i` into `delta[out + j]` and returns lambda_i.
 * `diff` is scratch (K).
 */
function secularRoot(
  i: number, d: Float64Array, z: Float64Array, rho: number, zz: number,
  diff: Float64Array, delta: Float64Array, out: number,
): number {
  const K = d.length;
  const rhoinv = 1 / rho;
  let origin: number, lo: number, hi: number, tau: number;
  if (i < K - 1) {
    // which half of (d_i, d_i+1) holds the root decides the origin: the nearer pole
    const mid = (d[i + 1] - d[i]) / 2;
    let w = rhoinv;
    for (let j = 0; j < K; j++) w += (z[j] * z[j]) / (d[j] - d[i] - mid);
    if (w >= 0) {
      origin = i; lo = 0; hi = mid; tau = mid;
    } else {
      origin = i + 1; lo = -mid; hi = 0; tau = -mid;
    }
  } else {
    origin = K - 1; lo = 0; hi = rho * zz; tau = hi / 2;
  }
  const d0 = d[origin];
  for (let j = 0; j < K; j++) diff[j] = d[j] - d0;
  // two-pole model on poles a (with every pole left of it) and b = a + 1 (with every pole right)
  const a = i < K - 1 ? i : K - 2, b = a + 1;
  for (let iter = 0; iter < MAX_ITER; iter++) {
    let psi = 0, dpsi = 0, phi = 0, dphi = 0;
    for (let j = 0; j <= a; j++) {
      const t = z[j] / (diff[j] - tau);
      psi += z[j] * t;
      dpsi += t * t;
    }
    for (let j = b; j < K; j++) {
      const t = z[j] / (diff[j] - tau);
      phi += z[j] * t;
      dphi += t * t;
    }
    const w = rhoinv + psi + phi;
    const dw = dpsi + dphi;
    const err = EPS * (8 * (phi - psi) + 2 * rhoinv + 3 * Math.abs(w) + Math.abs(tau) * dw);
    if (Math.abs(w) <= err) break;
    if (w > 0) hi = tau;
    else lo = tau;
    if (hi - lo <= 2 * EPS * Math.max(Math.abs(lo), Math.abs(hi))) break;

    const da = diff[a] - tau, db = diff[b] - tau;
    const A = (da + db) * w - da * db * dw;
    const B = da * db * w;
    const C = w - da * dpsi - db * dphi;
    let next = tau + quadraticStep(A, B, C, lo - tau, hi - tau);
    if (!(next > lo && next < hi)) next = tau - w / dw; // Newton
    // bisect when the model leaves the bracket, and every few steps to guarantee progress
    if (!(next > lo && next < hi) || iter % 8 === 7) next = lo + (hi - lo) / 2;
    if (next === tau) break;
    tau = next;
  }
  for (let j = 0; j < K; j++) delta[out + j] = diff[j] - tau;
  return d0 + tau;
}

/**
 * The root of `C eta^2 - A eta + B = 0` strictly inside (lo, hi), computed without cancellation;
 * NaN when there is none.
 */
function quadraticStep(A: number, B: number, C: number, lo: number, hi: number): number {
  if (C === 0) return A !== 0 ? B / A : NaN;
  const sq = Math.sqrt(Math.max(A * A - 4 * B * C, 0));
  const q = A >= 0 ? (A + sq) / 2 : (A - sq) / 2;
  const r1 = q / C;
  const r2 = q !== 0 ? B / q : NaN;
  const in1 = r1 > lo && r1 < hi, in2 = r2 > lo && r2 < hi;
  if (in1 && in2) return Math.abs(r1) < Math.abs(r2) ? r1 : r2;
  return in1 ? r1 : in2 ? r2 : NaN;
}
