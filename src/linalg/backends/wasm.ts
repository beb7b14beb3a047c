import { Arena, align16, kernelInstance, type KernelExports } from '../wasm/instance.js';
import { OutBuffer } from './out-buffer.js';
import type { KernelBackend, Projector } from './types.js';
import { wasmMomentsBlock, wasmPassProjector, wasmScaledUnitRows } from './wasm-passes.js';

export { wasmUnavailableReason } from '../wasm/instance.js';

/** Rows per gram64 call: about 1 MiB of packed rows, which stays in L2 while every tile pair passes (measured best). */
const GRAM_CHUNK_BYTES = 1 << 20;
/** Rows per projection call (a multiple of 4). */
const PROJ_CHUNK_ROWS = 256;

/** How the wasm backend projects rows: float32 (default, centred rows) or float64 products. */
export type WasmProjection = 'float32' | 'float64';

/**
 * The portable backend: our own 128-bit SIMD WebAssembly kernels (src/linalg/wasm), built from
 * source when loaded. Co-moments in float64 (f64x2, exact to float64 rounding, so spectra keep
 * eigenvalues down to 1e-16 of the largest); projections in float32 (f32x4) on rows centred on
 * their mean, about twice as fast, which keeps I(W) and the cosines within about 1e-7 relative,
 * or in float64 on request. Single-threaded: one instance per worker thread. The passes' block
 * loops (statistics, packing, log-sum-exp, unit rows) run in wasm too (wasm-passes.ts).
 *
 * @throws Error when WebAssembly SIMD is unavailable
 */
export function loadWasmBackend(opts: { projection?: WasmProjection } = {}): KernelBackend {
  const k = kernelInstance();
  if (typeof k === 'string') throw new Error(k);
  const arena = new Arena(k.memory);
  const projection = opts.projection ?? 'float32';
  return {
    name: 'wasm',
    detail: `own WebAssembly SIMD kernels: float64 co-moments, ${projection === 'float32' ? 'float32 projections (float64 for small inputs)' : 'float64 projections'}`,
    precision: projection === 'float32' ? 'float32' : 'float64',
    chunkRows: Infinity,
    threaded: false,
    gramUpper: (xc, rows, dims, out) => gramUpper(k, arena, xc, rows, dims, out),
    projector: (dir, dims, cols, bias, center) => wasmProjector(k, arena, projection, dir, dims, cols, bias, center),
    projector64: (dir, dims, cols, bias) => wasmProjector(k, arena, 'float64', dir, dims, cols, bias, null),
    momentsBlock: (x, rows, dims, st) => wasmMomentsBlock(k, arena, x, rows, dims, st),
    scaledUnitRows: (x, rows, dims, scale, unit) => wasmScaledUnitRows(k, arena, x, rows, dims, scale, unit),
    ...(projection === 'float32'
      ? { passProjector: (dir: Float64Array, dims: number, cols: number, bias: Float64Array | null, center: Float64Array | null) => wasmPassProjector(k, arena, dir, dims, cols, bias, center) }
      : {}),
    dispose() {},
  };
}

const ceilTo = (n: number, m: number) => Math.ceil(n / m) * m;

function gramUpper(k: KernelExports, arena: Arena, xc: Float64Array, rows: number, dims: number, out: Float64Array): void {
  if (rows === 0) return;
  const dp = ceilTo(dims, 4);
  const chunk = Math.max(4, Math.min(rows, Math.floor(GRAM_CHUNK_BYTES / (dp * 8))));
  const xOff = align16(arena.top);
  const gOff = xOff + chunk * dp * 8;
  const mem = new Float64Array(arena.ensure(gOff + dp * dp * 8));
  const x0 = xOff / 8, g0 = gOff / 8;
  mem.fill(0, g0, g0 + dp * dp);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const b = Math.min(chunk, rows - r0);
    // column panels of 4 (see kernels.ts); padding columns are 0 and add nothing
    for (let r = 0; r < b; r++) {
      const src = (r0 + r) * dims;
      for (let c = 0; c < dims; c++) mem[x0 + ((c >> 2) * b + r) * 4 + (c & 3)] = xc[src + c];
      for (let c = dims; c < dp; c++) mem[x0 + ((c >> 2) * b + r) * 4 + (c & 3)] = 0;
    }
    k.gram64(xOff, b, dp, gOff);
  }
  for (let i = 0; i < dims; i++) {
    const o = i * dims, q = g0 + i * dp;
    for (let j = i; j < dims; j++) out[o + j] += mem[q + j];
  }
}

function wasmProjector(
  k: KernelExports, arena: Arena, projection: WasmProjection,
  dir: Float64Array, dims: number, cols: number, bias: Float64Array | null, center: Float64Array | null,
): Projector {
  const f32 = projection === 'float32';
  const es = f32 ? 4 : 8;
  const W = 32 / es;
  const ep = ceilTo(cols, W);
  const base = arena.top;
  const pOff = align16(base);
  arena.top = pOff + dims * ep * es;
  const View = f32 ? Float32Array : Float64Array;
  {
    const panels = new View(arena.ensure(arena.top), pOff, dims * ep);
    for (let jt = 0; jt < ep / W; jt++) {
      for (let p = 0; p < dims; p++) {
        const o = (jt * dims + p) * W;
        for (let w = 0; w < W; w++) {
          const j = jt * W + w;
          panels[o + w] = j < cols ? dir[p * cols + j] : 0;
        }
      }
    }
  }
  // x D + b = (x - c) D + (c D + b): the float64 shift carries the offset exactly.
  const shift = new Float64Array(cols);
  if (bias) shift.set(bias);
  const c = center ?? new Float64Array(dims);
  for (let p = 0; p < dims; p++) {
    if (c[p] === 0) continue;
    for (let j = 0; j < cols; j++) shift[j] += c[p] * dir[p * cols + j];
  }
  const run = f32 ? k.proj32 : k.proj64;
  let live = true;
  const buffer = new OutBuffer();
  return {
    apply(x, rows) {
      if (!live) throw new Error('projector used after dispose()');
      const out = buffer.get(rows * cols);
      const xOff = align16(arena.top);
      const oOff = xOff + PROJ_CHUNK_ROWS * dims * es;
      const buf = arena.ensure(oOff + PROJ_CHUNK_ROWS * ep * es);
      const xs = new View(buf, xOff, PROJ_CHUNK_ROWS * dims);
      const os = new View(buf, oOff, PROJ_CHUNK_ROWS * ep);
      for (let r0 = 0; r0 < rows; r0 += PROJ_CHUNK_ROWS) {
        const b = Math.min(PROJ_CHUNK_ROWS, rows - r0);
        const b4 = ceilTo(b, 4);
        // rows in tiles of 4, interleaved: the kernel reads the 4 values of one p together
        for (let r = 0; r < b; r++) {
          const src = (r0 + r) * dims;
          const t = (r >> 2) * dims * 4 + (r & 3);
          for (let p = 0; p < dims; p++) xs[t + p * 4] = x[src + p] - c[p];
        }
        for (let r = b; r < b4; r++) {
          const t = (r >> 2) * dims * 4 + (r & 3);
          for (let p = 0; p < dims; p++) xs[t + p * 4] = 0;
        }
        run(xOff, b4, dims, pOff, ep, oOff);
        for (let r = 0; r < b; r++) {
          const o = (r0 + r) * cols, q = r * ep;
          for (let j = 0; j < cols; j++) out[o + j] = os[q + j] + shift[j];
        }
      }
      return out;
    },
    dispose() {
      if (live && arena.top === pOff + dims * ep * es) arena.top = base;
      live = false;
    },
  };
}
