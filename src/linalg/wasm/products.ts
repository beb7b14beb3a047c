import { align16 } from './instance.js';
import { eighKernels } from './shared.js';

/** Rows of C per pass: the output block (ROWS x n) and the packed rows stay in L2. */
const ROWS = 256;
/** Shared-dimension chunk: a packed panel of B (CHUNK x 4 doubles, 8 KiB) stays in L1. */
const CHUNK = 256;
/** Below this many multiply-adds the packing costs more than the kernel saves. */
const MIN_WORK = 1 << 15;

/** A strided operand: `x[off + i * ld + j]` is entry (i, j), or (j, i) when `trans`. */
export interface Operand {
  x: Float64Array;
  off: number;
  ld: number;
  trans: boolean;
}

/**
 * `C += alpha * A B` on the gemm64 WebAssembly SIMD kernel (f64x2, 4 x 4 register tiles), for the
 * eigensolver's strided products: A is `m x p`, B is `p x n`, each given by a strided
 * {@link Operand} (so A^T or B^T are read in place), C row-major with leading dimension ldc.
 *
 * Operands are packed into the kernel's layouts (row tiles of 4 for A, column panels of 4 for B)
 * chunk by chunk; each output entry sums its p products in order, in float64.
 *
 * @returns false (and does nothing) when WebAssembly SIMD is unavailable or the product is too
 *   small to gain, so the caller runs its own loop
 */
export function wasmAddProduct(
  m: number, n: number, p: number, alpha: number, a: Operand, b: Operand,
  c: Float64Array, cOff: number, ldc: number,
): boolean {
  if (m < 4 || n < 4 || m * n * p < MIN_WORK) return false;
  const w = eighKernels();
  if (!w) return false;
  const np = (n + 3) & ~3;
  const rowsMax = Math.min(ROWS, (m + 3) & ~3);
  const lenMax = Math.min(CHUNK, p);
  // layout above the arena's top: X (rowsMax x lenMax) | D (lenMax x np) | out (rowsMax x np)
  const xOff = align16(w.arena.top);
  const dOff = xOff + rowsMax * lenMax * 8;
  const oOff = dOff + lenMax * np * 8;
  const mem = new Float64Array(w.arena.ensure(oOff + rowsMax * np * 8));
  const x0 = xOff / 8, d0 = dOff / 8, o0 = oOff / 8;
  for (let i0 = 0; i0 < m; i0 += ROWS) {
    const rows = Math.min(ROWS, m - i0), rp = (rows + 3) & ~3;
    mem.fill(0, o0, o0 + rp * np);
    for (let q0 = 0; q0 < p; q0 += CHUNK) {
      const len = Math.min(CHUNK, p - q0);
      packRows(a, i0, rows, rp, q0, len, mem, x0);
      packPanels(b, n, np, q0, len, mem, d0);
      w.k.gemm64(xOff, rp, len, dOff, np, oOff);
    }
    for (let i = 0; i < rows; i++) {
      const co = cOff + (i0 + i) * ldc, oo = o0 + i * np;
      for (let j = 0; j < n; j++) c[co + j] += alpha * mem[oo + j];
    }
  }
  return true;
}

/** Rows i0..i0+rows-1, columns q0..q0+len-1 of A into row tiles of 4 (`x[(r/4 * len + q) * 4 + r%4]`), zero rows up to rp. */
function packRows(a: Operand, i0: number, rows: number, rp: number, q0: number, len: number, mem: Float64Array, x0: number): void {
  const { x, off, ld } = a;
  if (a.trans) {
    // A[i][q] = x[off + q * ld + i]: each q reads a contiguous run of rows
    for (let q = 0; q < len; q++) {
      const src = off + (q0 + q) * ld + i0;
      for (let r = 0; r < rows; r++) mem[x0 + ((r >> 2) * len + q) * 4 + (r & 3)] = x[src + r];
    }
  } else {
    for (let r = 0; r < rows; r++) {
      const src = off + (i0 + r) * ld + q0, dst = x0 + (r >> 2) * len * 4 + (r & 3);
      for (let q = 0; q < len; q++) mem[dst + q * 4] = x[src + q];
    }
  }
  for (let r = rows; r < rp; r++) {
    const dst = x0 + (r >> 2) * len * 4 + (r & 3);
    for (let q = 0; q < len; q++) mem[dst + q * 4] = 0;
  }
}

/** Rows q0..q0+len-1 of B (p x n) into column panels of 4 (`d[(j/4 * len + q) * 4 + j%4]`), zero columns up to np. */
export function packPanels(b: Operand, n: number, np: number, q0: number, len: number, mem: Float64Array, d0: number): void {
  const { x, off, ld } = b;
  if (b.trans) {
    // B[q][j] = x[off + j * ld + q]: each column j is a contiguous run
    for (let j = 0; j < n; j++) {
      const src = off + j * ld + q0, dst = d0 + (j >> 2) * len * 4 + (j & 3);
      for (let q = 0; q < len; q++) mem[dst + q * 4] = x[src + q];
    }
  } else {
    for (let q = 0; q < len; q++) {
      const src = off + (q0 + q) * ld;
      for (let j = 0; j < n; j++) mem[d0 + ((j >> 2) * len + q) * 4 + (j & 3)] = x[src + j];
    }
  }
  for (let j = n; j < np; j++) {
    const dst = d0 + (j >> 2) * len * 4 + (j & 3);
    for (let q = 0; q < len; q++) mem[dst + q * 4] = 0;
  }
}
