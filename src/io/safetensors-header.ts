/**
 * The header of a safetensors file, validated in full before any tensor is read: an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON describing each tensor, then one data
 * buffer. Shared by the model loader (`src/extract`) and the embeddings reader, which differ only
 * in how they read bytes and which error type they raise.
 */
import { quote } from './errors.js';

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

/** Bytes per element of every dtype the format defines. A Map: dtype names come from files. */
export const SAFETENSORS_DTYPE_SIZES: ReadonlyMap<string, number> = new Map([
  ['F64', 8], ['F32', 4], ['F16', 2], ['BF16', 2],
  ['I64', 8], ['I32', 4], ['I16', 2], ['I8', 1],
  ['U64', 8], ['U32', 4], ['U16', 2], ['U8', 1],
  ['BOOL', 1], ['F8_E4M3', 1], ['F8_E5M2', 1], ['F8_E8M0', 1],
]);

/** The same cap as the reference implementation: a bigger header is a corrupt length, not a model. */
const MAX_HEADER_BYTES = 100_000_000;

/** How the caller reports problems. */
export interface SafetensorsErrors {
  /** The file's name, for messages. */
  path: string;
  /** Builds the caller's user error from a message that already starts with the path. */
  fail(message: string): Error;
  /** What the user should do about a corrupt file, appended to messages (e.g. `re-download the file`). */
  fix: string;
}

/** How the caller reads bytes and reports problems. */
export interface SafetensorsHeaderIo extends SafetensorsErrors {
  /** Total file size in bytes. */
  size: number;
  /** Exactly `length` bytes at `position` (the caller turns short reads into its own error). */
  read(position: number, length: number): Promise<Uint8Array>;
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
 * `e - b == prod(shape) * itemsize`; and, as the reference implementation requires, the tensors
 * tile the data region exactly: sorted by offset, each starts where the previous one ended, the
 * first at 0, and the last ends at the end of the file. So a header length that is off by a few
 * bytes (which the JSON padding can hide) or a file with missing or extra bytes is refused instead
 * of being read shifted. Zero-element tensors (b == e) are allowed where they fit that tiling.
 *
 * @returns the tensors sorted by their position in the file (the order the JSON lists them in
 *   carries no meaning), and the metadata (`{}` when absent).
 * @throws the caller's error (`io.fail`) naming the problem and the fix.
 */
export async function readSafetensorsHeader(io: SafetensorsHeaderIo): Promise<{ tensors: SafetensorsTensor[]; metadata: Record<string, string> }> {
  const { size, fix } = io;
  const fail = (message: string) => io.fail(`${io.path}: ${message}`);
  if (size < 8) {
    throw fail(`only ${size} bytes long, too short for a safetensors file (8-byte header length missing); ${fix}`);
  }
  const n = headerLength(io, await io.read(0, 8));
  if (8 + n > size) {
    throw fail(`header length ${n} bytes runs past the end of the file (${size} bytes): the file is truncated or not a safetensors file; ${fix}`);
  }
  const dataSize = size - 8 - n;
  const { tensors, metadata, dataEnd } = parseHeader(io, await io.read(8, n), dataSize);
  if (dataEnd !== dataSize) {
    const what = dataEnd < dataSize
      ? `the file has ${dataSize - dataEnd} byte(s) more than the tensors account for`
      : `the file ends ${dataEnd - dataSize} byte(s) before the last tensor does`;
    throw fail(`the header describes ${dataEnd} data bytes but the file holds ${dataSize} after the ${n}-byte header: ${what} (a wrong header length, or a truncated or corrupt file); ${fix}`);
  }
  return { tensors, metadata };
}

/**
 * The size a safetensors file must have, from its first bytes (the 8-byte length and the header).
 * Lets a download stop as soon as it has more bytes than the file can hold, when the server does
 * not say the size.
 * @param prefix - the first bytes of the file (any number).
 * @returns `{ size }`: the exact file size in bytes; or `{ need }`: how many bytes of the start it
 *   takes to tell (more than `prefix.length`; at most 8 + 100 MB).
 * @throws the caller's error when the header is corrupt (see {@link readSafetensorsHeader}).
 */
export function safetensorsSizeFromPrefix(errors: SafetensorsErrors, prefix: Uint8Array): { size: number } | { need: number } {
  if (prefix.length < 8) return { need: 8 };
  const n = headerLength(errors, prefix);
  if (prefix.length < 8 + n) return { need: 8 + n };
  return { size: 8 + n + parseHeader(errors, prefix.subarray(8, 8 + n), Number.MAX_SAFE_INTEGER).dataEnd };
}

function headerLength(errors: SafetensorsErrors, first8: Uint8Array): number {
  const { fix } = errors;
  const fail = (message: string) => errors.fail(`${errors.path}: ${message}`);
  const headerLen = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (headerLen === 0n) throw fail(`header length is 0: not a safetensors file, or a corrupt one; ${fix}`);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`header length ${headerLen} bytes is over the 100 MB limit: not a safetensors file, or a corrupt one; ${fix}`);
  }
  return Number(headerLen);
}

/**
 * Parses the JSON header and checks that the tensors tile `[0, dataEnd)` exactly.
 * @param dataSize - bytes after the header (for the "past the end" message); MAX_SAFE_INTEGER when unknown.
 */
function parseHeader(
  errors: SafetensorsErrors,
  headerBytes: Uint8Array,
  dataSize: number,
): { tensors: SafetensorsTensor[]; metadata: Record<string, string>; dataEnd: number } {
  const { fix } = errors;
  const fail = (message: string) => errors.fail(`${errors.path}: ${message}`);
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
    throw fail(`header is not valid JSON (${quote((err as Error).message)}): the file is corrupt or not a safetensors file; ${fix}`);
  }
  if (!isPlainObject(header)) {
    throw fail(`header is JSON but not an object: not a safetensors file; ${fix}`);
  }

  const dataStart = 8 + headerBytes.length;
  const metadata: Record<string, string> = {};
  const tensors: SafetensorsTensor[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(raw)) throw fail(`__metadata__ is not an object of strings; ${fix}`);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw fail(`__metadata__.${quote(k)} is not a string; ${fix}`);
        metadata[k] = v;
      }
      continue;
    }
    tensors.push(parseEntry(fail, fix, name, raw, dataStart, dataSize));
  }

  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  // The reference implementation's rule: sorted by offset, every tensor starts exactly where the
  // previous one ended. Zero-byte tensors take no room, so they may sit at any boundary.
  let cursor = dataStart;
  let last: SafetensorsTensor | null = null;
  for (const cur of tensors) {
    const at = (e: SafetensorsTensor) => `${quote(e.name)} (data bytes ${e.begin - dataStart}-${e.end - dataStart})`;
    if (cur.begin < cursor) {
      throw fail(`tensors ${at(last!)} and ${at(cur)} overlap: the header is corrupt; ${fix}`);
    }
    if (cur.begin > cursor) {
      const after = last === null ? 'the start of the data' : `tensor ${at(last)}`;
      throw fail(`tensor ${at(cur)} does not start right after ${after}: ${cur.begin - cursor} byte(s) in between belong to no tensor; the header is corrupt; ${fix}`);
    }
    cursor = cur.end;
    if (cur.end > cur.begin) last = cur;
  }
  return { tensors, metadata, dataEnd: cursor - dataStart };
}

function parseEntry(fail: (m: string) => Error, fix: string, name: string, raw: unknown, dataStart: number, dataSize: number): SafetensorsTensor {
  const bad = (what: string): Error => fail(`tensor ${quote(name)}: ${what}; the header is corrupt, ${fix}`);
  if (!isPlainObject(raw)) throw bad('entry is not an object');
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string') throw bad('dtype is missing or not a string');
  const itemsize = SAFETENSORS_DTYPE_SIZES.get(dtype);
  if (itemsize === undefined) {
    throw fail(`tensor ${quote(name)} has unknown dtype ${quote(dtype)} (known: ${[...SAFETENSORS_DTYPE_SIZES.keys()].join(' ')}); the file is corrupt or from a newer safetensors version`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`shape ${quote(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o))) {
    throw bad(`data_offsets ${quote(offsets)} is not a pair of integers`);
  }
  const [b, e] = offsets as [number, number];
  if (b < 0 || b > e) throw bad(`data_offsets [${b}, ${e}] are not in order`);
  if (e > dataSize) {
    throw fail(`tensor ${quote(name)} ends at data byte ${e}, past the end of the data (${dataSize} bytes): the file is truncated; ${fix}`);
  }
  let count = 1;
  for (const d of shape as number[]) count *= d;
  const expected = count * itemsize;
  if (!Number.isSafeInteger(expected) || e - b !== expected) {
    const dims = shape.length <= 8 ? `[${(shape as number[]).join(', ')}]` : `of ${shape.length} dimensions`;
    throw bad(`holds ${e - b} bytes but shape ${dims} of ${dtype} needs ${Number.isSafeInteger(expected) ? expected : 'more than 2^53'}`);
  }
  return { name, dtype, shape: [...(shape as number[])], begin: dataStart + b, end: dataStart + e };
}
