import { endianness } from 'node:os';
import { npyFail } from './errors.js';

/** Numeric element kinds this reader accepts. */
export type DtypeKind = 'f' | 'i' | 'u';

/** A validated numeric dtype from a .npy header `descr`. */
export interface Dtype {
  /** The descr exactly as it appears in the header, e.g. `'<f4'`. */
  readonly descr: string;
  readonly kind: DtypeKind;
  /** Bytes per element: 2, 4 or 8 for floats; 1, 2, 4 or 8 for integers. */
  readonly itemsize: number;
  /** Byte order of the data on disk (`'='` and `'|'` mean the host order, which is little-endian on every platform Node ships for). */
  readonly littleEndian: boolean;
  /**
   * True when the on-disk order equals the host order, so typed-array views over the raw
   * bytes read the right numbers (the fast path for `<f4` / `<f8`).
   */
  readonly native: boolean;
  /** A human note for `EmbeddingSource.notes`, or null when decoding is exact and unremarkable. */
  readonly note: string | null;
  /** bfloat16 (safetensors `BF16`): 2 bytes, the top half of a float32. numpy has no descr for it. */
  readonly bfloat16?: boolean;
}

/** bfloat16, little-endian, as safetensors stores it (descr `bf16`, not a numpy dtype). */
export const BFLOAT16_LE: Dtype = Object.freeze({
  descr: 'bf16',
  kind: 'f',
  itemsize: 2,
  littleEndian: true,
  native: true,
  note: null,
  bfloat16: true,
});

const HOST_LITTLE_ENDIAN = endianness() === 'LE';

const FLOAT_SIZES = new Set([2, 4, 8]);
const INT_SIZES = new Set([1, 2, 4, 8]);

const ASTYPE_FIX = 'save a float array with np.save(path, arr.astype(np.float32))';

/**
 * Validates a header `descr` string and describes how to decode it.
 *
 * Accepts f2/f4/f8 and i1..i8/u1..u8 with byte order `<`, `>`, `=` or `|` (or none, meaning the
 * host order). Anything else (object, bool, complex, strings, datetime, void, long double, ...)
 * throws an NpyError naming the descr and how to re-save the file.
 *
 * @param descr - the header's `descr` value.
 * @param path - file path for the error message.
 */
export function parseDtype(descr: string, path?: string): Dtype {
  const m = /^([<>=|]?)([a-zA-Z])(\d*)(.*)$/s.exec(descr);
  const order = m?.[1] ?? '';
  const code = m?.[2] ?? '';
  const sizeText = m?.[3] ?? '';
  const rest = m?.[4] ?? '';
  const size = sizeText === '' ? NaN : Number(sizeText);
  const q = `'${descr}'`;

  if (m !== null && rest === '') {
    if (code === 'f' && FLOAT_SIZES.has(size)) return make(descr, 'f', size, order);
    if ((code === 'i' || code === 'u') && INT_SIZES.has(size)) return make(descr, code, size, order);
  }
  if (code === 'O') {
    throw npyFail(
      path,
      `dtype ${q}: object arrays need pickle; isotropy never unpickles: save with np.save(path, arr.astype(np.float32))`,
    );
  }
  if (code === 'f') {
    throw npyFail(
      path,
      `dtype ${q} (a ${Number.isFinite(size) ? size * 8 : '?'}-bit float) is not supported: only float16/32/64 are; save with np.save(path, arr.astype(np.float64))`,
    );
  }
  if (code === 'b' || code === '?') {
    throw npyFail(path, `dtype ${q} (bool) is not supported: embeddings must be numbers; ${ASTYPE_FIX}`);
  }
  if (code === 'c') {
    throw npyFail(
      path,
      `dtype ${q} (complex) is not supported: isotropy needs real vectors; save the real part with np.save(path, arr.real.astype(np.float32))`,
    );
  }
  if (code === 'S' || code === 'U' || code === 'a') {
    throw npyFail(
      path,
      `dtype ${q} (strings) is not supported: this file holds text, not vectors; save the embedding matrix with np.save(path, emb.astype(np.float32))`,
    );
  }
  if (code === 'M' || code === 'm') {
    throw npyFail(path, `dtype ${q} (datetime/timedelta) is not supported: embeddings must be numbers; ${ASTYPE_FIX}`);
  }
  if (code === 'V') {
    throw npyFail(path, `dtype ${q} (raw void bytes) is not supported: ${ASTYPE_FIX}`);
  }
  if ((code === 'i' || code === 'u') && Number.isFinite(size)) {
    throw npyFail(path, `dtype ${q} (a ${size * 8}-bit integer) is not supported: ${ASTYPE_FIX}`);
  }
  throw npyFail(path, `dtype ${q} is not supported (only float16/32/64 and integer arrays are): ${ASTYPE_FIX}`);
}

function make(descr: string, kind: DtypeKind, itemsize: number, order: string): Dtype {
  // '=' and '|' (and no prefix) are "native"; numpy only ever writes those for 1-byte types or
  // from hosts that match ours, so reading them as host order is what numpy itself would do.
  const littleEndian = order === '>' ? false : order === '<' ? true : HOST_LITTLE_ENDIAN;
  const native = itemsize === 1 || littleEndian === HOST_LITTLE_ENDIAN;
  let note: string | null = null;
  if (kind !== 'f') {
    note =
      itemsize === 8
        ? `integer dtype ${descr} converted to float64 (values beyond ±2^53 lose precision)`
        : `integer dtype ${descr} converted to float64`;
  }
  return { descr, kind, itemsize, littleEndian, native, note };
}

let halfTable: Float64Array | null = null;

/**
 * All 65536 float16 values, indexed by bit pattern. Node 20 has no Float16Array; a 512 KiB
 * table makes decoding one lookup per element and is exact by construction. Built once, shared by
 * the .npy reader and the safetensors reader.
 */
export function float16Table(): Float64Array {
  if (halfTable !== null) return halfTable;
  const t = new Float64Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    let v: number;
    if (exp === 0) v = frac * 2 ** -24; // zero and subnormals: no implicit leading 1
    else if (exp === 31) v = frac === 0 ? Infinity : NaN;
    else v = (1024 + frac) * 2 ** (exp - 25);
    t[h] = sign * v;
  }
  halfTable = t;
  return t;
}

/** Decodes one float16 bit pattern (exported for tests and for callers that need single values). */
export function halfToNumber(bits: number): number {
  return float16Table()[bits & 0xffff];
}

type NumericView = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

function nativeView(dt: Dtype, buffer: ArrayBufferLike, byteOffset: number, count: number): NumericView | null {
  switch (dt.kind) {
    case 'f':
      if (dt.itemsize === 4) return new Float32Array(buffer, byteOffset, count);
      if (dt.itemsize === 8) return new Float64Array(buffer, byteOffset, count);
      return null;
    case 'i':
      if (dt.itemsize === 1) return new Int8Array(buffer, byteOffset, count);
      if (dt.itemsize === 2) return new Int16Array(buffer, byteOffset, count);
      if (dt.itemsize === 4) return new Int32Array(buffer, byteOffset, count);
      return null;
    case 'u':
      if (dt.itemsize === 1) return new Uint8Array(buffer, byteOffset, count);
      if (dt.itemsize === 2) return new Uint16Array(buffer, byteOffset, count);
      if (dt.itemsize === 4) return new Uint32Array(buffer, byteOffset, count);
      return null;
  }
}

/**
 * Decodes `count` consecutive elements of dtype `dt` starting at byte `byteOffset` of `src`
 * into `out[outOffset + k * outStride]` as float64 (exact for every accepted dtype except
 * 64-bit integers beyond ±2^53, which round to nearest).
 *
 * Native-order f4/f8/ints at an aligned offset go through a typed-array view (`out.set` for
 * stride 1), which is what makes 100k x 768 files quick; everything else uses DataView.
 */
export function decodeInto(
  dt: Dtype,
  src: Uint8Array,
  byteOffset: number,
  count: number,
  out: Float64Array,
  outOffset: number,
  outStride = 1,
): void {
  if (count === 0) return;
  const absOffset = src.byteOffset + byteOffset;
  const size = dt.itemsize;

  if (dt.bfloat16) {
    // bfloat16 is the top half of a float32: widen the bit pattern exactly.
    const one = new Float32Array(1);
    const bits = new Uint32Array(one.buffer);
    for (let k = 0, p = byteOffset, o = outOffset; k < count; k++, p += 2, o += outStride) {
      bits[0] = ((src[p + 1] << 8) | src[p]) << 16;
      out[o] = one[0];
    }
    return;
  }
  if (dt.kind === 'f' && size === 2) {
    const table = float16Table();
    if (dt.native && absOffset % 2 === 0) {
      const bits = new Uint16Array(src.buffer, absOffset, count);
      for (let k = 0, o = outOffset; k < count; k++, o += outStride) out[o] = table[bits[k]];
    } else {
      // Assemble the 16 bits by hand: the offset may be odd and the order may be swapped.
      const hi = dt.littleEndian ? 1 : 0;
      const lo = 1 - hi;
      for (let k = 0, p = byteOffset, o = outOffset; k < count; k++, p += 2, o += outStride) {
        out[o] = table[(src[p + hi] << 8) | src[p + lo]];
      }
    }
    return;
  }

  if (dt.native && absOffset % size === 0) {
    const view = nativeView(dt, src.buffer, absOffset, count);
    if (view !== null) {
      if (outStride === 1) out.set(view, outOffset);
      else for (let k = 0, o = outOffset; k < count; k++, o += outStride) out[o] = view[k];
      return;
    }
  }

  const dv = new DataView(src.buffer, absOffset, count * size);
  const le = dt.littleEndian;
  let o = outOffset;
  switch (`${dt.kind}${size}`) {
    case 'f4':
      for (let k = 0; k < count; k++, o += outStride) out[o] = dv.getFloat32(k * 4, le);
      return;
    case 'f8':
      for (let k = 0; k < count; k++, o += outStride) out[o] = dv.getFloat64(k * 8, le);
      return;
    case 'i1':
      for (let k = 0; k < count; k++, o += outStride) out[o] = dv.getInt8(k);
      return;
    case 'u1':
      for (let k = 0; k < count; k++, o += outStride) out[o] = dv.getUint8(k);
      return;
    case 'i2':
      for (let k = 0; k < count; k++, o += outStride) out[o] = dv.getInt16(k * 2, le);
      return;
    case 'u2':
      for (let k = 0; k < count; k++, o += outStride) out[o] = dv.getUint16(k * 2, le);
      return;
    case 'i4':
      for (let k = 0; k < count; k++, o += outStride) out[o] = dv.getInt32(k * 4, le);
      return;
    case 'u4':
      for (let k = 0; k < count; k++, o += outStride) out[o] = dv.getUint32(k * 4, le);
      return;
    case 'i8':
      // Number(BigInt) rounds to nearest, so values beyond 2^53 get the closest double.
      for (let k = 0; k < count; k++, o += outStride) out[o] = Number(dv.getBigInt64(k * 8, le));
      return;
    case 'u8':
      for (let k = 0; k < count; k++, o += outStride) out[o] = Number(dv.getBigUint64(k * 8, le));
      return;
    default:
      throw new RangeError(`decodeInto: unhandled dtype ${dt.descr}`);
  }
}
