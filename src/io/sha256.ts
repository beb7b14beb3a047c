import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { describeError, npyFail } from './errors.js';

/** Files from this size up are hashed on a thread of their own (starting one costs ~30 ms). */
const THREAD_MIN_BYTES = 64 << 20;

/**
 * The hashing thread: reads the file through one reused buffer (no garbage for the caller's
 * collector) and posts the hex digest, or `{ error }` with a one-line reason.
 */
// Dynamic imports: an eval worker runs as CommonJS or as a module depending on the parent's flags.
const HASHER = `
Promise.all([import('node:worker_threads'), import('node:crypto'), import('node:fs')]).then(([wt, crypto, fs]) => {
  let fd = -1;
  try {
    fd = fs.openSync(wt.workerData, 'r');
    const hash = crypto.createHash('sha256');
    const buf = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(n === buf.length ? buf : buf.subarray(0, n));
    }
    wt.parentPort.postMessage({ digest: hash.digest('hex') });
  } catch (e) {
    wt.parentPort.postMessage({ error: String((e && e.message) || e) });
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
});
`;

/**
 * sha256 of a file's bytes, lower-case hex; streamed, so any size is fine.
 *
 * Files of 64 MiB and more (`opts.threadMinBytes`) are hashed on a thread of their own (about
 * 0.2 s of CPU per 300 MB), so an analysis that hashes its input while its first pass reads it does
 * not do both on one thread.
 *
 * @throws NpyError naming the file when it cannot be read
 */
export async function sha256File(path: string, opts: { threadMinBytes?: number } = {}): Promise<string> {
  let size = 0;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw npyFail(path, `cannot read the file to hash it: ${describeError(err)}`);
  }
  return size >= (opts.threadMinBytes ?? THREAD_MIN_BYTES) ? sha256OnThread(path) : sha256Here(path);
}

async function sha256Here(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  } catch (err) {
    throw npyFail(path, `cannot read the file to hash it: ${describeError(err)}`);
  }
  return hash.digest('hex');
}

async function sha256OnThread(path: string): Promise<string> {
  const reply = await new Promise<{ digest?: string; error?: string }>((resolve) => {
    const worker = new Worker(HASHER, { eval: true, workerData: path });
    worker.once('message', (m) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', (e) => resolve({ error: e.message }));
    worker.once('exit', (code) => resolve({ error: `hashing thread exited (code ${code})` }));
  });
  if (reply.digest) return reply.digest;
  throw npyFail(path, `cannot read the file to hash it: ${reply.error}`);
}
