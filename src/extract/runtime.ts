/**
 * The parts of the extractor that load tfjs (`isotropy-toolkit/encoder`), kept out of the main
 * entry point so that importing the statistics API does not pull in a tensor runtime.
 */
import type { BackendName } from './backend.js';
import { Encoder } from './encoder.js';
import { EncoderPool, type BatchEncoder } from './pool.js';
import type { Checkpoint } from './types.js';

export { initBackend, type BackendName } from './backend.js';
export { Encoder, type EncodeRequest, type EncodeResult, type Pooling } from './encoder.js';
export { EncoderPool, defaultThreads, type BatchEncoder } from './pool.js';

/**
 * An encoder for a checkpoint: in this thread for `threads` = 1 (call `initBackend(backend)`
 * first), else a pool of worker threads, each with its own `backend`.
 */
export async function openEncoder(ckpt: Checkpoint, backend: BackendName, threads: number): Promise<BatchEncoder> {
  if (threads > 1) return EncoderPool.create(ckpt, backend, threads);
  const encoder = Encoder.create(ckpt);
  return { encode: (batch, req) => encoder.encode(batch, req), dispose: async () => encoder.dispose() };
}
