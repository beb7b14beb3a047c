import { open, stat, type FileHandle } from 'node:fs/promises';
import { describeError, errorCode, npyFail } from './errors.js';

/**
 * Random access to the bytes of one file, local or remote. Every container reader (.npy, .npz,
 * safetensors, Parquet, Arrow, ...) reads through this, so that a reader written once works on a
 * local path and on an HTTP(S) URL read with Range requests.
 */
export interface ByteSource {
  /** the file as the user named it (a path or a URL), used verbatim in messages */
  readonly name: string;
  /** total size in bytes */
  readonly size: number;
  /**
   * Bytes `[offset, offset + length)`. Rejects with a user error (an NpyError naming the file)
   * when the range runs past `size` or the read fails. The returned array may be a view on a
   * shared buffer of the implementation only until the next `read` call; copy it to keep it.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases handles or connections; later reads reject. Safe to call more than once. */
  close(): Promise<void>;
}

/**
 * A {@link ByteSource} over a local regular file. Opens one handle, kept until `close()`.
 *
 * @throws NpyError when the path is missing, not a regular file, or unreadable
 */
export async function openFileBytes(path: string): Promise<ByteSource> {
  let size: number;
  let fh: FileHandle;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw npyFail(path, 'not a regular file: give the path of a file');
    size = st.size;
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as { isUserError?: boolean }).isUserError) throw err;
    const code = errorCode(err);
    if (code === 'ENOENT') throw npyFail(path, 'no such file: check the path');
    if (code === 'EACCES' || code === 'EPERM') throw npyFail(path, 'permission denied: make the file readable');
    throw npyFail(path, `cannot open: ${describeError(err)}`);
  }
  let closed = false;
  return {
    name: path,
    size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      if (closed) throw npyFail(path, 'read after close');
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
        throw npyFail(path, `read of ${length} bytes at offset ${offset} runs past the end of the file (${size} bytes): the file is truncated or its header lies`);
      }
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const chunk = Math.min(length - done, 1 << 30);
        const { bytesRead } = await fh.read(out, done, chunk, offset + done);
        if (bytesRead === 0) throw npyFail(path, `the file shrank while being read (${offset + done} of ${size} bytes)`);
        done += bytesRead;
      }
      return out;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await fh.close();
    },
  };
}
