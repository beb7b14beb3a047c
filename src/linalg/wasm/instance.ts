import { kernelModule } from './kernels.js';

/** The parts of the WebAssembly JS API used here (the ES2022 lib does not declare them). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: KernelExports };
  validate(bytes: Uint8Array): boolean;
}

/** The kernel module's exports; addresses and sizes as kernels.ts describes them. */
export interface KernelExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  gram64(x: number, k: number, dp: number, out: number): void;
  proj32(x: number, rows: number, d: number, panels: number, ep: number, out: number): void;
  proj64(x: number, rows: number, d: number, panels: number, ep: number, out: number): void;
  symv4(a: number, ld: number, pv: number, pw: number, v: number, p: number, i: number, j0: number, n: number, s: number): void;
  gemmRows(x: number, ldx: number, rows: number, d: number, panels: number, ep: number, out: number, ldo: number): void;
  gemm64(x: number, rows: number, d: number, panels: number, ep: number, out: number): void;
  colMaxMin(p: number, rows: number, kp: number, hi: number, lo: number): void;
  expSums(p: number, rows: number, kp: number, m: number, c: number, sp: number, sn: number): void;
  colStats(x: number, rows: number, dp: number, sum: number, mn: number, mx: number): void;
  rowInv(x: number, rows: number, dp: number, sc: number, inv: number): void;
  unitSums(x: number, rows: number, dp: number, sc: number, inv: number, unit: number): void;
  unitSumsSq(x: number, rows: number, dp: number, sc: number, inv: number, unit: number, sq: number): void;
  centerPack(x: number, rows: number, dp: number, mean: number, k: number, out: number): void;
  packRows32(x: number, rows: number, dp: number, center: number, out: number): void;
  colMaxMin32(p: number, rows: number, ep: number, hi: number, lo: number): void;
  expSums32(p: number, rows: number, ep: number, off: number, c: number, sp: number, sn: number): void;
}

const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
let compiled: object | string | undefined;

/** The kernel module compiled once per thread, or why it cannot be (no WebAssembly, no SIMD). */
function compiledModule(): object | string {
  if (compiled !== undefined) return compiled;
  if (!api) return (compiled = 'this JavaScript engine has no WebAssembly');
  const bytes = kernelModule();
  if (!api.validate(bytes)) return (compiled = 'this WebAssembly engine lacks 128-bit SIMD (Node >= 16.4 has it)');
  return (compiled = new api.Module(bytes));
}

/** Why the kernels cannot run here, or null. */
export function wasmUnavailableReason(): string | null {
  const m = compiledModule();
  return typeof m === 'string' ? m : null;
}

/** A fresh instance (its own memory) of the kernel module, or why there is none. */
export function kernelInstance(): KernelExports | string {
  const m = compiledModule();
  return typeof m === 'string' ? m : new api!.Instance(m, {}).exports;
}

/**
 * An instance's memory as a stack: what must outlive a call (a projector's packed matrix) sits
 * below `top`; every call lays out its scratch above `top` (calls are synchronous, so nothing
 * overlaps).
 */
export class Arena {
  top = 0;
  constructor(private readonly memory: KernelExports['memory']) {}

  /** Makes bytes [0, end) addressable; views of the buffer must be taken after this. */
  ensure(end: number): ArrayBuffer {
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / 65536));
    return this.memory.buffer;
  }
}

export const align16 = (n: number): number => (n + 15) & ~15;
