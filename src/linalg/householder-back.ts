import { addABt, addAtB } from './strided-products.js';
import type { Tridiagonal } from './tridiagonalize.js';
import { align16, type Arena, type KernelExports } from './wasm/instance.js';
import { packPanels } from './wasm/products.js';
import { eighKernels } from './wasm/shared.js';

/** reflectors per block: large enough for the products to run near their peak, small enough for T */
const BLOCK = 32;
/** shared-dimension chunk of the kernel's first product: a tile of 4 rows (8 KiB) stays in L1 */
const CHUNK = 256;

/**
 * Back-transformation of tridiagonal eigenvectors: each of the `m` rows x (an eigenvector of T)
 * becomes `(Q x^T)^T`, an eigenvector of A = Q T Q^T, in place.
 *
 * Rows are multiplied on the right by `Q^T = H_{n-3} ... H_0`, BLOCK reflectors at a time in the
 * compact WY form `H_k0 ... H_k1-1 = I - V T V^T` (LAPACK's dlarft/dlarfb), so the work is two
 * register-blocked matrix products per block: about 2 m n^2 flops in all.
 *
 * With WebAssembly SIMD (n >= 32) the rows live in the kernel instance's memory for the whole
 * back-transformation and both products run on the gemmRows kernel in place; else plain loops.
 *
 * @param rows  `m x n` row-major
 */
export function applyQ(tri: Tridiagonal, rows: Float64Array, m: number): void {
  const { n, reflectors: R, tau } = tri;
  const count = tau.length; // n - 2 reflectors
  if (m === 0 || count === 0) return;
  const w = n >= 32 ? eighKernels((((m + 3) & ~3) * (n + 4 + 2 * BLOCK) + (BLOCK + n + CHUNK) * BLOCK) * 8) : null;
  if (w) {
    applyQWasm(tri, rows, m, w.k, w.arena);
    return;
  }
  const T = new Float64Array(BLOCK * BLOCK);
  const Wt = new Float64Array(BLOCK * m);
  const first = Math.floor((count - 1) / BLOCK) * BLOCK;
  for (let k0 = first; k0 >= 0; k0 -= BLOCK) {
    const nb = Math.min(BLOCK, count - k0);
    const L = n - k0 - 1; // reflectors of this block live in columns k0+1..n-1
    const vOff = k0 * n + k0 + 1;
    blockT(R, tau, n, k0, nb, T);
    // Wt = V^T X^T (nb x m): dot products of rows of V^T with rows of X
    Wt.fill(0, 0, nb * m);
    addABt(nb, m, L, 1, R, vOff, n, rows, k0 + 1, n, Wt, 0, m);
    // Wt <- T Wt (T upper triangular: ascending rows can be overwritten in place)
    for (let c = 0; c < nb; c++) {
      const co = c * m, tc = T[c * BLOCK + c];
      for (let i = 0; i < m; i++) Wt[co + i] *= tc;
      for (let c2 = c + 1; c2 < nb; c2++) {
        const t = T[c * BLOCK + c2], o2 = c2 * m;
        if (t !== 0) for (let i = 0; i < m; i++) Wt[co + i] += t * Wt[o2 + i];
      }
    }
    // X -= Wt^T V^T
    addAtB(m, L, nb, -1, Wt, 0, m, R, vOff, n, rows, k0 + 1, n);
  }
}

/**
 * {@link applyQ} on the kernels: X (rows padded to a multiple of 4, row stride n + 4 so that the
 * padding columns of a product land in the row's own padding) stays in wasm memory;
 * per block `W = X V` (m x nb), `W' = -W T^T`, `X += W' V^T`, all three on the kernel.
 */
function applyQWasm(tri: Tridiagonal, rows: Float64Array, m: number, k: KernelExports, arena: Arena): void {
  const { n, reflectors: R, tau } = tri;
  const count = tau.length;
  const mp = (m + 3) & ~3, ldx = n + 4, np = (n + 3) & ~3;
  // layout: X (mp x ldx) | W, W' (mp x BLOCK each) | -T^T (BLOCK x BLOCK) | panels (max(BLOCK x np, CHUNK x BLOCK))
  const xOff = align16(arena.top);
  const wOff = xOff + mp * ldx * 8;
  const w2Off = wOff + mp * BLOCK * 8;
  const tOff = w2Off + mp * BLOCK * 8;
  const pOff = tOff + BLOCK * BLOCK * 8;
  const mem = new Float64Array(arena.ensure(pOff + Math.max(np, CHUNK) * BLOCK * 8));
  const x0 = xOff / 8, w0 = wOff / 8, w20 = w2Off / 8, t0 = tOff / 8, p0 = pOff / 8;
  mem.fill(0, x0, x0 + mp * ldx);
  for (let i = 0; i < m; i++) mem.set(rows.subarray(i * n, i * n + n), x0 + i * ldx);
  const T = new Float64Array(BLOCK * BLOCK);
  const first = Math.floor((count - 1) / BLOCK) * BLOCK;
  for (let k0 = first; k0 >= 0; k0 -= BLOCK) {
    const nb = Math.min(BLOCK, count - k0), nbp = (nb + 3) & ~3;
    const L = n - k0 - 1, Lp = (L + 3) & ~3;
    const vOff = k0 * n + k0 + 1;
    blockT(R, tau, n, k0, nb, T);
    // W = X[:, k0+1..n) V, V^T's rows being R's rows k0..k0+nb-1
    mem.fill(0, w0, w0 + mp * BLOCK);
    for (let q0 = 0; q0 < L; q0 += CHUNK) {
      const len = Math.min(CHUNK, L - q0);
      packPanels({ x: R, off: vOff, ld: n, trans: true }, nb, nbp, q0, len, mem, p0);
      k.gemmRows(xOff + (k0 + 1 + q0) * 8, ldx * 8, mp, len, pOff, nbp, wOff, BLOCK * 8);
    }
    // W' = W (-T^T), on the kernel too (T upper triangular; -T^T exact)
    for (let j = 0; j < nbp; j++) {
      for (let q = 0; q < nb; q++) mem[t0 + ((j >> 2) * nb + q) * 4 + (j & 3)] = j < nb && q >= j ? -T[j * BLOCK + q] : 0;
    }
    mem.fill(0, w20, w20 + mp * BLOCK);
    k.gemmRows(wOff, BLOCK * 8, mp, nb, tOff, nbp, w2Off, BLOCK * 8);
    // X[:, k0+1..n) += W' V^T
    packPanels({ x: R, off: vOff, ld: n, trans: false }, L, Lp, 0, nb, mem, p0);
    k.gemmRows(w2Off, BLOCK * 8, mp, nb, pOff, Lp, xOff + (k0 + 1) * 8, ldx * 8);
  }
  for (let i = 0; i < m; i++) rows.set(mem.subarray(x0 + i * ldx, x0 + i * ldx + n), i * n);
}

/**
 * Upper triangular T of the block (forward, columnwise, as dlarft):
 * `T[i][i] = tau_i`, `T[0:i, i] = -tau_i T[0:i, 0:i] V[:, 0:i]^T v_i`.
 */
function blockT(R: Float64Array, tau: Float64Array, n: number, k0: number, nb: number, T: Float64Array): void {
  const g = new Float64Array(nb);
  for (let i = 0; i < nb; i++) {
    const ti = tau[k0 + i];
    T[i * BLOCK + i] = ti;
    if (i === 0) continue;
    const ri = (k0 + i) * n;
    // v_i is zero left of column k0+i+1
    for (let j = 0; j < i; j++) {
      const rj = (k0 + j) * n;
      let sum = 0;
      for (let c = k0 + i + 1; c < n; c++) sum += R[rj + c] * R[ri + c];
      g[j] = sum;
    }
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let l = j; l < i; l++) sum += T[j * BLOCK + l] * g[l];
      T[j * BLOCK + i] = -ti * sum;
    }
  }
}
