// Test-only .npy builder, written independently of src/io so the reader is checked against
// bytes laid out by hand, not against its own writer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BuildOptions {
  /** Header descr, e.g. '<f4'; also decides how values are encoded (unless `data` is given). */
  descr: string;
  shape: number[];
  /** Logical values in C order (row-major over `shape`); laid out in F order when fortranOrder. */
  values?: ArrayLike<number | bigint>;
  /** Raw data bytes used verbatim instead of encoding `values`. */
  data?: Uint8Array;
  fortranOrder?: boolean;
  version?: 1 | 2 | 3;
  /** Replaces the whole header dict text (padding is still added). */
  header?: string;
}

/** Encodes an exactly representable number as float16 bits; throws otherwise (tests must use exact values). */
export function toHalfBits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | 0x7c00;
  if (a === 0) return sign;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  if (2 ** (e + 1) <= a) e += 1;
  if (e < -14) {
    const m = a / 2 ** -24;
    if (!Number.isInteger(m)) throw new Error(`${x} is not exact in float16`);
    return sign | m;
  }
  if (e > 15) throw new Error(`${x} overflows float16`);
  const m = (a / 2 ** e - 1) * 1024;
  if (!Number.isInteger(m)) throw new Error(`${x} is not exact in float16`);
  return sign | ((e + 15) << 10) | m;
}

function encode(descr: string, values: ArrayLike<number | bigint>): Uint8Array {
  const m = /^([<>=|]?)([fiu])(\d+)$/.exec(descr);
  if (!m) throw new Error(`helpers: cannot encode values for descr ${descr}; pass data`);
  const le = m[1] !== '>';
  const kind = m[2];
  const size = Number(m[3]);
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    const p = k * size;
    const num = Number(v);
    switch (`${kind}${size}`) {
      case 'f2': dv.setUint16(p, toHalfBits(num), le); break;
      case 'f4': dv.setFloat32(p, num, le); break;
      case 'f8': dv.setFloat64(p, num, le); break;
      case 'i1': dv.setInt8(p, num); break;
      case 'u1': dv.setUint8(p, num); break;
      case 'i2': dv.setInt16(p, num, le); break;
      case 'u2': dv.setUint16(p, num, le); break;
      case 'i4': dv.setInt32(p, num, le); break;
      case 'u4': dv.setUint32(p, num, le); break;
      case 'i8': dv.setBigInt64(p, BigInt(v), le); break;
      case 'u8': dv.setBigUint64(p, BigInt(v), le); break;
      default: throw new Error(`helpers: unsupported ${descr}`);
    }
  }
  return out;
}

/** Reorders C-order values into Fortran order for the given shape. */
export function toFortran<T>(values: ArrayLike<T>, shape: number[]): T[] {
  const total = shape.reduce((a, b) => a * b, 1);
  const out = new Array<T>(total);
  const idx = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < total; c++) {
    // idx is the multi-index of C-order position c.
    let f = 0;
    let mul = 1;
    for (let ax = 0; ax < shape.length; ax++) {
      f += idx[ax] * mul;
      mul *= shape[ax];
    }
    out[f] = values[c];
    for (let ax = shape.length - 1; ax >= 0; ax--) {
      if (++idx[ax] < shape[ax]) break;
      idx[ax] = 0;
    }
  }
  return out;
}

export function shapeText(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** Full .npy bytes for the given description. */
export function buildNpy(opts: BuildOptions): Uint8Array {
  const version = opts.version ?? 1;
  const fortran = opts.fortranOrder ?? false;
  const dict =
    opts.header ?? `{'descr': '${opts.descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeText(opts.shape)}, }`;
  const headerText = new TextEncoder().encode(dict);
  const lenBytes = version === 1 ? 2 : 4;
  const unpadded = 6 + 2 + lenBytes + headerText.length + 1;
  const total = Math.ceil(unpadded / 64) * 64;
  const headerLen = total - 6 - 2 - lenBytes;
  let data = opts.data;
  if (data === undefined) {
    const vals = opts.values ?? [];
    data = encode(opts.descr, fortran ? toFortran(vals, opts.shape) : vals);
  }
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0], 0);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, headerLen, true);
  else dv.setUint32(8, headerLen, true);
  out.set(headerText, 6 + 2 + lenBytes);
  out.fill(0x20, 6 + 2 + lenBytes + headerText.length, total - 1);
  out[total - 1] = 0x0a;
  out.set(data, total);
  return out;
}

/** A fresh temp folder; remove it with `cleanup()`. */
export function makeTempDir(): { dir: string; file: (name: string, bytes?: Uint8Array) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'isotropy-io-'));
  return {
    dir,
    file(name: string, bytes?: Uint8Array): string {
      const p = join(dir, name);
      if (bytes !== undefined) writeFileSync(p, bytes);
      return p;
    },
    cleanup(): void {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Values 0, 1, 2, ... scaled to stay exact in every float dtype: (k * 0.5 - 3). */
export function ramp(count: number, scale = 0.5, offset = -3): Float64Array {
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) out[k] = k * scale + offset;
  return out;
}

/** Collects every block of a source into one row-major array, checking block bookkeeping. */
export async function collect(
  source: { dims: number; blocks(opts?: { blockRows?: number; start?: number; end?: number }): AsyncIterable<{ start: number; rows: number; data: Float64Array }> },
  opts?: { blockRows?: number; start?: number; end?: number },
): Promise<Float64Array> {
  const parts: Float64Array[] = [];
  let expectStart = opts?.start ?? 0;
  for await (const b of source.blocks(opts)) {
    if (b.start !== expectStart) throw new Error(`block starts at ${b.start}, expected ${expectStart}`);
    if (b.data.length !== b.rows * source.dims) throw new Error('block data length mismatch');
    expectStart += b.rows;
    parts.push(b.data);
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float64Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Asserts a promise rejects with an Error whose message includes every given fragment; returns the error. */
export async function rejects(promise: Promise<unknown> | (() => Promise<unknown>), ...fragments: string[]): Promise<Error> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    if (!(err instanceof Error)) throw new Error(`rejected with a non-Error: ${String(err)}`);
    for (const f of fragments) {
      if (!err.message.includes(f)) throw new Error(`error message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
    }
    return err;
  }
  throw new Error(`expected a rejection mentioning ${fragments.join(', ')}`);
}

/** Same-value comparison that treats NaN as equal and tells -0 from 0. */
export function sameValues(actual: ArrayLike<number>, expected: ArrayLike<number>): boolean {
  if (actual.length !== expected.length) return false;
  for (let i = 0; i < actual.length; i++) if (!Object.is(actual[i], expected[i])) return false;
  return true;
}

export function describeMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>): string {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) return `index ${i}: ${actual[i]} vs ${expected[i]}`;
  }
  return 'equal';
}
