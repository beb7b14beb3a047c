import { Arena, align16, type KernelExports } from '../wasm/instance.js';
import type { MomentState, PassProjector, RowData } from './types.js';

/** Rows per gram64 call: about 1 MiB of packed rows, which stays in L2 while every tile pair passes (measured best). */
const GRAM_CHUNK_BYTES = 1 << 20;
/** exp(-700) = 1e-304 is still a normal float64; columns spread wider take the plain loop. */
const MAX_SPREAD = 700;

const ceilTo = (n: number, m: number) => Math.ceil(n / m) * m;

/**
 * Copies `rows x dims` rows into wasm memory at float64 index `at`, rows `dp` apart, padding with 0.
 * Float32 rows are widened by the copy itself (on the worker thread that computes with them).
 */
function copyRows(mem: Float64Array, at: number, x: RowData, rows: number, dims: number, dp: number): void {
  if (dp === dims) {
    mem.set(x.subarray(0, rows * dims), at);
    return;
  }
  for (let r = 0; r < rows; r++) {
    mem.set(x.subarray(r * dims, (r + 1) * dims), at + r * dp);
    mem.fill(0, at + r * dp + dims, at + (r + 1) * dp);
  }
}

/**
 * The wasm backend's first-pass block (KernelBackend.momentsBlock): the block crosses into wasm
 * memory once; column sums, min/max, row norms and unit-row sums, the centred column panels and
 * their co-moments (gram64, in chunks that stay in L2) all run there; the Chan et al. correction
 * goes into the last gram64 call as one more row, sqrt(na nb / n) (mean_b - mean_a).
 */
export function wasmMomentsBlock(k: KernelExports, arena: Arena, x: RowData, rows: number, dims: number, st: MomentState): number {
  if (rows === 0) return 0;
  const dp = ceilTo(dims, 4);
  const chunk = Math.max(4, Math.min(rows, Math.floor(GRAM_CHUNK_BYTES / (dp * 8))));
  const extra = st.count > 0 ? 1 : 0;
  // layout: x (rows x dp) | panels ((chunk + 1) x dp) | G (dp x dp) | sum mn mx unit sq ones mean delta (dp each) | inv (rows)
  const xOff = align16(arena.top);
  const pOff = xOff + rows * dp * 8;
  const gOff = pOff + (chunk + 1) * dp * 8;
  const vOff = gOff + dp * dp * 8;
  const mem = new Float64Array(arena.ensure(vOff + (8 * dp + rows) * 8));
  const x0 = xOff / 8, p0 = pOff / 8, g0 = gOff / 8, v0 = vOff / 8;
  const sum = v0, mn = v0 + dp, mx = v0 + 2 * dp, unit = v0 + 3 * dp, sq = v0 + 4 * dp, ones = v0 + 5 * dp, mean = v0 + 6 * dp;
  const delta = v0 + 7 * dp, inv = v0 + 8 * dp;
  copyRows(mem, x0, x, rows, dims, dp);
  mem.fill(0, sum, sum + dp);
  mem.fill(0, unit, unit + 2 * dp);
  mem.fill(1, ones, ones + dp);
  mem.set(st.min, mn);
  mem.set(st.max, mx);
  mem.fill(0, mn + dims, mn + dp);
  mem.fill(0, mx + dims, mx + dp);
  k.colStats(xOff, rows, dp, sum * 8, mn * 8, mx * 8);
  k.rowInv(xOff, rows, dp, ones * 8, inv * 8);
  if (st.unitSq) k.unitSumsSq(xOff, rows, dp, ones * 8, inv * 8, unit * 8, sq * 8);
  else k.unitSums(xOff, rows, dp, ones * 8, inv * 8, unit * 8);
  let zero = 0;
  for (let r = 0; r < rows; r++) if (mem[inv + r] === 0) zero++;
  for (let c = 0; c < dims; c++) {
    st.min[c] = mem[mn + c];
    st.max[c] = mem[mx + c];
    st.unitSum[c] += mem[unit + c];
    if (st.unitSq) st.unitSq[c] += mem[sq + c];
  }
  const n = st.count + rows;
  const f = Math.sqrt((st.count * rows) / n);
  mem.fill(0, mean, mean + 2 * dp);
  for (let c = 0; c < dims; c++) {
    mem[mean + c] = mem[sum + c] / rows;
    mem[delta + c] = mem[mean + c] - st.mean[c];
  }
  mem.fill(0, g0, g0 + dp * dp);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const b = Math.min(chunk, rows - r0);
    const last = r0 + b === rows;
    const kk = b + (last ? extra : 0);
    k.centerPack(xOff + r0 * dp * 8, b, dp, mean * 8, kk, pOff);
    if (last && extra) {
      for (let c = 0; c < dp; c++) mem[p0 + ((c >> 2) * kk + b) * 4 + (c & 3)] = f * mem[delta + c];
    }
    k.gram64(pOff, kk, dp, gOff);
  }
  for (let i = 0; i < dims; i++) {
    const o = i * dims, q = g0 + i * dp;
    for (let j = i; j < dims; j++) st.comoment[o + j] += mem[q + j];
  }
  for (let c = 0; c < dims; c++) st.mean[c] = st.count > 0 ? st.mean[c] + (mem[delta + c] * rows) / n : mem[mean + c];
  return zero;
}

/** The wasm backend's scaledUnitRows: `(x * scale) / |x * scale|` summed in wasm; returns the rows added. */
export function wasmScaledUnitRows(k: KernelExports, arena: Arena, x: RowData, rows: number, dims: number, scale: Float64Array, unit: Float64Array): number {
  if (rows === 0) return 0;
  const dp = ceilTo(dims, 2);
  const xOff = align16(arena.top);
  const vOff = xOff + rows * dp * 8;
  const mem = new Float64Array(arena.ensure(vOff + (2 * dp + rows) * 8));
  const x0 = xOff / 8, sc = vOff / 8, u = sc + dp, inv = u + dp;
  copyRows(mem, x0, x, rows, dims, dp);
  mem.fill(0, sc, u + dp);
  mem.set(scale, sc);
  k.rowInv(xOff, rows, dp, sc * 8, inv * 8);
  k.unitSums(xOff, rows, dp, sc * 8, inv * 8, u * 8);
  let zero = 0;
  for (let r = 0; r < rows; r++) if (mem[inv + r] === 0) zero++;
  for (let c = 0; c < dims; c++) unit[c] += mem[u + c];
  return rows - zero;
}

/**
 * The wasm backend's float32 {@link PassProjector}: `(x - c) D` by proj32 on rows packed in wasm
 * (packRows32), kept in wasm memory as float32 for the log-sum-exp kernels (colMaxMin32,
 * expSums32, with the float64 shift `c D + b` added per column) and the unit rows. D's panels sit
 * below the arena's top for the projector's life; each block's buffers sit above it until the next
 * block.
 */
export function wasmPassProjector(
  k: KernelExports, arena: Arena, dir: Float64Array, dims: number, cols: number, bias: Float64Array | null, center: Float64Array | null,
): PassProjector {
  const W = 8;
  const dp = ceilTo(dims, 2);
  const ep = ceilTo(cols, W);
  const base = arena.top;
  const panOff = align16(base);
  const cenOff = panOff + dp * ep * 4;
  const own = cenOff + dp * 8;
  arena.top = own;
  {
    const buf = arena.ensure(own);
    const panels = new Float32Array(buf, panOff, dp * ep);
    for (let jt = 0; jt < ep / W; jt++) {
      for (let p = 0; p < dp; p++) {
        const o = (jt * dp + p) * W;
        for (let w = 0; w < W; w++) {
          const j = jt * W + w;
          panels[o + w] = j < cols && p < dims ? dir[p * cols + j] : 0;
        }
      }
    }
    const cen = new Float64Array(buf, cenOff, dp);
    cen.fill(0);
    if (center) cen.set(center);
  }
  // x D + b = (x - c) D + (c D + b): the float64 shift carries the offset exactly.
  const shift = new Float64Array(cols);
  if (bias) shift.set(bias);
  if (center) {
    for (let p = 0; p < dims; p++) {
      if (center[p] === 0) continue;
      for (let j = 0; j < cols; j++) shift[j] += center[p] * dir[p * cols + j];
    }
  }
  let rows = 0, outOff = 0, vOff = 0;
  let live = true;
  const out32 = () => new Float32Array(arena.ensure(arena.top), outOff, rows * ep);
  return {
    project(x, n) {
      if (!live) throw new Error('projector used after dispose()');
      const n4 = ceilTo(Math.max(n, 1), 4);
      // layout: x (n4 x dp f64) | packed (n4 x dp f32) | out (n4 x ep f32) | hi lo (ep f32) | off c sp sn (ep f64)
      const xOff = align16(own);
      const xsOff = xOff + n4 * dp * 8;
      outOff = align16(xsOff + n4 * dp * 4);
      vOff = align16(outOff + n4 * ep * 4);
      const end = vOff + ep * 8 + 4 * ep * 8;
      const mem = new Float64Array(arena.ensure(end));
      copyRows(mem, xOff / 8, x, n, dims, dp);
      mem.fill(0, xOff / 8 + n * dp, xOff / 8 + n4 * dp);
      k.packRows32(xOff, n4, dp, cenOff, xsOff);
      k.proj32(xsOff, n4, dp, panOff, ep, outOff);
      rows = n;
      arena.top = end;
    },
    logSumExp(maxPos, maxNeg, sumPos, sumNeg) {
      if (rows === 0) return;
      const buf = arena.ensure(arena.top);
      const hi = new Float32Array(buf, vOff, ep).fill(-Infinity);
      const lo = new Float32Array(buf, vOff + ep * 4, ep).fill(Infinity);
      k.colMaxMin32(outOff, rows, ep, vOff, vOff + ep * 4);
      const v = new Float64Array(buf, vOff + ep * 8, 4 * ep);
      const off = 0, c = ep, sp = 2 * ep, sn = 3 * ep;
      v.fill(0);
      const plain: number[] = [];
      for (let j = 0; j < cols; j++) {
        // Rescale the running sums once per block when a maximum moves, not once per row.
        const mp = Math.max(maxPos[j], hi[j] + shift[j]);
        const mn = Math.max(maxNeg[j], -(lo[j] + shift[j]));
        if (sumPos[j] !== 0) sumPos[j] *= Math.exp(maxPos[j] - mp);
        if (sumNeg[j] !== 0) sumNeg[j] *= Math.exp(maxNeg[j] - mn);
        maxPos[j] = mp;
        maxNeg[j] = mn;
        v[off + j] = shift[j] - mp;
        if (mp + mn <= MAX_SPREAD) v[c + j] = Math.exp(-mp - mn);
        else plain.push(j);
      }
      k.expSums32(outOff, rows, ep, vOff + ep * 8, vOff + ep * 8 + c * 8, vOff + ep * 8 + sp * 8, vOff + ep * 8 + sn * 8);
      for (let j = 0; j < cols; j++) {
        sumPos[j] += v[sp + j];
        sumNeg[j] += v[sn + j];
      }
      if (plain.length) {
        const p = out32();
        for (const j of plain) {
          let s = 0;
          for (let r = 0; r < rows; r++) s += Math.exp(-(p[r * ep + j] + shift[j]) - maxNeg[j]);
          sumNeg[j] += s;
        }
      }
    },
    unitRows(offset, e, unit, skip) {
      const p = out32();
      let added = 0;
      for (let r = 0; r < rows; r++) {
        if (skip?.[r]) continue;
        const o = r * ep + offset;
        let ss = 0;
        for (let j = 0; j < e; j++) {
          const t = p[o + j] + shift[offset + j];
          ss += t * t;
        }
        if (ss === 0) continue;
        added++;
        const inv = 1 / Math.sqrt(ss);
        for (let j = 0; j < e; j++) unit[j] += (p[o + j] + shift[offset + j]) * inv;
      }
      return added;
    },
    dispose() {
      if (live && arena.top >= own) arena.top = base;
      live = false;
    },
  };
}
