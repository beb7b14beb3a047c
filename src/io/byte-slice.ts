import type { ByteSource } from './byte-source.js';
import { npyFail } from './errors.js';

/**
 * The bytes `[offset, offset + length)` of `parent` as a ByteSource of its own (a member stored in
 * a zip, a tensor of a safetensors file), named `name` in messages. Closing the slice closes the
 * parent when `ownsParent`, so a reader that owns the slice releases the whole file.
 */
export function sliceBytes(parent: ByteSource, offset: number, length: number, name: string, ownsParent: boolean): ByteSource {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > parent.size) {
    throw npyFail(name, `the range of ${length} bytes at ${offset} runs past the end of the file (${parent.size} bytes): the file is truncated or its index lies`);
  }
  let closed = false;
  return {
    name,
    size: length,
    read(at: number, n: number): Promise<Uint8Array> {
      if (closed) return Promise.reject(npyFail(name, 'read after close'));
      if (!Number.isSafeInteger(at) || !Number.isSafeInteger(n) || at < 0 || n < 0 || at + n > length) {
        return Promise.reject(npyFail(name, `read of ${n} bytes at offset ${at} runs past the end of the member (${length} bytes): the file is truncated or its header lies`));
      }
      return parent.read(offset + at, n);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (ownsParent) await parent.close();
    },
  };
}
