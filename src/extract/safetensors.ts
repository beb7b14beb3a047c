/**
 * A small, strict reader for the safetensors format: an 8-byte little-endian header length N, N
 * bytes of UTF-8 JSON describing each tensor, then one data buffer. The header is checked in full
 * before any tensor is read, so a truncated or corrupt download fails with one clear message
 * instead of garbage weights.
 */
import { endianness } from 'node:os';
import { open, type FileHandle } from 'node:fs/promises';
import { ExtractError, type HostTensor } from './types.js';
import { float16Table } from '../io/dtype.js';
import { quote } from '../io/errors.js';

/** One tensor of a safetensors file, located by absolute byte offsets. */
export interface SafetensorsEntry {
  /** The tensor name exactly as stored (e.g. `bert.embeddings.word_embeddings.weight`). */
  name: string;
  /** The safetensors dtype string: `F32`, `F16`, `BF16`, `F64`, `I64`, ... */
  dtype: string;
  /** Dimensions, outermost first; `[]` is a scalar. */
  shape: number[];
  /** The file holding the tensor. */
  file: string;
  /** Absolute byte offset of the first byte in `file` (header included), inclusive. */
  begin: number;
  /** Absolute byte offset one past the last byte in `file`, exclusive. */
  end: number;
}

/** Bytes per element of every dtype the format defines (we only decode the float ones). A Map: dtype names come from files. */
const DTYPE_SIZES: ReadonlyMap<string, number> = new Map([
  ['F64', 8], ['F32', 4], ['F16', 2], ['BF16', 2],
  ['I64', 8], ['I32', 4], ['I16', 2], ['I8', 1],
  ['U64', 8], ['U32', 4], ['U16', 2], ['U8', 1],
  ['BOOL', 1], ['F8_E4M3', 1], ['F8_E5M2', 1], ['F8_E8M0', 1],
]);

/** The same cap as the reference implementation: a bigger header is a corrupt length, not a model. */
const MAX_HEADER_BYTES = 100_000_000;

/** FileHandle.read takes at most 2 GiB - 1 per call; big embedding matrices need several. */
const READ_CHUNK = 1 << 30;

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

const REDOWNLOAD = 're-download the file';

function fail(path: string, message: string): ExtractError {
  return new ExtractError(`${path}: ${message}`);
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
 * @param path - the `.safetensors` file.
 * @returns the entries sorted by their position in the file (the order the JSON lists them in
 *   carries no meaning), and the metadata (`{}` when absent).
 * @throws ExtractError naming `path`, the problem and the fix, for a missing, unreadable, truncated
 *   or corrupt file.
 */
export async function readSafetensorsIndex(
  path: string,
): Promise<{ entries: SafetensorsEntry[]; metadata: Record<string, string> }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fail(path, 'no such file');
    if (code === 'EISDIR') throw fail(path, 'is a folder, not a safetensors file');
    throw fail(path, `cannot open: ${(err as Error).message}`);
  }
  try {
    const info = await fh.stat();
    // Linux opens folders for reading without complaint; the first read would fail obscurely.
    if (info.isDirectory()) throw fail(path, 'is a folder, not a safetensors file');
    const size = info.size;
    if (size < 8) {
      throw fail(path, `only ${size} bytes long, too short for a safetensors file (8-byte header length missing); ${REDOWNLOAD}`);
    }
    const lenBuf = Buffer.alloc(8);
    await readFully(fh, lenBuf, 0, path);
    const n = headerLength(path, lenBuf);
    if (8 + n > size) {
      throw fail(path, `header length ${n} bytes runs past the end of the file (${size} bytes): the file is truncated or not a safetensors file; ${REDOWNLOAD}`);
    }
    const headerBytes = Buffer.alloc(n);
    await readFully(fh, headerBytes, 8, path);
    const { entries, metadata, dataEnd } = parseHeader(path, headerBytes, size - 8 - n);
    const dataSize = size - 8 - n;
    if (dataEnd !== dataSize) {
      const what = dataEnd < dataSize
        ? `the file has ${dataSize - dataEnd} byte(s) more than the tensors account for`
        : `the file ends ${dataEnd - dataSize} byte(s) before the last tensor does`;
      throw fail(path, `the header describes ${dataEnd} data bytes but the file holds ${dataSize} after the ${n}-byte header: ${what} (a wrong header length, or a truncated or corrupt file); ${REDOWNLOAD}`);
    }
    return { entries, metadata };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * The size a safetensors file must have, from its first bytes (the 8-byte length and the header).
 * Lets a download stop as soon as it has more bytes than the file can hold, when the server does
 * not say the size.
 * @param path - the file name, for messages.
 * @param prefix - the first bytes of the file (any number).
 * @returns `{ size }`: the exact file size in bytes; or `{ need }`: how many bytes of the start it
 *   takes to tell (more than `prefix.length`; at most 8 + 100 MB).
 * @throws ExtractError when the header is corrupt (see {@link readSafetensorsIndex}).
 */
export function safetensorsSizeFromPrefix(path: string, prefix: Uint8Array): { size: number } | { need: number } {
  if (prefix.length < 8) return { need: 8 };
  const n = headerLength(path, prefix);
  if (prefix.length < 8 + n) return { need: 8 + n };
  return { size: 8 + n + parseHeader(path, prefix.subarray(8, 8 + n), Number.MAX_SAFE_INTEGER).dataEnd };
}

function headerLength(path: string, first8: Uint8Array): number {
  const headerLen = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (headerLen === 0n) throw fail(path, `header length is 0: not a safetensors file, or a corrupt one; ${REDOWNLOAD}`);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) {
    throw fail(path, `header length ${headerLen} bytes is over the 100 MB limit: not a safetensors file, or a corrupt one; ${REDOWNLOAD}`);
  }
  return Number(headerLen);
}

/**
 * Parses the JSON header and checks that the tensors tile `[0, dataEnd)` exactly.
 * @param dataSize - bytes after the header (for the "past the end" message); MAX_SAFE_INTEGER when unknown.
 */
function parseHeader(
  path: string,
  headerBytes: Uint8Array,
  dataSize: number,
): { entries: SafetensorsEntry[]; metadata: Record<string, string>; dataEnd: number } {
  const n = headerBytes.length;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw fail(path, `header is not valid UTF-8: the file is corrupt or not a safetensors file; ${REDOWNLOAD}`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw fail(path, `header is not valid JSON (${(err as Error).message}): the file is corrupt or not a safetensors file; ${REDOWNLOAD}`);
  }
  if (!isPlainObject(header)) {
    throw fail(path, `header is JSON but not an object: not a safetensors file; ${REDOWNLOAD}`);
  }

  const dataStart = 8 + n;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(raw)) throw fail(path, `__metadata__ is not an object of strings; ${REDOWNLOAD}`);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw fail(path, `__metadata__.${quote(k)} is not a string; ${REDOWNLOAD}`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push(parseEntry(path, name, raw, dataStart, dataSize));
  }

  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  // The reference implementation's rule: sorted by offset, every tensor starts exactly where the
  // previous one ended. Zero-byte tensors take no room, so they may sit at any boundary.
  let cursor = dataStart;
  let last: SafetensorsEntry | null = null;
  for (const cur of entries) {
    const at = (e: SafetensorsEntry) => `${quote(e.name)} (data bytes ${e.begin - dataStart}-${e.end - dataStart})`;
    if (cur.begin < cursor) {
      throw fail(path, `tensors ${at(last!)} and ${at(cur)} overlap: the header is corrupt; ${REDOWNLOAD}`);
    }
    if (cur.begin > cursor) {
      const after = last === null ? 'the start of the data' : `tensor ${at(last)}`;
      throw fail(path, `tensor ${at(cur)} does not start right after ${after}: ${cur.begin - cursor} byte(s) in between belong to no tensor; the header is corrupt; ${REDOWNLOAD}`);
    }
    cursor = cur.end;
    if (cur.end > cur.begin) last = cur;
  }
  return { entries, metadata, dataEnd: cursor - dataStart };
}

function parseEntry(path: string, name: string, raw: unknown, dataStart: number, dataSize: number): SafetensorsEntry {
  const bad = (what: string): ExtractError => fail(path, `tensor ${quote(name)}: ${what}; the header is corrupt, ${REDOWNLOAD}`);
  if (!isPlainObject(raw)) throw bad('entry is not an object');
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string') throw bad('dtype is missing or not a string');
  const itemsize = DTYPE_SIZES.get(dtype);
  if (itemsize === undefined) {
    throw fail(path, `tensor ${quote(name)} has unknown dtype ${quote(dtype)} (known: ${[...DTYPE_SIZES.keys()].join(' ')}); the file is corrupt or from a newer safetensors version`);
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
    throw fail(path, `tensor ${quote(name)} ends at data byte ${e}, past the end of the data (${dataSize} bytes): the file is truncated; ${REDOWNLOAD}`);
  }
  let count = 1;
  for (const d of shape as number[]) count *= d;
  const expected = count * itemsize;
  if (!Number.isSafeInteger(expected) || e - b !== expected) {
    const dims = shape.length <= 8 ? `[${(shape as number[]).join(', ')}]` : `of ${shape.length} dimensions`;
    throw bad(`holds ${e - b} bytes but shape ${dims} of ${dtype} needs ${Number.isSafeInteger(expected) ? expected : 'more than 2^53'}`);
  }
  return { name, dtype, shape: [...(shape as number[])], file: path, begin: dataStart + b, end: dataStart + e };
}

/** Reads exactly `buf.length` bytes at `position`, or throws: a short read means a truncated file. */
async function readFully(fh: FileHandle, buf: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const want = Math.min(READ_CHUNK, buf.length - done);
    const { bytesRead } = await fh.read(buf, done, want, position + done);
    if (bytesRead === 0) {
      throw fail(path, `ended after ${position + done} bytes while reading ${buf.length} bytes at ${position}: the file is truncated; ${REDOWNLOAD}`);
    }
    done += bytesRead;
  }
}

/**
 * Reads one tensor and converts it to float32.
 *
 * F32 is copied as is; F16 and BF16 are widened exactly (subnormals, ±0, ±Inf and NaN kept; NaN
 * payloads of F16 are not); F64 is rounded to the nearest float32 (values beyond ±3.4e38 become
 * ±Inf). The result owns its memory and is always aligned, whatever the tensor's offset in the file.
 *
 * @param entry - an entry from {@link readSafetensorsIndex} (offsets are trusted to be validated).
 * @throws ExtractError for non-float dtypes (integer and bool tensors are ids or masks, never
 *   weights; F8 is not supported), or when the file is shorter than the entry says.
 */
export async function readTensor(entry: SafetensorsEntry): Promise<HostTensor> {
  const { dtype, file, name } = entry;
  if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16' && dtype !== 'F64') {
    throw fail(file, `tensor ${quote(name)} has dtype ${quote(dtype)}; only float tensors are weights (F32, F16, BF16, F64)`);
  }
  const byteLength = entry.end - entry.begin;
  let count = 1;
  for (const d of entry.shape) count *= d;
  const itemsize = DTYPE_SIZES.get(dtype)!;
  if (byteLength !== count * itemsize) {
    throw new RangeError(`safetensors entry ${name}: ${byteLength} bytes for ${count} elements of ${dtype}`);
  }
  const shape = [...entry.shape];

  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw fail(file, `cannot open: ${(err as Error).message}`);
  }
  try {
    if (dtype === 'F32') {
      const data = new Float32Array(count);
      await readFully(fh, new Uint8Array(data.buffer), entry.begin, file);
      if (!LITTLE_ENDIAN_HOST) swapInPlace(new Uint8Array(data.buffer), 4);
      return { data, shape };
    }
    if (dtype === 'F64') {
      const wide = new Float64Array(count);
      await readFully(fh, new Uint8Array(wide.buffer), entry.begin, file);
      if (!LITTLE_ENDIAN_HOST) swapInPlace(new Uint8Array(wide.buffer), 8);
      return { data: Float32Array.from(wide), shape };
    }
    const half = new Uint16Array(count);
    await readFully(fh, new Uint8Array(half.buffer), entry.begin, file);
    if (!LITTLE_ENDIAN_HOST) swapInPlace(new Uint8Array(half.buffer), 2);
    const data = new Float32Array(count);
    if (dtype === 'BF16') {
      // bfloat16 is the top half of a float32, so widening is a shift of the bit pattern.
      const bits = new Uint32Array(data.buffer);
      for (let i = 0; i < count; i++) bits[i] = half[i] << 16;
    } else {
      const table = float16Table();
      for (let i = 0; i < count; i++) data[i] = table[half[i]];
    }
    return { data, shape };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Byte-swaps every `width`-byte element; only big-endian hosts (s390x) ever need it. */
function swapInPlace(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}
