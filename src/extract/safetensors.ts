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
import { SAFETENSORS_DTYPE_SIZES as DTYPE_SIZES, readSafetensorsHeader, safetensorsSizeFromPrefix as sizeFromPrefix } from '../io/safetensors-header.js';

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

/** FileHandle.read takes at most 2 GiB - 1 per call; big embedding matrices need several. */
const READ_CHUNK = 1 << 30;

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

const REDOWNLOAD = 're-download the file';

function fail(path: string, message: string): ExtractError {
  return new ExtractError(`${path}: ${message}`);
}

/**
 * Reads and validates the header of a safetensors file; no tensor data is read.
 *
 * The checks, the tensors tiling the data region exactly included, are `readSafetensorsHeader`'s
 * (src/io/safetensors-header.ts, shared with the embeddings reader).
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
    const { tensors, metadata } = await readSafetensorsHeader({
      path,
      size: info.size,
      async read(position, length) {
        const buf = Buffer.alloc(length);
        await readFully(fh, buf, position, path);
        return buf;
      },
      fail: (message) => new ExtractError(message),
      fix: REDOWNLOAD,
    });
    return { entries: tensors.map((t) => ({ ...t, file: path })), metadata };
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
  return sizeFromPrefix({ path, fail: (message) => new ExtractError(message), fix: REDOWNLOAD }, prefix);
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
