import { expNonPositive } from './fast-exp.js';
import { Arena, align16, kernelInstance, type KernelExports } from './wasm/instance.js';

/** Rows per kernel call: the block copied into wasm memory stays within about 2 MiB. */
const CHUNK_BYTES = 2 << 20;
/** exp(-700) = 1e-304 is still a normal float64; beyond, the division trick would underflow. */
const MAX_SPREAD = 700;

let shared: { k: KernelExports; arena: Arena } | null | undefined;

/** This thread's kernel instance for the sums, or null without WebAssembly SIMD. */
function kernels(): { k: KernelExports; arena: Arena } | null {
  if (shared === undefined) {
    const k = kernelInstance();
    shared = typeof k === 'string' ? null : { k, arena: new Arena(k.memory) };
  }
  return shared;
}

/**
 * Streaming log-sum-exp of the columns of a block, both signs at once (the partition sums of
 * I(W)): for j < k, with `p[r][j] = proj[r * stride + offset + j]`, moves `maxPos[j]` up to the
 * largest p and `maxNeg[j]` up to the largest -p (rescaling the sums), then adds
 * `sum_r exp(p - maxPos[j])` to `sumPos[j]` and `sum_r exp(-p - maxNeg[j])` to `sumNeg[j]`.
 * Start with maxima -Infinity and sums 0.
 *
 * With WebAssembly SIMD: one f64x2 exp and one division per value (the negative side is
 * `exp(-maxPos - maxNeg) / exp(p - maxPos)`), about 3x the plain loop; columns spread over more
 * than 700 (where that quotient would underflow) take the plain loop. Relative error about 1e-15
 * per term either way.
 */
export function addLogSumExp(
  proj: Float64Array, rows: number, stride: number, offset: number, k: number,
  maxPos: Float64Array, maxNeg: Float64Array, sumPos: Float64Array, sumNeg: Float64Array,
): void {
  if (rows === 0 || k === 0) return;
  const w = kernels();
  if (!w) {
    addLogSumExpPlain(proj, rows, stride, offset, k, maxPos, maxNeg, sumPos, sumNeg);
    return;
  }
  const kp = k + (k & 1);
  const chunk = Math.max(1, Math.floor(CHUNK_BYTES / (kp * 8)));
  // layout: p (chunk x kp) | hi | lo | m | c | sp | sn  (kp each)
  const pOff = align16(w.arena.top);
  const vOff = pOff + chunk * kp * 8;
  const buf = w.arena.ensure(vOff + 6 * kp * 8);
  const mem = new Float64Array(buf);
  const p0 = pOff / 8, v0 = vOff / 8;
  const hi = v0, lo = v0 + kp, m = v0 + 2 * kp, c = v0 + 3 * kp, sp = v0 + 4 * kp, sn = v0 + 5 * kp;
  const plain: number[] = [];
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const b = Math.min(chunk, rows - r0);
    for (let r = 0; r < b; r++) {
      const src = (r0 + r) * stride + offset;
      mem.set(proj.subarray(src, src + k), p0 + r * kp);
      if (kp > k) mem[p0 + r * kp + k] = 0;
    }
    mem.fill(-Infinity, hi, hi + kp);
    mem.fill(Infinity, lo, lo + kp);
    w.k.colMaxMin(pOff, b, kp, hi * 8, lo * 8);
    plain.length = 0;
    for (let j = 0; j < k; j++) {
      // Rescale the running sums once per block when a maximum moves, not once per row.
      const mp = Math.max(maxPos[j], mem[hi + j]);
      const mn = Math.max(maxNeg[j], -mem[lo + j]);
      sumPos[j] *= Math.exp(maxPos[j] - mp);
      sumNeg[j] *= Math.exp(maxNeg[j] - mn);
      maxPos[j] = mp;
      maxNeg[j] = mn;
      mem[m + j] = mp;
      if (mp + mn <= MAX_SPREAD) mem[c + j] = Math.exp(-mp - mn);
      else { mem[c + j] = 0; plain.push(j); }
    }
    if (kp > k) { mem[m + k] = 0; mem[c + k] = 0; }
    mem.fill(0, sp, sn + kp);
    w.k.expSums(pOff, b, kp, m * 8, c * 8, sp * 8, sn * 8);
    for (let j = 0; j < k; j++) {
      sumPos[j] += mem[sp + j];
      sumNeg[j] += mem[sn + j];
    }
    for (const j of plain) {
      let s = 0;
      for (let r = 0; r < b; r++) s += expNonPositive(-mem[p0 + r * kp + j] - maxNeg[j]);
      sumNeg[j] += s;
    }
  }
}

/** {@link addLogSumExp} in plain TypeScript (two exps per value). */
export function addLogSumExpPlain(
  proj: Float64Array, rows: number, stride: number, offset: number, k: number,
  maxPos: Float64Array, maxNeg: Float64Array, sumPos: Float64Array, sumNeg: Float64Array,
): void {
  const hi = new Float64Array(k).fill(-Infinity);
  const lo = new Float64Array(k).fill(Infinity);
  // Row by row: the projections are row-major, columns would stride through memory.
  for (let r = 0; r < rows; r++) {
    const o = r * stride + offset;
    for (let j = 0; j < k; j++) {
      const p = proj[o + j];
      if (p > hi[j]) hi[j] = p;
      if (p < lo[j]) lo[j] = p;
    }
  }
  for (let j = 0; j < k; j++) {
    const mp = Math.max(maxPos[j], hi[j]);
    const mn = Math.max(maxNeg[j], -lo[j]);
    sumPos[j] *= Math.exp(maxPos[j] - mp);
    sumNeg[j] *= Math.exp(maxNeg[j] - mn);
    maxPos[j] = mp;
    maxNeg[j] = mn;
  }
  // Every exponent is <= 0 (p <= max, -p <= max of -p): the fast exp covers them.
  for (let r = 0; r < rows; r++) {
    const o = r * stride + offset;
    for (let j = 0; j < k; j++) {
      const p = proj[o + j];
      sumPos[j] += expNonPositive(p - maxPos[j]);
      sumNeg[j] += expNonPositive(-p - maxNeg[j]);
    }
  }
}
