import { op, type Bytes } from './emit.js';

/** Taylor coefficients 1/k! of exp on |r| <= ln2 / 2: degree 11, truncation below 7e-15. */
const EXP_COEFFS = Array.from({ length: 12 }, (_, k) => 1 / Array.from({ length: k }, (_, i) => i + 1).reduce((a, b) => a * b, 1));
// ln 2 split so that k * LN2_HI is exact for |k| < 2^11 (fdlibm's constants)
const LN2_HI = 6.93147180369123816490e-01;
const LN2_LO = 1.90821492927058770002e-10;

/** v128 locals the exp constants take, from the base given to the two emitters below. */
export const EXP_CONSTANT_LOCALS = 17;

/**
 * Emits the constants of {@link emitExpF64x2} into the v128 locals `base .. base + 16`. They live
 * in locals because V8 rebuilds a v128.const wherever it appears, so a loop body would pay for it.
 */
export function emitExpConstants(e: (...xs: Bytes[]) => void, base: number): void {
  const { C, FLOOR, LOG2E, HI, LO, BIAS } = slots(base);
  EXP_COEFFS.forEach((v, k) => e(op.f64x2Const(v), op.set(C + k)));
  e(op.f64x2Const(-700), op.set(FLOOR), op.f64x2Const(Math.LOG2E), op.set(LOG2E));
  e(op.f64x2Const(LN2_HI), op.set(HI), op.f64x2Const(LN2_LO), op.set(LO), op.i64x2Const(1023), op.set(BIAS));
}

/**
 * Emits exp(max(t, -700)) for the f64x2 t on top of the stack and leaves the result there
 * (relative error ~1e-15; inputs above 0 are not expected: k must stay in [-1010, 0] so that
 * 2^k is a normal number built in the exponent bits). Uses the v128 locals x, k and r as scratch
 * and the constants stored by {@link emitExpConstants} at `base`.
 */
export function emitExpF64x2(e: (...xs: Bytes[]) => void, local: { x: number; k: number; r: number }, base: number): void {
  const { C, FLOOR, LOG2E, HI, LO, BIAS } = slots(base);
  const { x: X, k: K, r: RR } = local;
  // x = max(t, -700); k = round(x / ln2); r = x - k ln2
  e(op.get(FLOOR), op.f64x2Max, op.set(X));
  e(op.get(X), op.get(LOG2E), op.f64x2Mul, op.f64x2Nearest, op.set(K));
  e(op.get(X), op.get(K), op.get(HI), op.f64x2Mul, op.f64x2Sub, op.get(K), op.get(LO), op.f64x2Mul, op.f64x2Sub, op.set(RR));
  // e^r by Horner, times 2^k
  e(op.get(C + 11));
  for (let k = 10; k >= 0; k--) e(op.get(RR), op.f64x2Mul, op.get(C + k), op.f64x2Add);
  e(op.get(K), op.i32x4TruncSatF64x2Zero, op.i64x2ExtendLowI32x4, op.get(BIAS), op.i64x2Add, op.i32(52), op.i64x2Shl);
  e(op.f64x2Mul);
}

function slots(base: number): { C: number; FLOOR: number; LOG2E: number; HI: number; LO: number; BIAS: number } {
  const C = base, FLOOR = C + 12;
  return { C, FLOOR, LOG2E: FLOOR + 1, HI: FLOOR + 2, LO: FLOOR + 3, BIAS: FLOOR + 4 };
}
