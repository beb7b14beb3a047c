import { code, op, wasmModule, type FunctionSpec } from './emit.js';
import { emitExpConstants, emitExpF64x2, EXP_CONSTANT_LOCALS } from './exp-f64x2.js';
import { passKernels } from './pass-kernels.js';

/**
 * The SIMD kernels of the wasm backend, as a WebAssembly module built from this source.
 *
 * - `gram64(x, k, dp, out)`: `out[i][j] += sum_r x[r][i] x[r][j]` over the upper 4 x 4 tiles
 *   (j >= i, tile-wise), float64. `x` holds the `k x dp` rows in column panels of 4
 *   (`x[(i/4 * k + r) * 4 + i%4]`), `out` is `dp x dp` row-major; dp a multiple of 4, k >= 1. Each
 *   tile keeps its 16 sums in 8 f64x2 registers while two panels stream past (one stays in L1).
 * - `proj32(x, rows, d, panels, ep, out)` and `proj64`: `out = X D`, float32 / float64. `x` holds the
 *   rows in tiles of 4 interleaved (`x[(r/4 * d + p) * 4 + r%4]`), `panels` holds D (`d x ep`) in
 *   column panels of 32 bytes (8 floats or 4 doubles: `panels[(j/W * d + p) * W + j%W]`), `out` is
 *   `rows x ep` row-major; rows a multiple of 4, ep of W. A 4 x W output tile stays in 8 registers
 *   while p runs over d; a panel (d x 32 bytes) stays in L1 while the row tiles stream past it.
 * - `gemm64(x, rows, d, panels, ep, out)`: `out += X D`, float64, the layouts of proj64: the
 *   register-blocked product of the eigensolver (src/linalg/wasm/products.ts), which keeps d to a
 *   few hundred so that a panel stays in L1, and accumulates over successive d-chunks in `out`.
 *
 * - `colMaxMin(p, rows, kp, hi, lo)`: per column of the `rows x kp` float64 block p (kp even),
 *   `hi[j] = max(hi[j], p[r][j])`, `lo[j] = min(lo[j], p[r][j])`.
 * - `expSums(p, rows, kp, m, c, sp, sn)`: per column, `sp[j] += sum_r exp(p[r][j] - m[j])` and
 *   `sn[j] += sum_r c[j] / exp(p[r][j] - m[j])`, which is `sum_r exp(-p[r][j] - m'[j])` for
 *   `c[j] = exp(-m[j] - m'[j])`: both log-sum-exp sides for one exp and one division. m[j] must be
 *   the column maximum; exponents below -700 count as -700 (1e-304, nothing next to the largest
 *   term, 1), so c[j] must be 0 unless m[j] + m'[j] <= 700.
 *
 * - `gemmRows(x, ldx, rows, d, panels, ep, out, ldo)`: `out += X D`, float64, X read in place:
 *   `rows x d` row-major with byte stride ldx (rows a multiple of 4), D in proj64's column panels
 *   (`d x ep`), out row-major with byte stride ldo. Row tiles outer, panels inner: a tile of X (4
 *   rows) is read once from memory and stays in L1 while the panels come from L2, so d should be a
 *   few hundred at most (the caller cuts it into chunks; out accumulates).
 * - `symv4(a, ld, pv, pw, v, p, i, j0, n, s)`: one step of the tridiagonalization's fused rank-2
 *   update and symmetric matrix-vector product on the four rows starting at `a` (byte stride ld),
 *   columns j0..n-1 (n - j0 even, >= 2): `a_r[j] -= pv[i+r] pw[j] + pw[i+r] pv[j]` (as
 *   `(a - pv[i+r] pw[j]) - pw[i+r] pv[j]`), then `p[j] += sum_r a_r[j] v[i+r]` (summed over r in
 *   order) and the partial row sums `sum_j a_r[j] v[j]` in two lanes each at s (8 doubles).
 *   pv, pw, v, p are the vectors' bases (element 0).
 *
 * And the passes' block loops of pass-kernels.ts.
 *
 * Addresses are byte offsets into the module's memory; the caller lays the data out.
 */
export function kernelModule(): Uint8Array {
  return wasmModule([gram64(), proj(4), proj(8), colMaxMin(), expSums(), proj(8, true), symv4(), gemmRows(), ...passKernels()]);
}

function gram64(): FunctionSpec {
  const X = 0, K = 1, DP = 2, OUT = 3;
  const I = 4, J = 5, R = 6, PA = 7, PB = 8, PANEL = 9, PO = 10;
  const ACC = 11, B0 = 19, B1 = 20, T = 21;
  const { c, e } = code();
  // bytes per column of a panel run: k rows x 8
  e(op.get(K), op.i32(3), op.shl, op.set(PANEL));
  e(op.i32(0), op.set(I));
  e(op.block, op.loop);
  {
    e(op.get(I), op.set(J));
    e(op.block, op.loop);
    {
      for (let a = 0; a < 8; a++) e(op.v128Zero, op.set(ACC + a));
      // panel of columns i..i+3 starts at i * k * 8 bytes
      e(op.get(X), op.get(I), op.get(PANEL), op.mul, op.add, op.set(PA));
      e(op.get(X), op.get(J), op.get(PANEL), op.mul, op.add, op.set(PB));
      e(op.get(K), op.set(R));
      e(op.block, op.loop);
      {
        e(op.get(PB), op.v128Load(0), op.set(B0));
        e(op.get(PB), op.v128Load(16), op.set(B1));
        for (let ii = 0; ii < 4; ii++) {
          e(op.get(PA), op.splat64(ii * 8), op.tee(T));
          e(op.get(B0), op.f64x2Mul, op.get(ACC + 2 * ii), op.f64x2Add, op.set(ACC + 2 * ii));
          e(op.get(T), op.get(B1), op.f64x2Mul, op.get(ACC + 2 * ii + 1), op.f64x2Add, op.set(ACC + 2 * ii + 1));
        }
        e(op.get(PA), op.i32(32), op.add, op.set(PA));
        e(op.get(PB), op.i32(32), op.add, op.set(PB));
        e(op.get(R), op.i32(1), op.sub, op.tee(R), op.brIf(0));
      }
      e(op.end, op.end);
      for (let ii = 0; ii < 4; ii++) {
        e(op.get(OUT), op.get(I), op.i32(ii), op.add, op.get(DP), op.mul, op.get(J), op.add, op.i32(3), op.shl, op.add, op.set(PO));
        for (let h = 0; h < 2; h++) e(op.get(PO), op.get(PO), op.v128Load(h * 16), op.get(ACC + 2 * ii + h), op.f64x2Add, op.v128Store(h * 16));
      }
      e(op.get(J), op.i32(4), op.add, op.tee(J), op.get(DP), op.ltU, op.brIf(0));
    }
    e(op.end, op.end);
    e(op.get(I), op.i32(4), op.add, op.tee(I), op.get(DP), op.ltU, op.brIf(0));
  }
  e(op.end, op.end);
  return { name: 'gram64', params: 4, locals: { i32: 7, v128: 11 }, body: c };
}

/** proj32 (es = 4) or proj64 (es = 8), or gemm64 (es = 8, accumulate); see {@link kernelModule}. */
function proj(es: 4 | 8, accumulate = false): FunctionSpec {
  const X = 0, ROWS = 1, D = 2, PANELS = 3, EP = 4, OUT = 5;
  const R = 6, J = 7, P = 8, PA = 9, PB = 10, TILE = 11, PO = 12;
  const ACC = 13, B0 = 21, B1 = 22, T = 23;
  const sh = es === 4 ? 2 : 3;
  const W = 32 / es;
  const splat = es === 4 ? op.splat32 : op.splat64;
  const add = es === 4 ? op.f32x4Add : op.f64x2Add;
  const mul = es === 4 ? op.f32x4Mul : op.f64x2Mul;
  const { c, e } = code();
  // bytes per p of a row tile (4 values) and of a panel (32)
  e(op.get(D), op.i32(sh), op.shl, op.set(TILE));
  e(op.i32(0), op.set(J));
  e(op.block, op.loop);
  {
    e(op.i32(0), op.set(R));
    e(op.block, op.loop);
    {
      for (let a = 0; a < 8; a++) e(op.v128Zero, op.set(ACC + a));
      e(op.get(X), op.get(R), op.get(TILE), op.mul, op.add, op.set(PA));
      e(op.get(PANELS), op.get(J), op.get(TILE), op.mul, op.add, op.set(PB));
      e(op.get(D), op.set(P));
      e(op.block, op.loop);
      {
        e(op.get(PB), op.v128Load(0), op.set(B0));
        e(op.get(PB), op.v128Load(16), op.set(B1));
        for (let ii = 0; ii < 4; ii++) {
          e(op.get(PA), splat(ii * es), op.tee(T));
          e(op.get(B0), mul, op.get(ACC + 2 * ii), add, op.set(ACC + 2 * ii));
          e(op.get(T), op.get(B1), mul, op.get(ACC + 2 * ii + 1), add, op.set(ACC + 2 * ii + 1));
        }
        e(op.get(PA), op.i32(4 * es), op.add, op.set(PA));
        e(op.get(PB), op.i32(32), op.add, op.set(PB));
        e(op.get(P), op.i32(1), op.sub, op.tee(P), op.brIf(0));
      }
      e(op.end, op.end);
      for (let ii = 0; ii < 4; ii++) {
        e(op.get(OUT), op.get(R), op.i32(ii), op.add, op.get(EP), op.mul, op.get(J), op.add, op.i32(sh), op.shl, op.add, op.set(PO));
        for (let h = 0; h < 2; h++) {
          if (accumulate) e(op.get(PO), op.get(PO), op.v128Load(h * 16), op.get(ACC + 2 * ii + h), add, op.v128Store(h * 16));
          else e(op.get(PO), op.get(ACC + 2 * ii + h), op.v128Store(h * 16));
        }
      }
      e(op.get(R), op.i32(4), op.add, op.tee(R), op.get(ROWS), op.ltU, op.brIf(0));
    }
    e(op.end, op.end);
    e(op.get(J), op.i32(W), op.add, op.tee(J), op.get(EP), op.ltU, op.brIf(0));
  }
  e(op.end, op.end);
  return { name: accumulate ? 'gemm64' : es === 4 ? 'proj32' : 'proj64', params: 6, locals: { i32: 7, v128: 11 }, body: c };
}

function colMaxMin(): FunctionSpec {
  const P = 0, ROWS = 1, KP = 2, HI = 3, LO = 4;
  const R = 5, J = 6, PP = 7, Q = 8;
  const V = 9;
  const { c, e } = code();
  e(op.get(P), op.set(PP));
  e(op.get(ROWS), op.set(R));
  e(op.block, op.loop);
  {
    e(op.i32(0), op.set(J));
    e(op.block, op.loop);
    {
      e(op.get(PP), op.v128Load(0), op.set(V));
      e(op.get(J), op.i32(3), op.shl, op.set(Q));
      e(op.get(HI), op.get(Q), op.add, op.get(HI), op.get(Q), op.add, op.v128Load(0), op.get(V), op.f64x2Max, op.v128Store(0));
      e(op.get(LO), op.get(Q), op.add, op.get(LO), op.get(Q), op.add, op.v128Load(0), op.get(V), op.f64x2Min, op.v128Store(0));
      e(op.get(PP), op.i32(16), op.add, op.set(PP));
      e(op.get(J), op.i32(2), op.add, op.tee(J), op.get(KP), op.ltU, op.brIf(0));
    }
    e(op.end, op.end);
    e(op.get(R), op.i32(1), op.sub, op.tee(R), op.brIf(0));
  }
  e(op.end, op.end);
  return { name: 'colMaxMin', params: 5, locals: { i32: 4, v128: 1 }, body: c };
}

/** expSums; see {@link kernelModule}. */
function expSums(): FunctionSpec {
  const P = 0, ROWS = 1, KP = 2, M = 3, CN = 4, SP = 5, SN = 6;
  const R = 7, J = 8, PP = 9, Q = 10;
  const X = 11, K = 12, RR = 13, E = 14;
  const EXP = 15;
  const { c, e } = code();
  emitExpConstants(e, EXP);
  e(op.get(P), op.set(PP));
  e(op.get(ROWS), op.set(R));
  e(op.block, op.loop);
  {
    e(op.i32(0), op.set(J));
    e(op.block, op.loop);
    {
      e(op.get(J), op.i32(3), op.shl, op.set(Q));
      e(op.get(PP), op.v128Load(0), op.get(M), op.get(Q), op.add, op.v128Load(0), op.f64x2Sub);
      emitExpF64x2(e, { x: X, k: K, r: RR }, EXP);
      e(op.set(E));
      e(op.get(SP), op.get(Q), op.add, op.get(SP), op.get(Q), op.add, op.v128Load(0), op.get(E), op.f64x2Add, op.v128Store(0));
      e(op.get(SN), op.get(Q), op.add, op.get(SN), op.get(Q), op.add, op.v128Load(0));
      e(op.get(CN), op.get(Q), op.add, op.v128Load(0), op.get(E), op.f64x2Div, op.f64x2Add, op.v128Store(0));
      e(op.get(PP), op.i32(16), op.add, op.set(PP));
      e(op.get(J), op.i32(2), op.add, op.tee(J), op.get(KP), op.ltU, op.brIf(0));
    }
    e(op.end, op.end);
    e(op.get(R), op.i32(1), op.sub, op.tee(R), op.brIf(0));
  }
  e(op.end, op.end);
  return { name: 'expSums', params: 7, locals: { i32: 4, v128: EXP + EXP_CONSTANT_LOCALS - X }, body: c };
}

/** symv4; see {@link kernelModule}. */
function symv4(): FunctionSpec {
  const A = 0, LD = 1, PV = 2, PW = 3, VV = 4, PP = 5, I = 6, J0 = 7, N = 8, S = 9;
  const R = 10, Q = 14, END = 15;
  const X = 16, Y = 20, VR = 24, SUM = 28, W = 32, U = 33, VJ = 34, T = 35, AV = 36;
  const { c, e } = code();
  for (let r = 0; r < 4; r++) {
    for (const [base, dst] of [[PV, X], [PW, Y], [VV, VR]]) {
      e(op.get(base), op.get(I), op.i32(3), op.shl, op.add, op.splat64(r * 8), op.set(dst + r));
    }
    e(op.v128Zero, op.set(SUM + r));
  }
  e(op.get(J0), op.i32(3), op.shl, op.set(Q));
  e(op.get(N), op.i32(3), op.shl, op.set(END));
  e(op.get(A), op.get(Q), op.add, op.set(R));
  for (let r = 1; r < 4; r++) e(op.get(R + r - 1), op.get(LD), op.add, op.set(R + r));
  e(op.block, op.loop);
  {
    e(op.get(PW), op.get(Q), op.add, op.v128Load(0), op.set(W));
    e(op.get(PV), op.get(Q), op.add, op.v128Load(0), op.set(U));
    e(op.get(VV), op.get(Q), op.add, op.v128Load(0), op.set(VJ));
    for (let r = 0; r < 4; r++) {
      e(op.get(R + r), op.get(R + r), op.v128Load(0));
      e(op.get(X + r), op.get(W), op.f64x2Mul, op.f64x2Sub, op.get(Y + r), op.get(U), op.f64x2Mul, op.f64x2Sub);
      e(op.tee(AV), op.v128Store(0));
      e(op.get(AV), op.get(VJ), op.f64x2Mul, op.get(SUM + r), op.f64x2Add, op.set(SUM + r));
      if (r === 0) e(op.get(AV), op.get(VR), op.f64x2Mul, op.set(T));
      else e(op.get(T), op.get(AV), op.get(VR + r), op.f64x2Mul, op.f64x2Add, op.set(T));
      e(op.get(R + r), op.i32(16), op.add, op.set(R + r));
    }
    e(op.get(PP), op.get(Q), op.add, op.get(PP), op.get(Q), op.add, op.v128Load(0), op.get(T), op.f64x2Add, op.v128Store(0));
    e(op.get(Q), op.i32(16), op.add, op.tee(Q), op.get(END), op.ltU, op.brIf(0));
  }
  e(op.end, op.end);
  for (let r = 0; r < 4; r++) e(op.get(S), op.get(SUM + r), op.v128Store(r * 16));
  return { name: 'symv4', params: 10, locals: { i32: 6, v128: 21 }, body: c };
}

/** gemmRows; see {@link kernelModule}. */
function gemmRows(): FunctionSpec {
  const X = 0, LDX = 1, ROWS = 2, D = 3, PANELS = 4, EP = 5, OUT = 6, LDO = 7;
  const R = 8, J = 9, P = 10, PA = 11, PB = 15, PO = 16;
  const ACC = 17, B0 = 25, B1 = 26, T = 27;
  const { c, e } = code();
  e(op.i32(0), op.set(R));
  e(op.block, op.loop);
  {
    e(op.i32(0), op.set(J));
    e(op.block, op.loop);
    {
      for (let a = 0; a < 8; a++) e(op.v128Zero, op.set(ACC + a));
      e(op.get(X), op.get(R), op.get(LDX), op.mul, op.add, op.set(PA));
      for (let ii = 1; ii < 4; ii++) e(op.get(PA + ii - 1), op.get(LDX), op.add, op.set(PA + ii));
      // panel of columns j..j+3 starts at j * d * 8 bytes
      e(op.get(PANELS), op.get(J), op.get(D), op.mul, op.i32(3), op.shl, op.add, op.set(PB));
      e(op.get(D), op.set(P));
      e(op.block, op.loop);
      {
        e(op.get(PB), op.v128Load(0), op.set(B0));
        e(op.get(PB), op.v128Load(16), op.set(B1));
        for (let ii = 0; ii < 4; ii++) {
          e(op.get(PA + ii), op.splat64(0), op.tee(T));
          e(op.get(B0), op.f64x2Mul, op.get(ACC + 2 * ii), op.f64x2Add, op.set(ACC + 2 * ii));
          e(op.get(T), op.get(B1), op.f64x2Mul, op.get(ACC + 2 * ii + 1), op.f64x2Add, op.set(ACC + 2 * ii + 1));
          e(op.get(PA + ii), op.i32(8), op.add, op.set(PA + ii));
        }
        e(op.get(PB), op.i32(32), op.add, op.set(PB));
        e(op.get(P), op.i32(1), op.sub, op.tee(P), op.brIf(0));
      }
      e(op.end, op.end);
      for (let ii = 0; ii < 4; ii++) {
        e(op.get(OUT), op.get(R), op.i32(ii), op.add, op.get(LDO), op.mul, op.add, op.get(J), op.i32(3), op.shl, op.add, op.set(PO));
        for (let h = 0; h < 2; h++) e(op.get(PO), op.get(PO), op.v128Load(h * 16), op.get(ACC + 2 * ii + h), op.f64x2Add, op.v128Store(h * 16));
      }
      e(op.get(J), op.i32(4), op.add, op.tee(J), op.get(EP), op.ltU, op.brIf(0));
    }
    e(op.end, op.end);
    e(op.get(R), op.i32(4), op.add, op.tee(R), op.get(ROWS), op.ltU, op.brIf(0));
  }
  e(op.end, op.end);
  return { name: 'gemmRows', params: 8, locals: { i32: 9, v128: 11 }, body: c };
}
