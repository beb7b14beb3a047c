import { createInflateRaw, crc32 } from 'node:zlib';
import type { ByteSource } from './byte-source.js';
import { describeError, npyFail } from './errors.js';

/** Compressed bytes read from the source per step. */
const INPUT_CHUNK = 1 << 20;

/**
 * The raw-deflate stream at `[start, start + compressedSize)` of `bytes`, decompressed chunk by
 * chunk (node's zlib: native, off the main thread). Checks what a zip member promises: exactly
 * `uncompressedSize` bytes out, and the CRC-32 when `crc` is given and the whole member is read.
 * Stopping early (`return()` on the iterator) releases the inflater.
 *
 * @param path - the archive, for messages; `member` its entry name.
 * @throws NpyError for a damaged or lying member.
 */
export async function* inflateMember(
  bytes: ByteSource,
  start: number,
  compressedSize: number,
  uncompressedSize: number,
  path: string,
  member: string,
  crc?: number,
): AsyncGenerator<Uint8Array> {
  const what = `member ${member}`;
  const inf = createInflateRaw({ chunkSize: 1 << 20 });
  let stopped = false;
  const pump = (async () => {
    for (let off = 0; off < compressedSize && !stopped; off += INPUT_CHUNK) {
      const chunk = (await bytes.read(start + off, Math.min(INPUT_CHUNK, compressedSize - off))).slice();
      if (stopped) return;
      if (!inf.write(chunk)) await new Promise<void>((resolve) => inf.once('drain', resolve));
    }
    inf.end();
  })();
  pump.catch((err) => inf.destroy(err as Error));
  let total = 0;
  let sum = 0;
  try {
    for await (const out of inf as AsyncIterable<Buffer>) {
      total += out.length;
      if (total > uncompressedSize) {
        throw npyFail(path, `${what} decompresses to more than the ${uncompressedSize} bytes its zip entry promises: the archive is damaged; re-save it with np.savez`);
      }
      if (crc !== undefined) sum = crc32(out, sum);
      yield new Uint8Array(out.buffer, out.byteOffset, out.length);
    }
  } catch (err) {
    if ((err as { isUserError?: boolean }).isUserError) throw err;
    throw npyFail(path, `${what} cannot be decompressed (${describeError(err)}): the archive is truncated or damaged; re-save it with np.savez`);
  } finally {
    stopped = true;
    inf.destroy();
  }
  if (total !== uncompressedSize) {
    throw npyFail(path, `${what} decompresses to ${total} bytes but its zip entry promises ${uncompressedSize}: the archive is truncated or damaged; re-save it with np.savez`);
  }
  if (crc !== undefined && (sum >>> 0) !== (crc >>> 0)) {
    throw npyFail(path, `${what} fails its CRC-32 check: the archive is damaged; re-save it with np.savez`);
  }
}
