import { code, op, type Bytes, type FunctionSpec } from './emit.js';
import { emitExpConstants, emitExpF64x2, EXP_CONSTANT_LOCALS } from './exp-f64x2.js';

/**
 * The per-block loops of the wasm backend's passes (beside gram64 and proj32 in kernels.ts), so
 * that a block crosses into WebAssembly memory once and no per-value JavaScript loop runs:
 *
 * - `colStats(x, rows, dp, sum, mn, mx)`: per column of the `rows x dp` float64 rows x,
 *   `sum += x`, `mn = min(mn, x)`, `mx = max(mx, x)` (dp even).
 * - `rowInv(x, rows, dp, sc, inv)`: `inv[r] = 1 / |x[r] * sc|`, or 0 for a row whose scaled norm
 *   is 0 (sc: a float64 scale per column, ones for plain rows; dp even).
 * - `unitSums(x, rows, dp, sc, inv, unit)` and `unitSumsSq(..., unit, sq)`: `u = x[r] * sc * inv[r]`;
 *   `unit += u` (and `sq += u * u`) per column.
 * - `centerPack(x, rows, dp, mean, k, out)`: `x - mean` into gram64's column panels of 4 for a panel
 *   length of k >= rows rows (`out[((c / 4) * k + r) * 4 + c % 4]`; rows rows..k-1 left as they are;
 *   dp a multiple of 4).
 * - `packRows32(x, rows, dp, center, out)`: `f32(x - center)` into proj32's row tiles of 4
 *   (`out[((r / 4) * dp + c) * 4 + r % 4]`; rows a multiple of 4, dp even).
 * - `colMaxMin32(p, rows, ep, hi, lo)`: per column of the `rows x ep` float32 p, float32 `hi`/`lo`
 *   moved to the largest/smallest value (ep a multiple of 4).
 * - `expSums32(p, rows, ep, off, c, sp, sn)`: per column, with `t = p + off` in float64 (off: the
 *   column's float64 shift minus its maximum, so t <= 0), `sp += exp(t)` and `sn += c / exp(t)`
 *   (kernels.ts's expSums, on float32 projections; ep even).
 *
 * Addresses are byte offsets into the module's memory; counts are at least 1.
 */
export function passKernels(): FunctionSpec[] {
  return [colStats(), rowInv(), unitSums(false), unitSums(true), centerPack(), packRows32(), colMaxMin32(), expSums32()];
}

/** `base + off` as an address on the stack. */
const at = (base: number, off: number): Bytes => [...op.get(base), ...op.get(off), ...op.add];

function colStats(): FunctionSpec {
  const X = 0, ROWS = 1, DP = 2, SUM = 3, MN = 4, MX = 5;
  const R = 6, C = 7, PX = 8, END = 9, V = 10;
  const { c, e } = code();
  e(op.get(DP), op.i32(3), op.shl, op.set(END), op.get(X), op.set(PX), op.get(ROWS), op.set(R));
  e(op.block, op.loop);
  {
    e(op.i32(0), op.set(C));
    e(op.block, op.loop);
    {
      e(at(PX, C), op.v128Load(0), op.set(V));
      e(at(SUM, C), at(SUM, C), op.v128Load(0), op.get(V), op.f64x2Add, op.v128Store(0));
      e(at(MN, C), at(MN, C), op.v128Load(0), op.get(V), op.f64x2Min, op.v128Store(0));
      e(at(MX, C), at(MX, C), op.v128Load(0), op.get(V), op.f64x2Max, op.v128Store(0));
      e(op.get(C), op.i32(16), op.add, op.tee(C), op.get(END), op.ltU, op.brIf(0));
    }
    e(op.end, op.end);
    e(op.get(PX), op.get(END), op.add, op.set(PX));
    e(op.get(R), op.i32(1), op.sub, op.tee(R), op.brIf(0));
  }
  e(op.end, op.end);
  return { name: 'colStats', params: 6, locals: { i32: 4, v128: 1 }, body: c };
}

function rowInv(): FunctionSpec {
  const X = 0, ROWS = 1, DP = 2, SC = 3, INV = 4;
  const R = 5, C = 6, PX = 7, END = 8, PI = 9;
  const ACC = 10, V = 11, SS = 12;
  const { c, e } = code();
  e(op.get(DP), op.i32(3), op.shl, op.set(END), op.get(X), op.set(PX), op.get(INV), op.set(PI), op.get(ROWS), op.set(R));
  e(op.block, op.loop);
  {
    e(op.v128Zero, op.set(ACC), op.i32(0), op.set(C));
    e(op.block, op.loop);
    {
      e(at(PX, C), op.v128Load(0), at(SC, C), op.v128Load(0), op.f64x2Mul, op.tee(V));
      e(op.get(V), op.f64x2Mul, op.get(ACC), op.f64x2Add, op.set(ACC));
      e(op.get(C), op.i32(16), op.add, op.tee(C), op.get(END), op.ltU, op.brIf(0));
    }
    e(op.end, op.end);
    e(op.get(ACC), op.f64x2ExtractLane(0), op.get(ACC), op.f64x2ExtractLane(1), op.f64Add, op.set(SS));
    // inv = ss > 0 ? 1 / sqrt(ss) : 0
    e(op.get(PI), op.f64Const(1), op.get(SS), op.f64Sqrt, op.f64Div, op.f64Const(0), op.get(SS), op.f64Const(0), op.f64Gt, op.select, op.f64Store(0));
    e(op.get(PX), op.get(END), op.add, op.set(PX), op.get(PI), op.i32(8), op.add, op.set(PI));
    e(op.get(R), op.i32(1), op.sub, op.tee(R), op.brIf(0));
  }
  e(op.end, op.end);
  return { name: 'rowInv', params: 5, locals: { i32: 5, v128: 2, f64: 1 }, body: c };
}

function unitSums(squares: boolean): FunctionSpec {
  const X = 0, ROWS = 1, DP = 2, SC = 3, INV = 4, UNIT = 5, SQ = 6;
  const P = squares ? 7 : 6;
  const R = P, C = P + 1, PX = P + 2, END = P + 3, PI = P + 4, S = P + 5, U = P + 6;
  const { c, e } = code();
  e(op.get(DP), op.i32(3), op.shl, op.set(END), op.get(X), op.set(PX), op.get(INV), op.set(PI), op.get(ROWS), op.set(R));
  e(op.block, op.loop);
  {
    e(op.get(PI), op.splat64(0), op.set(S), op.i32(0), op.set(C));
    e(op.block, op.loop);
    {
      e(at(PX, C), op.v128Load(0), at(SC, C), op.v128Load(0), op.f64x2Mul, op.get(S), op.f64x2Mul, op.set(U));
      e(at(UNIT, C), at(UNIT, C), op.v128Load(0), op.get(U), op.f64x2Add, op.v128Store(0));
      if (squares) e(at(SQ, C), at(SQ, C), op.v128Load(0), op.get(U), op.get(U), op.f64x2Mul, op.f64x2Add, op.v128Store(0));
      e(op.get(C), op.i32(16), op.add, op.tee(C), op.get(END), op.ltU, op.brIf(0));
    }
    e(op.end, op.end);
    e(op.get(PX), op.get(END), op.add, op.set(PX), op.get(PI), op.i32(8), op.add, op.set(PI));
    e(op.get(R), op.i32(1), op.sub, op.tee(R), op.brIf(0));
  }
  e(op.end, op.end);
  return { name: squares ? 'unitSumsSq' : 'unitSums', params: P, locals: { i32: 5, v128: 2 }, body: c };
}

function centerPack(): FunctionSpec {
  const X = 0, ROWS = 1, DP = 2, MEAN = 3, K = 4, OUT = 5;
  const R = 6, P = 7, PX = 8, PO = 9, END = 10, STRIDE = 11, ROW0 = 12;
  const { c, e } = code();
  e(op.get(DP), op.i32(3), op.shl, op.set(END), op.get(K), op.i32(5), op.shl, op.set(STRIDE));
  e(op.get(X), op.set(PX), op.get(OUT), op.set(ROW0), op.get(ROWS), op.set(R));
  e(op.block, op.loop);
  {
    e(op.i32(0), op.set(P), op.get(ROW0), op.set(PO));
    e(op.block, op.loop);
    {
      for (const h of [0, 16]) e(op.get(PO), at(PX, P), op.v128Load(h), at(MEAN, P), op.v128Load(h), op.f64x2Sub, op.v128Store(h));
      e(op.get(PO), op.get(STRIDE), op.add, op.set(PO));
      e(op.get(P), op.i32(32), op.add, op.tee(P), op.get(END), op.ltU, op.brIf(0));
    }
    e(op.end, op.end);
    e(op.get(PX), op.get(END), op.add, op.set(PX), op.get(ROW0), op.i32(32), op.add, op.set(ROW0));
    e(op.get(R), op.i32(1), op.sub, op.tee(R), op.brIf(0));
  }
  e(op.end, op.end);
  return { name: 'centerPack', params: 6, locals: { i32: 7, v128: 0 }, body: c };
}

function packRows32(): FunctionSpec {
  const X = 0, ROWS = 1, DP = 2, CEN = 3, OUT = 4;
  const T = 5, P = 6, PX = 7, PO = 8, RS = 9, R2 = 10, R3 = 11;
  const A = 12, CV = 16, T01 = 17, T23 = 18;
  const { c, e } = code();
  e(op.get(DP), op.i32(3), op.shl, op.tee(RS), op.i32(1), op.shl, op.set(R2), op.get(R2), op.get(RS), op.add, op.set(R3));
  e(op.get(X), op.set(PX), op.get(OUT), op.set(PO), op.get(ROWS), op.i32(2), op.shrU, op.set(T));
  e(op.block, op.loop);
  {
    e(op.i32(0), op.set(P));
    e(op.block, op.loop);
    {
      e(at(CEN, P), op.v128Load(0), op.set(CV));
      const rowOffsets = [null, RS, R2, R3];
      rowOffsets.forEach((ro, i) => {
        e(at(PX, P));
        if (ro !== null) e(op.get(ro), op.add);
        e(op.v128Load(0), op.get(CV), op.f64x2Sub, op.f32x4DemoteF64x2Zero, op.set(A + i));
      });
      e(op.get(A), op.get(A + 1), op.shuffle32(0, 4, 1, 5), op.set(T01));
      e(op.get(A + 2), op.get(A + 3), op.shuffle32(0, 4, 1, 5), op.set(T23));
      e(op.get(PO), op.get(T01), op.get(T23), op.shuffle32(0, 1, 4, 5), op.v128Store(0));
      e(op.get(PO), op.get(T01), op.get(T23), op.shuffle32(2, 3, 6, 7), op.v128Store(16));
      e(op.get(PO), op.i32(32), op.add, op.set(PO));
      e(op.get(P), op.i32(16), op.add, op.tee(P), op.get(RS), op.ltU, op.brIf(0));
    }
    e(op.end, op.end);
    e(op.get(PX), op.get(R2), op.get(R2), op.add, op.add, op.set(PX));
    e(op.get(T), op.i32(1), op.sub, op.tee(T), op.brIf(0));
  }
  e(op.end, op.end);
  return { name: 'packRows32', params: 5, locals: { i32: 7, v128: 7 }, body: c };
}

function colMaxMin32(): FunctionSpec {
  const P = 0, ROWS = 1, EP = 2, HI = 3, LO = 4;
  const R = 5, C = 6, PP = 7, END = 8, V = 9;
  const { c, e } = code();
  e(op.get(EP), op.i32(2), op.shl, op.set(END), op.get(P), op.set(PP), op.get(ROWS), op.set(R));
  e(op.block, op.loop);
  {
    e(op.i32(0), op.set(C));
    e(op.block, op.loop);
    {
      e(at(PP, C), op.v128Load(0), op.set(V));
      e(at(HI, C), at(HI, C), op.v128Load(0), op.get(V), op.f32x4Max, op.v128Store(0));
      e(at(LO, C), at(LO, C), op.v128Load(0), op.get(V), op.f32x4Min, op.v128Store(0));
      e(op.get(C), op.i32(16), op.add, op.tee(C), op.get(END), op.ltU, op.brIf(0));
    }
    e(op.end, op.end);
    e(op.get(PP), op.get(END), op.add, op.set(PP));
    e(op.get(R), op.i32(1), op.sub, op.tee(R), op.brIf(0));
  }
  e(op.end, op.end);
  return { name: 'colMaxMin32', params: 5, locals: { i32: 4, v128: 1 }, body: c };
}

function expSums32(): FunctionSpec {
  const P = 0, ROWS = 1, EP = 2, OFF = 3, CN = 4, SP = 5, SN = 6;
  const R = 7, J = 8, PP = 9, Q = 10;
  const X = 11, K = 12, RR = 13, E = 14;
  const EXP = 15;
  const { c, e } = code();
  emitExpConstants(e, EXP);
  e(op.get(P), op.set(PP), op.get(ROWS), op.set(R));
  e(op.block, op.loop);
  {
    e(op.i32(0), op.set(J));
    e(op.block, op.loop);
    {
      e(op.get(J), op.i32(3), op.shl, op.set(Q));
      // exp(f64(p) + off)
      e(op.get(PP), op.v128Load64Zero(0), op.f64x2PromoteLowF32x4, at(OFF, Q), op.v128Load(0), op.f64x2Add);
      emitExpF64x2(e, { x: X, k: K, r: RR }, EXP);
      e(op.set(E));
      e(at(SP, Q), at(SP, Q), op.v128Load(0), op.get(E), op.f64x2Add, op.v128Store(0));
      e(at(SN, Q), at(SN, Q), op.v128Load(0), at(CN, Q), op.v128Load(0), op.get(E), op.f64x2Div, op.f64x2Add, op.v128Store(0));
      e(op.get(PP), op.i32(8), op.add, op.set(PP));
      e(op.get(J), op.i32(2), op.add, op.tee(J), op.get(EP), op.ltU, op.brIf(0));
    }
    e(op.end, op.end);
    e(op.get(R), op.i32(1), op.sub, op.tee(R), op.brIf(0));
  }
  e(op.end, op.end);
  return { name: 'expSums32', params: 7, locals: { i32: 4, v128: EXP + EXP_CONSTANT_LOCALS - X }, body: c };
}
