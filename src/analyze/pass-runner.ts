import { Worker } from 'node:worker_threads';
import { BackendError, eigh, loadBackend, type BackendName, type Eigh, type EighSolver, type KernelBackend, type RowData } from '../linalg/index.js';
import { PassSession, type PassPartial, type PassSpec } from './pass-session.js';
import { addThreadPhases, phaseEnd, phaseStart } from './phases.js';

/** Messages to a pass worker. */
export type WorkerRequest =
  | { type: 'init'; backend: BackendName }
  | { type: 'begin'; specs: PassSpec[] }
  | { type: 'slot'; slot: number; buffer: SharedArrayBuffer }
  /** a block in slot `slot`: `length` values, float32 when `f32` (as read) else float64 */
  | { type: 'add'; seq: number; slot: number; length: number; f32: boolean; rows: number; group: number }
  | { type: 'end' }
  | { type: 'eigh'; id: number; m: Float64Array; d: number }
  | { type: 'close' };

/** Messages from a pass worker. */
export type WorkerReply =
  | { type: 'ready'; detail: string }
  | { type: 'ack'; seq: number }
  | { type: 'partial'; partials: PassPartial[]; phases?: Array<[string, number]> }
  | { type: 'eigh'; id: number; values: Float64Array; vectors: Float64Array }
  | { type: 'error'; seq?: number; message: string; user: boolean };

/** Which kernels ran an analysis (`analysis.backend`). */
export interface BackendInfo {
  name: BackendName;
  /** threads computing: worker threads; for native the library's own threads; else 1 */
  threads: number;
  detail?: string;
}

/**
 * Blocks queued or computing per worker: one computing, one waiting, so none idles between blocks
 * while this thread serves the others. A single worker (native) needs no second one: this thread
 * has the next block read and checked by the time the worker is done.
 */
const MAX_IN_FLIGHT = 2;

/** Where blocks go: a worker thread, or a session on the calling thread. */
interface Executor {
  /** Starts a pass of one or more groups (one session each, e.g. one per layer). */
  begin(specs: PassSpec[]): void;
  /** Queues a block of group `group`; the caller keeps {@link inFlight} bounded. */
  add(x: RowData, rows: number, group: number): void;
  inFlight(): number;
  /** Resolves when a queued block is done (or the executor failed). */
  drainOne(): Promise<void>;
  /** Each group's partial result, in group order. */
  end(): Promise<PassPartial[]>;
  /** eigenvalues and eigenvectors (linalg's eigh contract) of a symmetric d x d matrix; a worker takes m over (do not use it afterwards) */
  eighVectors(m: Float64Array, d: number): Promise<Eigh>;
  failure(): Error | null;
  close(): Promise<void>;
}

class InlineExecutor implements Executor {
  private groups: PassSession[] = [];
  constructor(private readonly session: PassSession) {}
  begin(specs: PassSpec[]) {
    this.groups = specs.slice(1).map(() => new PassSession(this.session.backend));
    this.session.begin(specs[0]);
    specs.slice(1).forEach((spec, g) => this.groups[g].begin(spec));
  }
  add(x: RowData, rows: number, group: number) { (group ? this.groups[group - 1] : this.session).add(x, rows); }
  inFlight() { return 0; }
  async drainOne() {}
  async end() {
    const out = [this.session.end(), ...this.groups.map((g) => g.end())];
    this.groups = [];
    return out;
  }
  // the backend's own solver as such (not the scoped, phase-timed one: PassRunner times the batch)
  async eighVectors(m: Float64Array, d: number) { return (this.session.backend.eigh ?? eigh)(m, d, { vectors: true }); }
  failure() { return null; }
  async close() { this.session.dispose(); }
}

/**
 * The built worker file, or, when running from source (tests under tsx), the .ts file behind a
 * bootstrap that registers tsx in the worker (loader hooks do not carry over to workers on Node 20).
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./pass-worker.js', import.meta.url));
  const url = new URL('./pass-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`;
  return new Worker(boot, { eval: true });
}

class WorkerExecutor implements Executor {
  private seq = 0;
  private readonly pending = new Map<number, () => void>();
  /**
   * Blocks reach the worker through shared memory: one slot per block in flight, reused. Handing
   * over (transferring) each block instead would leave every block as garbage in the worker's
   * heap until its next collection: about 100 MB per worker on a 300 MB file. A slot holds the
   * block as read (float32 rows stay float32: half the bytes to copy).
   */
  private readonly slots: SharedArrayBuffer[] = [];
  private readonly slotOf = new Map<number, number>();
  private ending: { resolve: (p: PassPartial[]) => void; reject: (e: Error) => void } | null = null;
  private readonly solving = new Map<number, { resolve: (v: Eigh) => void; reject: (e: Error) => void }>();
  private eighId = 0;
  private broken: Error | null = null;
  private closing = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: WorkerReply) => this.onReply(m));
    worker.on('error', (e) => this.fail(new Error(`kernel thread failed: ${e.message}`)));
    worker.on('exit', (code) => { if (!this.closing) this.fail(new Error(`kernel thread exited (code ${code})`)); });
  }

  /**
   * Starts a worker that loads backend `name`, without waiting for it: requests queue up behind
   * its start (about 0.1-0.3 s, which the reading thread spends reading instead). For a backend
   * this thread has loaded already; a failure to load surfaces at the first request.
   */
  static launch(name: BackendName): WorkerExecutor {
    const worker = startWorker();
    worker.postMessage({ type: 'init', backend: name } satisfies WorkerRequest);
    return new WorkerExecutor(worker);
  }

  /** Starts a worker and loads backend `name` in it; rejects with the reason it could not. */
  static start(name: BackendName): Promise<{ executor: WorkerExecutor; detail: string }> {
    const worker = startWorker();
    return new Promise((resolve, reject) => {
      const onFirst = (m: WorkerReply) => {
        worker.off('message', onFirst);
        worker.off('error', onError);
        if (m.type === 'ready') resolve({ executor: new WorkerExecutor(worker), detail: m.detail });
        else {
          void worker.terminate();
          reject(m.type === 'error' ? (m.user ? new BackendError(m.message) : new Error(m.message)) : new Error('unexpected message from a kernel thread'));
        }
      };
      const onError = (e: Error) => { worker.off('message', onFirst); reject(new Error(`kernel thread failed to start: ${e.message}`)); };
      worker.on('message', onFirst);
      worker.once('error', onError);
      worker.postMessage({ type: 'init', backend: name } satisfies WorkerRequest);
    });
  }

  begin(specs: PassSpec[]) {
    this.worker.postMessage({ type: 'begin', specs } satisfies WorkerRequest);
  }

  add(x: RowData, rows: number, group: number) {
    const seq = this.seq++;
    const busy = new Set(this.slotOf.values());
    let slot = 0;
    while (busy.has(slot)) slot++;
    if (!this.slots[slot] || this.slots[slot].byteLength < x.byteLength) {
      const buffer = new SharedArrayBuffer(x.byteLength);
      this.slots[slot] = buffer;
      this.worker.postMessage({ type: 'slot', slot, buffer } satisfies WorkerRequest);
    }
    const f32 = x instanceof Float32Array;
    (f32 ? new Float32Array(this.slots[slot], 0, x.length) : new Float64Array(this.slots[slot], 0, x.length)).set(x);
    this.slotOf.set(seq, slot);
    this.pending.set(seq, () => undefined);
    this.worker.postMessage({ type: 'add', seq, slot, length: x.length, f32, rows, group } satisfies WorkerRequest);
  }

  inFlight() { return this.broken ? 0 : this.pending.size; }

  drainOne(): Promise<void> {
    const oldest = this.pending.keys().next();
    if (oldest.done || this.broken) return Promise.resolve();
    return new Promise((resolve) => this.pending.set(oldest.value, resolve));
  }

  end(): Promise<PassPartial[]> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.ending = { resolve, reject };
      this.worker.postMessage({ type: 'end' } satisfies WorkerRequest);
    });
  }

  eighVectors(m: Float64Array, d: number): Promise<Eigh> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.eighId++;
    return new Promise((resolve, reject) => {
      this.solving.set(id, { resolve, reject });
      // Handed over, not copied, when m owns its buffer: at d = 8192 a copy is 0.5 GB more.
      const own = m.byteOffset === 0 && m.byteLength === m.buffer.byteLength && !(m.buffer instanceof SharedArrayBuffer);
      this.worker.postMessage({ type: 'eigh', id, m, d } satisfies WorkerRequest, own ? [m.buffer as ArrayBuffer] : []);
    });
  }

  failure() { return this.broken; }

  async close() {
    this.closing = true;
    await new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
      // a worker stuck in a long block is not waited for
      setTimeout(() => void this.worker.terminate(), 2000).unref();
    });
  }

  private onReply(m: WorkerReply) {
    if (m.type === 'ack') {
      const done = this.pending.get(m.seq);
      this.pending.delete(m.seq);
      this.slotOf.delete(m.seq);
      done?.();
    } else if (m.type === 'partial') {
      if (m.phases) addThreadPhases(m.phases);
      this.ending?.resolve(m.partials);
      this.ending = null;
    } else if (m.type === 'eigh') {
      this.solving.get(m.id)?.resolve({ values: m.values, vectors: m.vectors });
      this.solving.delete(m.id);
    } else if (m.type === 'error') {
      this.fail(m.user ? new BackendError(m.message) : new Error(m.message));
    }
  }

  private fail(err: Error) {
    this.broken ??= err;
    for (const done of this.pending.values()) done();
    this.pending.clear();
    this.slotOf.clear();
    this.ending?.reject(this.broken);
    this.ending = null;
    for (const s of this.solving.values()) s.reject(this.broken);
    this.solving.clear();
  }
}

/**
 * Runs the per-block work of a pass on a kernel backend: inline on the calling thread (native and
 * tfjs-node thread themselves; wasm and js with one thread), or on a pool of worker threads, one
 * backend each. Blocks go to the workers round-robin (block k to worker k mod N), so a given thread count
 * always gives the same partial sums and the same merged result; each worker has at most
 * {@link MAX_IN_FLIGHT} blocks queued, so memory does not grow with the input.
 */
export class PassRunner {
  private next = 0;

  private constructor(
    private readonly executors: Executor[],
    readonly info: BackendInfo,
    /** the backend's own eigensolver (native: LAPACK dsyevd), if any */
    readonly eigh: EighSolver | undefined,
    /** sets the backend's own thread count (native), returning the previous one */
    private readonly setThreads?: (n: number) => number,
    /** the backend's own solver for several matrices side by side (native, on the calling thread) */
    private readonly eighMany?: KernelBackend['eighMany'],
  ) {}

  /** true when blocks go to worker threads (copied into shared memory) */
  get parallel(): boolean {
    return !(this.executors[0] instanceof InlineExecutor);
  }

  /**
   * Starts backend `name` with `threads` compute threads: worker threads for wasm and js when
   * threads > 1, else inline on this thread. Native and tfjs-node thread themselves: tfjs-node
   * runs inline; native, when threads > 1, on one worker thread (its BLAS calls use every core),
   * so that this thread reads, decodes and checks the next block meanwhile.
   * @throws BackendError when the backend cannot load
   */
  static async start(name: BackendName, threads: number): Promise<PassRunner> {
    if (name === 'tfjs-node' || threads === 1) {
      const backend = await loadBackend(name);
      const own = backend.threaded ? backend.ownThreads ?? 1 : 1;
      return new PassRunner([new InlineExecutor(new PassSession(backend))], { name, threads: own, detail: backend.detail }, backend.eigh, undefined, backend.eighMany);
    }
    if (name === 'native') {
      // The eigensolver of the reading thread's instance serves the metrics between the passes.
      const backend = await loadBackend(name);
      return new PassRunner([WorkerExecutor.launch(name)], { name, threads: backend.ownThreads ?? 1, detail: backend.detail }, backend.eigh, backend.setThreads);
    }
    const started = await Promise.allSettled(Array.from({ length: threads }, () => WorkerExecutor.start(name)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.executor.close()] : [])));
      throw failed.reason;
    }
    const ok = started as Array<PromiseFulfilledResult<{ executor: WorkerExecutor; detail: string }>>;
    return new PassRunner(ok.map((s) => s.value.executor), { name, threads, detail: ok[0].value.detail }, undefined);
  }

  /**
   * Starts a pass on every thread: of one spec, or of several groups at once (one spec each: the
   * layers of a file read together), whose blocks {@link push} tells apart by group index.
   */
  begin(spec: PassSpec | readonly PassSpec[]): void {
    this.next = 0;
    const specs = Array.isArray(spec) ? [...spec] : [spec as PassSpec];
    for (const e of this.executors) e.begin(specs);
  }

  /**
   * Hands a block of finite rows to the next thread, waiting while that one has its queue full.
   * Worker threads get a copy (in shared memory); `x` is the caller's again when this resolves.
   */
  async push(x: RowData, rows: number, group = 0): Promise<void> {
    const ex = this.executors[this.next++ % this.executors.length];
    const t0 = phaseStart();
    const most = this.executors.length === 1 ? 1 : MAX_IN_FLIGHT;
    while (ex.inFlight() >= most) await ex.drainOne();
    if (this.parallel) phaseEnd('wait for threads', t0);
    this.check();
    ex.add(x, rows, group);
  }

  /** Waits for every block and returns each thread's partial result (of the first group), in thread order. */
  async end(): Promise<PassPartial[]> {
    return (await this.endGroups())[0];
  }

  /** Waits for every block and returns, per group, each thread's partial result in thread order. */
  async endGroups(): Promise<PassPartial[][]> {
    const t0 = phaseStart();
    const parts = await Promise.allSettled(this.executors.map((e) => e.end()));
    if (this.parallel) phaseEnd('wait for threads', t0);
    this.check();
    const bad = parts.find((p): p is PromiseRejectedResult => p.status === 'rejected');
    if (bad) throw bad.reason;
    const byThread = parts.map((p) => (p as PromiseFulfilledResult<PassPartial[]>).value);
    return byThread[0].map((_, g) => byThread.map((t) => t[g]));
  }

  /**
   * Eigenvalues and eigenvectors of several symmetric matrices (linalg's eigh contract), side by side: one per
   * worker thread at a time, and, where this thread has the backend's own solver next to a worker
   * (native), one here at the same time, every decomposition then on one BLAS thread: LAPACK's
   * tridiagonal reduction is half memory-bound and gains more from two decompositions at once
   * than from two threads in one. Native on this thread alone does the same on threads of its own
   * (eighMany). The thread count used never depends on timing, so the results do not either.
   * Matrices sent to a worker are handed over: do not use them afterwards.
   */
  async eighVectors(ms: ReadonlyArray<{ m: Float64Array; d: number }>): Promise<Eigh[]> {
    const t0 = phaseStart();
    try {
      if (!this.parallel && this.eighMany && ms.length > 1) return this.eighMany(ms, { vectors: true });
      const here = this.eigh;
      if (!here || !this.setThreads || !this.parallel || ms.length < 2) {
        return await Promise.all(ms.map(({ m, d }, k) => this.executors[k % this.executors.length].eighVectors(m, d)));
      }
      const before = this.setThreads(1);
      try {
        const away = ms.slice(1).map(({ m, d }, k) => this.executors[k % this.executors.length].eighVectors(m, d));
        away.forEach((p) => p.catch(() => undefined));
        const first = here(ms[0].m, ms[0].d, { vectors: true });
        return [first, ...(await Promise.all(away))];
      } finally {
        this.setThreads(before);
      }
    } finally {
      phaseEnd('eigh', t0);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.executors.map((e) => e.close()));
  }

  private check(): void {
    for (const e of this.executors) {
      const err = e.failure();
      if (err) throw err;
    }
  }
}
