import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { describeError, npyFail } from './errors.js';

/** sha256 of a file's bytes, lower-case hex; streamed, so any size is fine. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  } catch (err) {
    throw npyFail(path, `cannot read the file to hash it: ${describeError(err)}`);
  }
  return hash.digest('hex');
}
