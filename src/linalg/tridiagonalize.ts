import { align16, type KernelExports } from './wasm/instance.js';
import { eighKernels } from './wasm/shared.js';

/** Below this order the copies into WebAssembly memory cost more than the kernel saves. */
const WASM_MIN = 32;

/** Householder reduction `A = Q T Q^T` of a symmetric matrix, see {@link tridiagonalize}. */
export interface Tridiagonal {
  n: number;
  /** T's diagonal, length n */
  diag: Float64Array;
  /** T's off-diagonal, length max(n - 1, 0): `off[i] = T[i][i + 1] = T[i + 1][i]` */
  off: Float64Array;
  /**
   * `n x n` row-major: row k (k < n - 2) holds the Householder vector v_k in columns k+1..n-1 with
   * `v_k[k + 1] = 1`, zeros elsewhere (a zero row when tau[k] = 0).
   */
  reflectors: Float64Array;
  /** `H_k = I - tau[k] v_k v_k^T`, k < n - 2; `Q = H_0 H_1 ... H_{n-3}` */
  tau: Float64Array;
}

/**
 * Householder tridiagonalization `A = Q T Q^T`, `Q = H_0 H_1 ... H_{n-3}`, in place.
 *
 * Only the upper triangle of `a` is read (row k's entries right of the diagonal are column k below
 * it); `a` is overwritten with the reflectors. Row-major throughout: step k takes its reflector from
 * row k, and its symmetric rank-2 update of the trailing upper triangle is fused with the next
 * step's matrix-vector product, so each step streams the trailing triangle once, four rows at a
 * time. About 4n^3/3 flops. Not blocked as LAPACK's dsytrd: its matrix-vector half still streams
 * the triangle once per column, and timing that pass plus a tiled rank-2k update separately in V8
 * showed no gain over this fused loop. With WebAssembly SIMD (n >= 32) the matrix and vectors live
 * in the kernel instance's memory for the whole reduction and the four-row loop runs as the
 * `symv4` kernel (f64x2); the result equals the plain loops' to rounding.
 *
 * @param a  `n x n` row-major work array (upper triangle = the matrix); becomes `reflectors`
 */
export function tridiagonalize(a: Float64Array, n: number): Tridiagonal {
  const w = n >= WASM_MIN ? eighKernels((n * n + 5 * n + 8) * 8) : null;
  if (!w) return reduce(a, n, (len) => new Float64Array(len), null);
  // a (n x n) | pv | pw | v | w | p (n each) | s (8); nothing else runs on the instance meanwhile
  const base = align16(w.arena.top);
  const buf = w.arena.ensure(base + (n * n + 5 * n + 8) * 8);
  let at = base;
  const alloc = (len: number) => {
    const view = new Float64Array(buf, at, len).fill(0);
    at += len * 8;
    return view;
  };
  const wa = alloc(n * n);
  wa.set(a.subarray(0, n * n));
  const tri = reduce(wa, n, alloc, w.k);
  a.set(wa);
  return { ...tri, reflectors: a };
}

/** The reduction on `a`, with its vectors from `alloc`; `kern` runs the four-row loop when given (all arrays in its memory). */
function reduce(a: Float64Array, n: number, alloc: (len: number) => Float64Array, kern: KernelExports | null): Tridiagonal {
  const diag = new Float64Array(n);
  const off = new Float64Array(Math.max(n - 1, 0));
  const tau = new Float64Array(Math.max(n - 2, 0));
  // pending rank-2 update A -= pv pw^T + pw pv^T from the previous step (support k..n-1)
  let pv = alloc(n), pw = alloc(n);
  let v = alloc(n), w = alloc(n);
  const p = alloc(n);
  const s = kern ? alloc(8) : null;
  let pending = false;
  for (let k = 0; k < n - 2; k++) {
    const rk = k * n;
    if (pending) updateRow(a, rk, k, n, pv, pw);
    diag[k] = a[rk + k];
    const alpha = a[rk + k + 1];
    let ss = 0;
    for (let j = k + 2; j < n; j++) ss += a[rk + j] * a[rk + j];
    v.fill(0);
    let t = 0;
    if (ss === 0) {
      off[k] = alpha;
    } else {
      const beta = alpha >= 0 ? -Math.sqrt(alpha * alpha + ss) : Math.sqrt(alpha * alpha + ss);
      t = (beta - alpha) / beta;
      const sc = 1 / (alpha - beta);
      v[k + 1] = 1;
      for (let j = k + 2; j < n; j++) v[j] = a[rk + j] * sc;
      off[k] = beta;
    }
    tau[k] = t;
    // row k is finished: it now stores v_k
    a.fill(0, rk, rk + k + 1);
    for (let j = k + 1; j < n; j++) a[rk + j] = v[j];

    if (t === 0) {
      if (pending) for (let i = k + 1; i < n; i++) updateRow(a, i * n, i, n, pv, pw);
      pending = false;
      continue;
    }
    p.fill(0, k + 1);
    let i = k + 1;
    if (pending) {
      if (kern) for (; i + 3 < n; i += 4) updateRowQuadSymvWasm(kern, a, i, n, pv, pw, v, p, s!);
      else for (; i + 3 < n; i += 4) updateRowQuadSymv(a, i, n, pv, pw, v, p);
      for (; i < n; i++) updateRowSymv(a, i * n, i, n, pv, pw, v, p);
    } else {
      for (; i < n; i++) symvRow(a, i * n, i, n, v, p);
    }
    let pDotV = 0;
    for (let i = k + 1; i < n; i++) {
      p[i] *= t;
      pDotV += p[i] * v[i];
    }
    const c = -0.5 * t * pDotV;
    w.fill(0);
    for (let i = k + 1; i < n; i++) w[i] = p[i] + c * v[i];
    [pv, v] = [v, pv];
    [pw, w] = [w, pw];
    pending = true;
  }
  if (n >= 2) {
    const r = (n - 2) * n, s = r + n;
    if (pending) {
      updateRow(a, r, n - 2, n, pv, pw);
      updateRow(a, s, n - 1, n, pv, pw);
    }
    diag[n - 2] = a[r + n - 2];
    off[n - 2] = a[r + n - 1];
    diag[n - 1] = a[s + n - 1];
    a.fill(0, r);
  } else if (n === 1) {
    diag[0] = a[0];
    a[0] = 0;
  }
  return { n, diag, off, reflectors: a, tau };
}

/** Row i of the upper triangle (columns i..n-1): `a_ij -= pv_i pw_j + pw_i pv_j`. */
function updateRow(a: Float64Array, ri: number, i: number, n: number, pv: Float64Array, pw: Float64Array): void {
  const x = pv[i], y = pw[i];
  for (let j = i; j < n; j++) a[ri + j] -= x * pw[j] + y * pv[j];
}

/** Row i's share of `p += A v` from the upper triangle (row i and, by symmetry, column i). */
function symvRow(a: Float64Array, ri: number, i: number, n: number, v: Float64Array, p: Float64Array): void {
  const vi = v[i];
  let s = a[ri + i] * vi;
  let j = i + 1;
  for (; j + 3 < n; j += 4) {
    const a0 = a[ri + j], a1 = a[ri + j + 1], a2 = a[ri + j + 2], a3 = a[ri + j + 3];
    s += a0 * v[j] + a1 * v[j + 1] + a2 * v[j + 2] + a3 * v[j + 3];
    p[j] += a0 * vi; p[j + 1] += a1 * vi; p[j + 2] += a2 * vi; p[j + 3] += a3 * vi;
  }
  for (; j < n; j++) {
    const aij = a[ri + j];
    s += aij * v[j];
    p[j] += aij * vi;
  }
  p[i] += s;
}

/** {@link updateRow} then {@link symvRow} on the updated row, in one sweep. */
function updateRowSymv(
  a: Float64Array, ri: number, i: number, n: number,
  pv: Float64Array, pw: Float64Array, v: Float64Array, p: Float64Array,
): void {
  const x = pv[i], y = pw[i], vi = v[i];
  const aii = a[ri + i] - 2 * x * y;
  a[ri + i] = aii;
  let s = aii * vi;
  let j = i + 1;
  for (; j + 3 < n; j += 4) {
    const o = ri + j;
    const a0 = a[o] - x * pw[j] - y * pv[j];
    const a1 = a[o + 1] - x * pw[j + 1] - y * pv[j + 1];
    const a2 = a[o + 2] - x * pw[j + 2] - y * pv[j + 2];
    const a3 = a[o + 3] - x * pw[j + 3] - y * pv[j + 3];
    a[o] = a0; a[o + 1] = a1; a[o + 2] = a2; a[o + 3] = a3;
    s += a0 * v[j] + a1 * v[j + 1] + a2 * v[j + 2] + a3 * v[j + 3];
    p[j] += a0 * vi; p[j + 1] += a1 * vi; p[j + 2] += a2 * vi; p[j + 3] += a3 * vi;
  }
  for (; j < n; j++) {
    const aij = a[ri + j] - x * pw[j] - y * pv[j];
    a[ri + j] = aij;
    s += aij * v[j];
    p[j] += aij * vi;
  }
  p[i] += s;
}

/**
 * {@link updateRowSymv} on rows i..i+3 at once: the loads of pv, pw, v and p are shared by four
 * rows, which is what limits this loop (about 1.5 ns per entry instead of 3 in V8).
 */
function updateRowQuadSymv(
  a: Float64Array, i: number, n: number,
  pv: Float64Array, pw: Float64Array, v: Float64Array, p: Float64Array,
): void {
  const r0 = i * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
  // the 4 x 4 diagonal block, entry by entry
  for (let r = 0; r < 4; r++) {
    const ro = r0 + r * n, ir = i + r, x = pv[ir], y = pw[ir], vr = v[ir];
    let s = 0;
    for (let j = ir; j < i + 4; j++) {
      const aij = a[ro + j] - x * pw[j] - y * pv[j];
      a[ro + j] = aij;
      s += aij * v[j];
      if (j > ir) p[j] += aij * vr;
    }
    p[ir] += s;
  }
  const x0 = pv[i], y0 = pw[i], v0 = v[i];
  const x1 = pv[i + 1], y1 = pw[i + 1], v1 = v[i + 1];
  const x2 = pv[i + 2], y2 = pw[i + 2], v2 = v[i + 2];
  const x3 = pv[i + 3], y3 = pw[i + 3], v3 = v[i + 3];
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let j = i + 4; j < n; j++) {
    const wj = pw[j], uj = pv[j], vj = v[j];
    const a0 = a[r0 + j] - x0 * wj - y0 * uj;
    const a1 = a[r1 + j] - x1 * wj - y1 * uj;
    const a2 = a[r2 + j] - x2 * wj - y2 * uj;
    const a3 = a[r3 + j] - x3 * wj - y3 * uj;
    a[r0 + j] = a0; a[r1 + j] = a1; a[r2 + j] = a2; a[r3 + j] = a3;
    s0 += a0 * vj; s1 += a1 * vj; s2 += a2 * vj; s3 += a3 * vj;
    p[j] += a0 * v0 + a1 * v1 + a2 * v2 + a3 * v3;
  }
  p[i] += s0; p[i + 1] += s1; p[i + 2] += s2; p[i + 3] += s3;
}

/**
 * {@link updateRowQuadSymv} with the columns right of the diagonal block on the symv4 kernel
 * (an odd leading column, if any, here): every array is a view of k's memory.
 */
function updateRowQuadSymvWasm(
  k: KernelExports, a: Float64Array, i: number, n: number,
  pv: Float64Array, pw: Float64Array, v: Float64Array, p: Float64Array, s: Float64Array,
): void {
  const r0 = i * n;
  for (let r = 0; r < 4; r++) {
    const ro = r0 + r * n, ir = i + r, x = pv[ir], y = pw[ir], vr = v[ir];
    let t = 0;
    for (let j = ir; j < i + 4; j++) {
      const aij = a[ro + j] - x * pw[j] - y * pv[j];
      a[ro + j] = aij;
      t += aij * v[j];
      if (j > ir) p[j] += aij * vr;
    }
    p[ir] += t;
  }
  let j0 = i + 4;
  if ((n - j0) & 1) {
    const wj = pw[j0], uj = pv[j0], vj = v[j0];
    let q = 0;
    for (let r = 0; r < 4; r++) {
      const o = r0 + r * n + j0, ir = i + r;
      const aij = a[o] - pv[ir] * wj - pw[ir] * uj;
      a[o] = aij;
      p[ir] += aij * vj;
      q += aij * v[ir];
    }
    p[j0] += q;
    j0++;
  }
  if (j0 === n) return;
  k.symv4(a.byteOffset + r0 * 8, n * 8, pv.byteOffset, pw.byteOffset, v.byteOffset, p.byteOffset, i, j0, n, s.byteOffset);
  for (let r = 0; r < 4; r++) p[i + r] += s[2 * r] + s[2 * r + 1];
}
