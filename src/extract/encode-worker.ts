/**
 * One encoder per worker thread: tfjs-wasm runs single-threaded under Node, so parallelism comes
 * from several backends side by side, each fed whole batches by {@link EncoderPool}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, type BackendName } from './backend.js';
import { Encoder } from './encoder.js';
import { NativeEncoder } from './native-encoder.js';
import type { Checkpoint } from './types.js';
import type { WorkerReply, WorkerRequest } from './pool.js';

const port = parentPort!;
const { ckpt, backend } = workerData as { ckpt: Checkpoint; backend: BackendName };

function failure(err: unknown, id?: number): WorkerReply {
  const e = err as { message?: string; isUserError?: boolean };
  return { type: 'error', id, message: e?.message ?? String(err), user: Boolean(e?.isUserError) };
}

try {
  await initBackend(backend);
  // native is normally run in-process by openEncoder (OpenBLAS threads); a pool of it still works
  const encoder = backend === 'native' ? NativeEncoder.create(ckpt) : Encoder.create(ckpt);
  // Batches are encoded one after another; the queue keeps replies in arrival order.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (m: WorkerRequest) => {
    if (m.type === 'close') {
      queue.then(() => { encoder.dispose(); port.close(); });
      return;
    }
    queue = queue.then(async () => {
      try {
        const r = await encoder.encode(m.batch, m.req);
        const pooled = [...r.pooled].map(([p, v]) => ({ pooling: p, data: v.data, layers: v.layers }));
        port.postMessage({ type: 'result', id: m.id, pooled } satisfies WorkerReply, pooled.map((p) => p.data.buffer as ArrayBuffer));
      } catch (err) {
        port.postMessage(failure(err, m.id));
      }
    });
  });
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
} catch (err) {
  port.postMessage(failure(err));
}
