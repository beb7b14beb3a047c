import { rankOneEigen } from './secular.js';
import { addABt } from './strided-products.js';
import { implicitQL } from './tridiagonal-ql.js';

const EPS = 2 ** -52;
/** subproblems up to this size are solved by QL directly */
const LEAF = 32;

/** Eigen-decomposition of a symmetric tridiagonal matrix, see {@link tridiagonalEigen}. */
export interface TridiagonalEigen {
  /** ascending */
  values: Float64Array;
  /** `n x n` row-major; row i is the unit eigenvector of values[i] */
  rows: Float64Array;
}

/**
 * All eigenpairs of a symmetric tridiagonal matrix by Cuppen's divide and conquer (the method of
 * LAPACK's dstedc): split at the middle off-diagonal, solve both halves, then merge them through
 * the rank-one update `D + rho z z^T` with deflation of negligible z components and of close poles.
 * The merge's cost is one matrix product of the surviving (non-deflated) part, so it is at most
 * about 4n^3/3 flops and often much less.
 *
 * Eigenvectors are kept as rows so rotations and products run along contiguous memory.
 *
 * @param diag  length n (not modified)
 * @param off   length >= n - 1, `off[i] = T[i][i + 1]` (not modified)
 */
export function tridiagonalEigen(diag: Float64Array, off: Float64Array, n: number): TridiagonalEigen {
  const rows = new Float64Array(n * n);
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(diag[i]));
  for (let i = 0; i + 1 < n; i++) scale = Math.max(scale, Math.abs(off[i]));
  if (scale === 0) {
    for (let i = 0; i < n; i++) rows[i * n + i] = 1;
    return { values: new Float64Array(n), rows };
  }
  // a power of two, so scaling is exact; keeps the merge tolerances on a unit scale
  const s = 2 ** -Math.round(Math.log2(scale));
  const d = Float64Array.from(diag.subarray(0, n), (x) => x * s);
  const e = Float64Array.from(off.subarray(0, Math.max(n - 1, 0)), (x) => x * s);
  solve(d, e, rows, n, 0, n);
  for (let i = 0; i < n; i++) d[i] /= s;
  return { values: d, rows };
}

/** Solves the diagonal block [s, s + len): on return d[s..] ascending, rows of that block its vectors. */
function solve(d: Float64Array, e: Float64Array, q: Float64Array, N: number, s: number, len: number): void {
  if (len <= LEAF) {
    const off = s * N + s;
    for (let i = 0; i < len; i++) q[off + i * N + i] = 1;
    const dd = d.subarray(s, s + len);
    // the whole matrix is scaled to a largest entry of about 1
    implicitQL(dd, e.subarray(s, s + len - 1), len, q, off, N, len, 1);
    sortBlock(dd, q, off, N, len);
    return;
  }
  const n1 = len >> 1;
  const beta = e[s + n1 - 1];
  // T = diag(T1', T2') + beta w w^T with w = e_{n1} + sign(beta) e_{n1+1}
  d[s + n1 - 1] -= Math.abs(beta);
  d[s + n1] -= Math.abs(beta);
  solve(d, e, q, N, s, n1);
  solve(d, e, q, N, s + n1, len - n1);
  merge(d, q, N, s, n1, len, beta);
}

/** Selection sort of a small block's eigenvalues, swapping the matching rows. */
function sortBlock(d: Float64Array, q: Float64Array, off: number, N: number, len: number): void {
  for (let i = 0; i < len - 1; i++) {
    let k = i;
    for (let j = i + 1; j < len; j++) if (d[j] < d[k]) k = j;
    if (k === i) continue;
    [d[i], d[k]] = [d[k], d[i]];
    const ri = off + i * N, rk = off + k * N;
    for (let c = 0; c < len; c++) {
      const t = q[ri + c];
      q[ri + c] = q[rk + c];
      q[rk + c] = t;
    }
  }
}

/**
 * Merges the solved halves [s, s + n1) and [s + n1, s + len) coupled by `beta` (LAPACK's
 * dlaed1-3, on rows).
 */
function merge(d: Float64Array, q: Float64Array, N: number, s: number, n1: number, len: number, beta: number): void {
  const n2 = len - n1;
  const base = s * N + s; // q[base + r * N + c]: row r (vector), column c (component) of the block
  const sign = beta >= 0 ? 1 : -1;
  const rho = 2 * Math.abs(beta);
  // z = Q^T w / sqrt(2): last component of the top vectors, first of the bottom ones
  const z = new Float64Array(len);
  const dl = Float64Array.from(d.subarray(s, s + len));
  for (let r = 0; r < n1; r++) z[r] = q[base + r * N + n1 - 1] * Math.SQRT1_2;
  for (let r = n1; r < len; r++) z[r] = sign * q[base + r * N + n1] * Math.SQRT1_2;

  const perm = mergeOrder(dl, n1, len);
  let dmax = 0, zmax = 0;
  for (let r = 0; r < len; r++) {
    dmax = Math.max(dmax, Math.abs(dl[r]));
    zmax = Math.max(zmax, Math.abs(z[r]));
  }
  const tol = 8 * EPS * Math.max(dmax, zmax);
  // which halves of the columns a row may be non-zero in: 1 top, 2 bottom, 3 both (after rotations)
  const halves = new Uint8Array(len);
  for (let r = 0; r < len; r++) halves[r] = r < n1 ? 1 : 2;
  const kept: number[] = [];
  const deflated: number[] = [];
  let pj = -1;
  for (const r of perm) {
    if (rho * Math.abs(z[r]) <= tol) {
      deflated.push(r);
      continue;
    }
    if (pj < 0) {
      pj = r;
      continue;
    }
    // two close poles: a rotation zeroes z[pj], making d[pj] an eigenvalue up to tol
    const tau = Math.hypot(z[pj], z[r]);
    const c = z[r] / tau, sn = -z[pj] / tau;
    const t = dl[r] - dl[pj];
    if (Math.abs(t * c * sn) <= tol) {
      z[r] = tau;
      z[pj] = 0;
      const both = halves[pj] | halves[r];
      halves[pj] = halves[r] = both;
      const x = base + pj * N, y = base + r * N;
      const c0 = both & 1 ? 0 : n1, c1 = both & 2 ? len : n1;
      for (let k = c0; k < c1; k++) {
        const a = q[x + k], b = q[y + k];
        q[x + k] = c * a + sn * b;
        q[y + k] = c * b - sn * a;
      }
      const dp = dl[pj], dn = dl[r];
      dl[pj] = dp * c * c + dn * sn * sn;
      dl[r] = dp * sn * sn + dn * c * c;
      deflated.push(pj);
      pj = r;
    } else {
      kept.push(pj);
      pj = r;
    }
  }
  if (pj >= 0) kept.push(pj);

  const K = kept.length;
  const out = new Float64Array(len * len);
  const values = new Float64Array(len);
  // new eigenpairs in ascending order: the secular roots interleaved with the deflated poles
  const entries: { v: number; src: number }[] = [];
  let prod: Float64Array | null = null;
  let lambda: Float64Array | null = null;
  if (K > 0) {
    const dk = Float64Array.from(kept, (r) => dl[r]);
    const zk = Float64Array.from(kept, (r) => z[r]);
    const eig = rankOneEigen(dk, zk, rho);
    lambda = eig.lambda;
    // new row i = sum_j u[j][i] * old row kept[j], computed per column half over the rows that
    // are non-zero there (the block structure halves the flops)
    prod = new Float64Array(K * len);
    productHalf(q, base, N, kept, halves, 1, 0, n1, eig.rows, K, prod, len);
    productHalf(q, base, N, kept, halves, 2, n1, n2, eig.rows, K, prod, len);
    for (let i = 0; i < K; i++) entries.push({ v: lambda[i], src: i });
  }
  for (const r of deflated) entries.push({ v: dl[r], src: -1 - r });
  entries.sort((x, y) => x.v - y.v);
  for (let i = 0; i < len; i++) {
    const { v, src } = entries[i];
    values[i] = v;
    if (src >= 0) out.set(prod!.subarray(src * len, src * len + len), i * len);
    else {
      const r = -1 - src;
      for (let c = 0; c < len; c++) out[i * len + c] = q[base + r * N + c];
    }
  }
  for (let i = 0; i < len; i++) q.set(out.subarray(i * len, i * len + len), base + i * N);
  d.set(values, s);
}

/**
 * `prod[i][c0 + c] = sum_j u_i[j] * q_row(kept[j])[c0 + c]` over the kept rows touching this half
 * (u_i = row i of `u`), as dot products of contiguous rows.
 */
function productHalf(
  q: Float64Array, base: number, N: number, kept: number[], halves: Uint8Array, half: number,
  c0: number, width: number, u: Float64Array, K: number, prod: Float64Array, len: number,
): void {
  const sel: number[] = [];
  for (let j = 0; j < K; j++) if (halves[kept[j]] & half) sel.push(j);
  const P = sel.length;
  if (P === 0) return;
  const us = new Float64Array(K * P); // u restricted to the selected components
  for (let i = 0; i < K; i++) {
    const src = i * K, dst = i * P;
    for (let t = 0; t < P; t++) us[dst + t] = u[src + sel[t]];
  }
  const qt = new Float64Array(width * P); // the selected rows' half, transposed
  for (let t = 0; t < P; t++) {
    const src = base + kept[sel[t]] * N + c0;
    for (let c = 0; c < width; c++) qt[c * P + t] = q[src + c];
  }
  addABt(K, width, P, 1, us, 0, P, qt, 0, P, prod, c0, len);
}

/** Ascending order of d over [0, len) whose two halves [0, n1) and [n1, len) are each ascending. */
function mergeOrder(d: Float64Array, n1: number, len: number): number[] {
  const order: number[] = [];
  let i = 0, j = n1;
  while (i < n1 && j < len) order.push(d[i] <= d[j] ? i++ : j++);
  while (i < n1) order.push(i++);
  while (j < len) order.push(j++);
  return order;
}
