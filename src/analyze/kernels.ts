import { availableParallelism } from 'node:os';
import { quote } from '../io/index.js';
import { BACKEND_NAMES, BackendError, parseBackend, unavailableError, unavailableReason, type BackendName, type BackendRequest } from '../linalg/index.js';
import { PassRunner, type BackendInfo } from './pass-runner.js';

/** The `--backend` and `--threads` options of an analysis. */
export interface KernelOptions {
  /** auto (default), native, wasm, tfjs-node or js */
  backend?: string;
  /** compute threads for wasm and js (default: the machine's cores up to 8, at most one per block) */
  threads?: number;
}

/**
 * Default thread cap: each worker holds about 50 MB (its heap, kernel memory, two blocks in
 * flight), so peak memory stays near 0.5 GB; `--threads` goes beyond.
 */
const MAX_DEFAULT_THREADS = 8;
/** Below this many multiply-adds (n d^2), starting worker threads costs more than it saves. */
const PARALLEL_MIN_WORK = 2 ** 27;
/**
 * Blocks of about 8 MiB of float64 (1365 rows of 768): small enough for the C allocator to reuse
 * freed blocks instead of mapping fresh pages for each (page faults cost seconds per pass on a
 * 100k x 768 file otherwise), large enough for the kernels.
 */
const BLOCK_BYTES = 8 * 1024 * 1024;

/**
 * Picks, starts and reuses the kernels of one analysis (every input of an `analyze()` call).
 *
 * `auto` takes native when the OpenBLAS addon loads, else wasm (our SIMD kernels), else js.
 * Threads default to the machine's cores (at most 8), at most one per block, and 1 (no worker
 * threads) for inputs too small for thread start-up to pay (n d^2 < 2^27). A named backend that
 * cannot run is a {@link BackendError} naming why and what can. If auto's wasm threads fail to
 * start, the js kernels take over (said in `detail`).
 */
export class Kernels {
  private readonly request: BackendRequest;
  private runner: PassRunner | null = null;
  private key = '';
  private reported: { work: number; info: BackendInfo } | null = null;

  /** @throws BackendError for an unknown backend name or a threads value that is not a positive integer */
  constructor(private readonly opts: KernelOptions = {}) {
    if (opts.backend !== undefined && opts.backend !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(opts.backend)) {
      throw new BackendError(`unknown backend ${quote(opts.backend)}: use auto, ${BACKEND_NAMES.join(', ')}`);
    }
    this.request = parseBackend(opts.backend);
    const t = opts.threads;
    if (t !== undefined && (!Number.isInteger(t) || t < 1)) throw new BackendError(`\`threads\` must be a positive integer, got ${t}`);
  }

  /** The backend this analysis runs on (auto's pick, or the one asked for). */
  backendName(): Promise<BackendName> {
    return this.choose();
  }

  /**
   * Compute threads for an input of `rows x dims`: `threads` when given, else the machine's cores
   * (at most 8, at most one per block), 1 for small inputs. Native and tfjs-node run on the calling
   * thread whatever this says.
   */
  threadsFor(rows: number, dims: number, blockRows?: number): number {
    const kernelRows = blockRows ?? Math.max(1, Math.floor(BLOCK_BYTES / (dims * 8)));
    if (this.opts.threads !== undefined) return this.opts.threads;
    if (rows * dims * dims < PARALLEL_MIN_WORK) return 1;
    return Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_THREADS, Math.ceil(rows / kernelRows)));
  }

  /**
   * The runner for an input of `rows x dims`, and the block size to read it with (`blockRows` given
   * by the caller wins); `maxThreads` caps the default thread count (the memory budget).
   */
  async forInput(rows: number, dims: number, blockRows?: number, maxThreads = Infinity): Promise<{ runner: PassRunner; blockRows: number }> {
    const work = rows * dims * dims;
    const name = await this.choose();
    const kernelRows = blockRows ?? Math.max(1, Math.floor(BLOCK_BYTES / (dims * 8)));
    let threads = this.threadsFor(rows, dims, blockRows);
    if (this.opts.threads === undefined) threads = Math.max(1, Math.min(threads, maxThreads));
    const key = `${name}/${threads}`;
    if (!this.runner || key !== this.key) {
      await this.runner?.close();
      this.runner = null;
      this.runner = await this.start(name, threads);
      this.key = key;
    }
    if (!this.reported || work >= this.reported.work) this.reported = { work, info: this.runner.info };
    return { runner: this.runner, blockRows: kernelRows };
  }

  /** What ran the largest input so far. */
  info(): BackendInfo | undefined {
    return this.reported?.info;
  }

  async close(): Promise<void> {
    await this.runner?.close();
    this.runner = null;
  }

  private async choose(): Promise<BackendName> {
    if (this.request !== 'auto') {
      const why = await unavailableReason(this.request);
      if (why !== null) throw await unavailableError(this.request, why);
      return this.request;
    }
    if ((await unavailableReason('native')) === null) return 'native';
    if ((await unavailableReason('wasm')) === null) return 'wasm';
    return 'js';
  }

  private async start(name: BackendName, threads: number): Promise<PassRunner> {
    try {
      return await PassRunner.start(name, threads);
    } catch (err) {
      if (this.request !== 'auto' || name !== 'wasm') throw err;
      const runner = await PassRunner.start('js', threads);
      runner.info.detail = `${runner.info.detail} (wasm failed to start: ${err instanceof Error ? err.message : String(err)})`;
      return runner;
    }
  }
}
