/**
 * A minimal WebAssembly binary writer: just what the kernels in kernels.ts need (i32 locals and
 * arithmetic, structured loops, 128-bit SIMD loads, stores and float arithmetic). Kernels are
 * written as TypeScript that emits their instructions, so the module is built from source when
 * it is loaded: there is no binary blob in the package.
 *
 * Instruction encodings follow the WebAssembly core spec 2.0 (binary format, chapter 5) and the
 * fixed-width SIMD proposal merged into it.
 */

export type Bytes = number[];

/** A function body under construction and its appender (kernels emit their instructions in order). */
export function code(): { c: Bytes; e: (...xs: Bytes[]) => void } {
  const c: Bytes = [];
  return { c, e: (...xs) => { for (const x of xs) c.push(...x); } };
}

/** unsigned LEB128 */
export function uleb(n: number): Bytes {
  const out: Bytes = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** signed LEB128 (32-bit values) */
export function sleb(n: number): Bytes {
  const out: Bytes = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function vec(items: Bytes[]): Bytes {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: Bytes): Bytes {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): Bytes {
  return vec([...new TextEncoder().encode(s)].map((b) => [b]));
}

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

const simd = (code: number, ...imm: number[]): Bytes => [0xfd, ...uleb(code), ...imm];
/** memarg: alignment hint (log2 bytes) and constant offset */
const memarg = (align: number, offset: number): Bytes => [...uleb(align), ...uleb(offset)];

/** The instructions the kernels use; each returns its encoding. */
export const op = {
  get: (i: number): Bytes => [0x20, ...uleb(i)],
  set: (i: number): Bytes => [0x21, ...uleb(i)],
  tee: (i: number): Bytes => [0x22, ...uleb(i)],
  i32: (v: number): Bytes => [0x41, ...sleb(v)],
  add: [0x6a] as Bytes,
  sub: [0x6b] as Bytes,
  mul: [0x6c] as Bytes,
  shl: [0x74] as Bytes,
  shrU: [0x76] as Bytes,
  ltU: [0x49] as Bytes,
  /** block and loop with no result */
  block: [0x02, 0x40] as Bytes,
  loop: [0x03, 0x40] as Bytes,
  end: [0x0b] as Bytes,
  brIf: (depth: number): Bytes => [0x0d, ...uleb(depth)],
  /** v128.load / v128.store at address + offset (alignment hint 4 bytes: data is 4- or 8-aligned) */
  v128Load: (offset = 0): Bytes => simd(0x00, ...memarg(2, offset)),
  v128Store: (offset = 0): Bytes => simd(0x0b, ...memarg(2, offset)),
  v128Zero: simd(0x0c, ...new Array<number>(16).fill(0)),
  /** v128.load32_splat, v128.load64_splat */
  splat32: (offset = 0): Bytes => simd(0x09, ...memarg(2, offset)),
  splat64: (offset = 0): Bytes => simd(0x0a, ...memarg(3, offset)),
  /** v128.const holding two float64 lanes (or any 16 bytes) */
  f64x2Const: (a: number, b = a): Bytes => simd(0x0c, ...new Uint8Array(Float64Array.of(a, b).buffer)),
  i64x2Const: (a: number): Bytes => simd(0x0c, ...new Uint8Array(BigInt64Array.of(BigInt(a), BigInt(a)).buffer)),
  f64x2Sub: simd(0xf1),
  f64x2Div: simd(0xf3),
  f64x2Min: simd(0xf4),
  f64x2Max: simd(0xf5),
  f64x2Nearest: simd(0x94),
  /** i32x4.trunc_sat_f64x2_s_zero: lanes 0, 1 from the two float64, lanes 2, 3 zero */
  i32x4TruncSatF64x2Zero: simd(0xfc),
  i64x2ExtendLowI32x4: simd(0xc7),
  i64x2Shl: simd(0xcb),
  i64x2Add: simd(0xce),
  f32x4Add: simd(0xe4),
  f32x4Mul: simd(0xe6),
  f64x2Add: simd(0xf0),
  f64x2Mul: simd(0xf2),
  /** f64x2.splat of the f64 on the stack */
  f64x2Splat: simd(0x14),
  f64x2ExtractLane: (lane: number): Bytes => simd(0x21, lane),
  /** v128.load64_zero: 8 bytes into the low half, the high half zero */
  v128Load64Zero: (offset = 0): Bytes => simd(0x5d, ...memarg(2, offset)),
  /** f32x4.demote_f64x2_zero: the two float64 lanes rounded to float32 lanes 0, 1; lanes 2, 3 zero */
  f32x4DemoteF64x2Zero: simd(0x5e),
  /** f64x2.promote_low_f32x4: float32 lanes 0, 1 widened to float64 */
  f64x2PromoteLowF32x4: simd(0x5f),
  f32x4Min: simd(0xe8),
  f32x4Max: simd(0xe9),
  /** i8x16.shuffle picking 32-bit lanes: 0-3 from the first operand, 4-7 from the second */
  shuffle32: (...lanes: number[]): Bytes => simd(0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])),
  f64Load: (offset = 0): Bytes => [0x2b, ...memarg(2, offset)],
  f64Store: (offset = 0): Bytes => [0x39, ...memarg(2, offset)],
  f64Const: (v: number): Bytes => [0x44, ...new Uint8Array(Float64Array.of(v).buffer)],
  f64Add: [0xa0] as Bytes,
  f64Div: [0xa3] as Bytes,
  f64Sqrt: [0x9f] as Bytes,
  f64Gt: [0x64] as Bytes,
  /** select: the first operand if the i32 on top is non-zero, else the second */
  select: [0x1b] as Bytes,
};

/** One exported function: all parameters are i32, no result; locals after the parameters. */
export interface FunctionSpec {
  name: string;
  params: number;
  /** local indices: the parameters, then the i32 locals, then the v128 ones, then the f64 ones */
  locals: { i32: number; v128: number; f64?: number };
  body: Bytes;
}

/** A module with one exported memory ("memory", `pages` of 64 KiB initially) and the functions. */
export function wasmModule(functions: FunctionSpec[], pages = 1): Uint8Array {
  const types = functions.map((f) => [0x60, ...vec(new Array<Bytes>(f.params).fill([I32])), ...vec([])]);
  const bodies = functions.map((f) => {
    const locals = vec([[...uleb(f.locals.i32), I32], [...uleb(f.locals.v128), V128], [...uleb(f.locals.f64 ?? 0), F64]]);
    const body = [...locals, ...f.body, ...op.end];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...section(7, vec([
      ...functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]),
      [...name('memory'), 0x02, 0x00],
    ])),
    ...section(10, vec(bodies)),
  ]);
}
