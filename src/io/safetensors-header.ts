/**
 * The header of a safetensors file, validated in full before any tensor is read: an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON describing each tensor, then one data
 * buffer. Shared by the model loader (`src/extract`) and the embeddings reader, which differ only
 * in how they read bytes and which error type they raise.
 */

/** One tensor of a safetensors file, located by absolute byte offsets. */
export interface SafetensorsTensor {
  /** The tensor name exactly as stored (e.g. `bert.embeddings.word_embeddings.weight`). */
  name: string;
  /** The safetensors dtype string: `F32`, `F16`, `BF16`, `F64`, `I64`, ... */
  dtype: string;
  /** Dimensions, outermost first; `[]` is a scalar. */
  shape: number[];
  /** Absolute byte offset of the first byte in the file (header included), inclusive. */
  begin: number;
  /** Absolute byte offset one past the last byte in the file, exclusive. */
  end: number;
}

/** Bytes per element of every dtype the format defines. */
export const SAFETENSORS_DTYPE_SIZES: Readonly<Record<string, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1,
  U64: 8, U32: 4, U16: 2, U8: 1,
  BOOL: 1, F8_E4M3: 1, F8_E5M2: 1, F8_E8M0: 1,
};

/** The same cap as the reference implementation: a bigger header is a corrupt length, not a model. */
const MAX_HEADER_BYTES = 100_000_000;

/** How the caller reads bytes and reports problems. */
export interface SafetensorsHeaderIo {
  /** The file's name, for messages. */
  path: string;
  /** Total file size in bytes. */
  size: number;
  /** Exactly `length` bytes at `position` (the caller turns short reads into its own error). */
  read(position: number, length: number): Promise<Uint8Array>;
  /** Builds the caller's user error from a message that already starts with the path. */
  fail(message: string): Error;
  /** What the user should do about a corrupt file, appended to messages (e.g. `re-download the file`). */
  fix: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads and validates the header of a safetensors file; no tensor data is read.
 *
 * Checks, in this order: the file holds at least the 8-byte length; the header length is not 0,
 * not over 100 MB and does not run past the end of the file; the header is UTF-8 JSON holding an
 * object; `__metadata__` (optional) maps strings to strings; every tensor has a known dtype, a
 * shape of non-negative integers and `data_offsets` `[b, e]` with `0 <= b <= e <=` data size and
 * `e - b == prod(shape) * itemsize`; no two tensors overlap. Zero-element tensors (b == e) are
 * allowed. Gaps between tensors are tolerated (the reference writer never leaves any, but they
 * cannot cause wrong values).
 *
 * @returns the tensors sorted by their position in the file (the order the JSON lists them in
 *   carries no meaning), and the metadata (`{}` when absent).
 * @throws the caller's error (`io.fail`) naming the problem and the fix.
 */
export async function readSafetensorsHeader(io: SafetensorsHeaderIo): Promise<{ tensors: SafetensorsTensor[]; metadata: Record<string, string> }> {
  const { path, size, fix } = io;
  const fail = (message: string) => io.fail(`${path}: ${message}`);
  if (size < 8) {
    throw fail(`only ${size} bytes long, too short for a safetensors file (8-byte header length missing); ${fix}`);
  }
  const lenBuf = await io.read(0, 8);
  const headerLen = new DataView(lenBuf.buffer, lenBuf.byteOffset, 8).getBigUint64(0, true);
  if (headerLen === 0n) throw fail(`header length is 0: not a safetensors file, or a corrupt one; ${fix}`);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`header length ${headerLen} bytes is over the 100 MB limit: not a safetensors file, or a corrupt one; ${fix}`);
  }
  const n = Number(headerLen);
  if (8 + n > size) {
    throw fail(`header length ${n} bytes runs past the end of the file (${size} bytes): the file is truncated or not a safetensors file; ${fix}`);
  }
  const headerBytes = await io.read(8, n);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw fail(`header is not valid UTF-8: the file is corrupt or not a safetensors file; ${fix}`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw fail(`header is not valid JSON (${(err as Error).message}): the file is corrupt or not a safetensors file; ${fix}`);
  }
  if (!isPlainObject(header)) {
    throw fail(`header is JSON but not an object: not a safetensors file; ${fix}`);
  }

  const dataStart = 8 + n;
  const dataSize = size - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: SafetensorsTensor[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(raw)) throw fail(`__metadata__ is not an object of strings; ${fix}`);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw fail(`__metadata__.${k} is not a string; ${fix}`);
        metadata[k] = v;
      }
      continue;
    }
    tensors.push(parseEntry(fail, fix, name, raw, dataStart, dataSize));
  }

  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  // Zero-byte tensors occupy nothing, so they may sit anywhere, even inside another's range.
  let last: SafetensorsTensor | null = null;
  for (const cur of tensors) {
    if (cur.end === cur.begin) continue;
    if (last !== null && cur.begin < last.end) {
      throw fail(
        `tensors ${last.name} (data bytes ${last.begin - dataStart}-${last.end - dataStart}) and ${cur.name} (data bytes ${cur.begin - dataStart}-${cur.end - dataStart}) overlap: the header is corrupt; ${fix}`,
      );
    }
    last = cur;
  }
  return { tensors, metadata };
}

function parseEntry(fail: (m: string) => Error, fix: string, name: string, raw: unknown, dataStart: number, dataSize: number): SafetensorsTensor {
  const bad = (what: string): Error => fail(`tensor ${name}: ${what}; the header is corrupt, ${fix}`);
  if (!isPlainObject(raw)) throw bad('entry is not an object');
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string') throw bad('dtype is missing or not a string');
  const itemsize = SAFETENSORS_DTYPE_SIZES[dtype];
  if (itemsize === undefined) {
    throw fail(`tensor ${name} has unknown dtype '${dtype}' (known: ${Object.keys(SAFETENSORS_DTYPE_SIZES).join(' ')}); the file is corrupt or from a newer safetensors version`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o))) {
    throw bad(`data_offsets ${JSON.stringify(offsets)} is not a pair of integers`);
  }
  const [b, e] = offsets as [number, number];
  if (b < 0 || b > e) throw bad(`data_offsets [${b}, ${e}] are not in order`);
  if (e > dataSize) {
    throw fail(`tensor ${name} ends at data byte ${e}, past the end of the data (${dataSize} bytes): the file is truncated; ${fix}`);
  }
  let count = 1;
  for (const d of shape as number[]) count *= d;
  const expected = count * itemsize;
  if (!Number.isSafeInteger(expected) || e - b !== expected) {
    throw bad(`holds ${e - b} bytes but shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected}`);
  }
  return { name, dtype, shape: [...(shape as number[])], begin: dataStart + b, end: dataStart + e };
}
