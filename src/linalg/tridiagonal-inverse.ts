const EPS = 2 ** -52;
const MAX_ITER = 5;
/** iterations after the growth test first passes (as LAPACK's dstein) */
const EXTRA_ITER = 2;

/**
 * Eigenvectors of a symmetric tridiagonal matrix for a few known eigenvalues, by inverse iteration
 * (LAPACK's dstein): O(n) per vector and iteration, against O(n^3) for all of them.
 *
 * Eigenvalues closer than 1e-3 ||T|| form a cluster whose vectors are reorthogonalized against each
 * other (modified Gram-Schmidt) at every iteration; equal eigenvalues are pulled apart by a few ulps
 * of ||T||. Each vector is then checked (residual `||T x - lambda x||` and orthogonality within its
 * cluster, both against a small multiple of n eps ||T||); on failure the caller gets null and
 * should use the full decomposition.
 *
 * @param lambdas  eigenvalues of T, sorted (either direction), accurate to about eps ||T||
 * @returns        `lambdas.length x n` row-major, row i the unit eigenvector of lambdas[i]; or null
 */
export function tridiagonalVectors(diag: Float64Array, off: Float64Array, n: number, lambdas: Float64Array): Float64Array | null {
  const k = lambdas.length;
  const out = new Float64Array(k * n);
  if (k === 0) return out;
  if (n === 1) {
    out.fill(1);
    return out;
  }
  let tnorm = 0;
  for (let i = 0; i < n; i++) {
    const s = Math.abs(diag[i]) + (i > 0 ? Math.abs(off[i - 1]) : 0) + (i < n - 1 ? Math.abs(off[i]) : 0);
    tnorm = Math.max(tnorm, s);
  }
  if (tnorm === 0) {
    for (let i = 0; i < k; i++) out[i * n + i] = 1;
    return out;
  }
  const eps3 = EPS * tnorm;
  const ortol = 1e-3 * tnorm;
  const pertol = 10 * eps3;
  const growth = Math.sqrt(0.1 / n) / eps3; // ||y|| beyond this: the shift is an eigenvalue to working accuracy
  const lu = new TridiagonalLU(n);
  const x = new Float64Array(n);
  let clusterStart = 0;
  let prevShift = NaN;
  const descending = k > 1 && lambdas[0] > lambdas[k - 1];
  for (let j = 0; j < k; j++) {
    let shift = lambdas[j];
    if (j > 0 && Math.abs(lambdas[j] - lambdas[j - 1]) > ortol) clusterStart = j;
    if (j > clusterStart) {
      // equal shifts would give the same vector: keep them apart
      if (descending ? prevShift - shift < pertol : shift - prevShift < pertol) {
        shift = descending ? prevShift - pertol : prevShift + pertol;
      }
    }
    prevShift = shift;
    lu.factor(diag, off, shift, eps3);
    startVector(x, j);
    let extra = -1;
    for (let it = 0; it < MAX_ITER; it++) {
      orthogonalize(x, out, clusterStart, j, n);
      normalize(x);
      lu.solve(x, eps3);
      const norm = normalize(x);
      if (!(norm > 0) || !Number.isFinite(norm)) return null;
      if (extra < 0 && norm >= growth) extra = 0;
      if (extra >= 0 && ++extra > EXTRA_ITER) break;
    }
    orthogonalize(x, out, clusterStart, j, n);
    normalize(x);
    if (!checkVector(diag, off, n, lambdas[j], x, eps3)) return null;
    out.set(x, j * n);
  }
  for (let j = 1; j < k; j++) {
    for (let i = 0; i < j; i++) {
      let dot = 0;
      for (let c = 0; c < n; c++) dot += out[i * n + c] * out[j * n + c];
      if (Math.abs(dot) > 100 * n * EPS) return null;
    }
  }
  return out;
}

/** A deterministic start vector with components of both signs and no structure aligned with T. */
function startVector(x: Float64Array, seed: number): void {
  let a = (0x9e3779b9 ^ Math.imul(seed + 1, 0x85ebca6b)) >>> 0;
  for (let i = 0; i < x.length; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    x[i] = a / 4294967296 - 0.5;
  }
}

/** Scales x to unit length (scaled first, so large entries cannot overflow); returns the old norm. */
function normalize(x: Float64Array): number {
  let big = 0;
  for (let i = 0; i < x.length; i++) big = Math.max(big, Math.abs(x[i]));
  if (!(big > 0) || !Number.isFinite(big)) return big;
  let ss = 0;
  for (let i = 0; i < x.length; i++) {
    const t = x[i] / big;
    ss += t * t;
  }
  const r = Math.sqrt(ss);
  for (let i = 0; i < x.length; i++) x[i] = x[i] / big / r;
  return big * r;
}

/** Modified Gram-Schmidt of x against rows from..to-1 of `rows`. */
function orthogonalize(x: Float64Array, rows: Float64Array, from: number, to: number, n: number): void {
  for (let r = from; r < to; r++) {
    const o = r * n;
    let dot = 0;
    for (let c = 0; c < n; c++) dot += rows[o + c] * x[c];
    for (let c = 0; c < n; c++) x[c] -= dot * rows[o + c];
  }
}

/** `||T x - lambda x||_inf <= 100 n eps ||T||` for a unit x. */
function checkVector(diag: Float64Array, off: Float64Array, n: number, lambda: number, x: Float64Array, eps3: number): boolean {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    let r = (diag[i] - lambda) * x[i];
    if (i > 0) r += off[i - 1] * x[i - 1];
    if (i < n - 1) r += off[i] * x[i + 1];
    worst = Math.max(worst, Math.abs(r));
  }
  return worst <= 100 * n * eps3;
}

/**
 * LU factorization with partial pivoting of `T - shift I` (LAPACK's dlagtf): U has two
 * superdiagonals; tiny pivots are replaced by eps ||T|| so the solve never divides by zero.
 */
class TridiagonalLU {
  private readonly u0: Float64Array;
  private readonly u1: Float64Array;
  private readonly u2: Float64Array;
  private readonly l: Float64Array;
  private readonly swap: Uint8Array;

  constructor(private readonly n: number) {
    this.u0 = new Float64Array(n);
    this.u1 = new Float64Array(n);
    this.u2 = new Float64Array(n);
    this.l = new Float64Array(n);
    this.swap = new Uint8Array(n);
  }

  factor(diag: Float64Array, off: Float64Array, shift: number, eps3: number): void {
    const { n, u0, u1, u2, l, swap } = this;
    let a = diag[0] - shift; // current pivot row: [a, c, 0]
    let c = n > 1 ? off[0] : 0;
    for (let i = 0; i < n - 1; i++) {
      const b = off[i]; // row i+1: [b, dn, cn]
      const dn = diag[i + 1] - shift;
      const cn = i + 1 < n - 1 ? off[i + 1] : 0;
      if (Math.abs(a) >= Math.abs(b)) {
        const piv = a !== 0 ? a : eps3;
        swap[i] = 0;
        l[i] = b / piv;
        u0[i] = piv; u1[i] = c; u2[i] = 0;
        a = dn - l[i] * c;
        c = cn;
      } else {
        swap[i] = 1;
        l[i] = a / b;
        u0[i] = b; u1[i] = dn; u2[i] = cn;
        a = c - l[i] * dn;
        c = -l[i] * cn;
      }
    }
    u0[n - 1] = a;
  }

  /** Solves `(T - shift I) y = x` in place. */
  solve(x: Float64Array, eps3: number): void {
    const { n, u0, u1, u2, l, swap } = this;
    for (let i = 0; i < n - 1; i++) {
      if (swap[i]) {
        const t = x[i];
        x[i] = x[i + 1];
        x[i + 1] = t;
      }
      x[i + 1] -= l[i] * x[i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i];
      if (i + 1 < n) s -= u1[i] * x[i + 1];
      if (i + 2 < n) s -= u2[i] * x[i + 2];
      let p = u0[i];
      if (Math.abs(p) < eps3) p = p >= 0 ? eps3 : -eps3;
      x[i] = s / p;
    }
  }
}
