import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BackendName } from './backend.js';
import type { EncodeRequest, EncodeResult, Pooling } from './encode-request.js';
import { loadEncoderKernels } from './native-kernels.js';
import { ExtractError, type Checkpoint, type TokenBatch } from './types.js';

/** Messages to an encode worker. */
export type WorkerRequest =
  | { type: 'encode'; id: number; batch: TokenBatch; req: EncodeRequest }
  | { type: 'close' };

/** Messages from an encode worker. */
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; pooled: Array<{ pooling: Pooling; data: Float32Array; layers: number }> }
  | { type: 'error'; id?: number; message: string; user: boolean };

/** Something that encodes batches: one in-process Encoder or a pool of worker threads. */
export interface BatchEncoder {
  encode(batch: TokenBatch, req: EncodeRequest): Promise<EncodeResult>;
  dispose(): Promise<void>;
}

/**
 * Default number of encoder threads: the cores for the single-threaded wasm and cpu backends
 * (at most 8: each thread holds its own copy of the weights), 1 for tfjs-node, whose native
 * kernels already use every core; for `native`, OpenBLAS's own count (OPENBLAS_NUM_THREADS when
 * set, else the cores).
 */
export function defaultThreads(backend: BackendName): number {
  if (backend === 'native') return loadEncoderKernels()?.blasThreads() ?? 1;
  return backend === 'tensorflow' ? 1 : Math.max(1, Math.min(8, availableParallelism()));
}

/**
 * The built worker file, or, when running from source (tests under tsx), the .ts file behind a
 * bootstrap that registers tsx in the worker (loader hooks do not carry over to workers on Node 20).
 */
function startWorker(workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./encode-worker.js', import.meta.url), { workerData });
  const url = new URL('./encode-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

interface Slot {
  worker: Worker;
  busy: number;
}

/**
 * Encoder threads, each with its own tfjs backend and copy of the weights; batches go to the
 * least busy one, results come back as they finish (callers keep the order by batch).
 */
export class EncoderPool implements BatchEncoder {
  private readonly pending = new Map<number, { resolve: (r: EncodeResult) => void; reject: (e: Error) => void; slot: Slot }>();
  private nextId = 0;
  private broken: Error | null = null;

  private constructor(private readonly slots: Slot[]) {
    for (const slot of slots) {
      slot.worker.on('message', (m: WorkerReply) => this.onReply(slot, m));
      slot.worker.on('error', (e) => this.fail(new Error(`encoder thread failed: ${e.message}`)));
    }
  }

  /**
   * Starts `threads` workers on `backend` with the checkpoint's weights (copied to each) and waits
   * until every one has uploaded them.
   * @throws ExtractError when a worker cannot start its backend or encoder
   */
  static async create(ckpt: Checkpoint, backend: BackendName, threads: number): Promise<EncoderPool> {
    const slots: Slot[] = [];
    const ready: Array<Promise<void>> = [];
    for (let i = 0; i < threads; i++) {
      const worker = startWorker({ ckpt, backend });
      slots.push({ worker, busy: 0 });
      ready.push(new Promise((resolve, reject) => {
        const onFirst = (m: WorkerReply) => {
          worker.off('message', onFirst);
          if (m.type === 'ready') resolve();
          else reject(m.type === 'error' ? (m.user ? new ExtractError(m.message) : new Error(m.message)) : new Error('unexpected message'));
        };
        worker.on('message', onFirst);
        worker.once('error', reject);
      }));
    }
    try {
      await Promise.all(ready);
    } catch (err) {
      await Promise.all(slots.map((s) => s.worker.terminate()));
      throw err;
    }
    return new EncoderPool(slots);
  }

  encode(batch: TokenBatch, req: EncodeRequest): Promise<EncodeResult> {
    if (this.broken) return Promise.reject(this.broken);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ type: 'encode', id, batch, req } satisfies WorkerRequest);
    });
  }

  async dispose(): Promise<void> {
    await Promise.all(this.slots.map((s) => new Promise<void>((resolve) => {
      s.worker.once('exit', () => resolve());
      s.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
      // A worker stuck in a long batch is not waited for.
      setTimeout(() => void s.worker.terminate(), 5000).unref();
    })));
  }

  private onReply(slot: Slot, m: WorkerReply): void {
    if (m.type === 'ready' || m.id === undefined) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    slot.busy--;
    if (m.type === 'result') p.resolve({ pooled: new Map(m.pooled.map((x) => [x.pooling, { data: x.data, layers: x.layers }])) });
    else p.reject(m.user ? new ExtractError(m.message) : new Error(m.message));
  }

  private fail(err: Error): void {
    this.broken = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
