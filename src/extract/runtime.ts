/**
 * The parts of the extractor that load tfjs (`isotropy-toolkit/encoder`), kept out of the main
 * entry point so that importing the statistics API does not pull in a tensor runtime.
 */
import type { BackendName } from './backend.js';
import { Encoder } from './encoder.js';
import { NativeEncoder } from './native-encoder.js';
import { EncoderPool, type BatchEncoder } from './pool.js';
import type { Checkpoint } from './types.js';

export { initBackend, type BackendName } from './backend.js';
export { Encoder, type EncodeRequest, type EncodeResult, type Pooling } from './encoder.js';
export { NativeEncoder, type NativeEncoderOptions } from './native-encoder.js';
export { EncoderPool, defaultThreads, type BatchEncoder } from './pool.js';

/**
 * An encoder for a checkpoint. `native`: a {@link NativeEncoder} in this thread with `threads`
 * OpenBLAS threads (a process-wide setting). tfjs backends: in this thread for `threads` = 1
 * (call `initBackend(backend)` first), else a pool of worker threads, each with its own `backend`.
 */
export async function openEncoder(ckpt: Checkpoint, backend: BackendName, threads: number): Promise<BatchEncoder> {
  if (backend === 'native') {
    const native = NativeEncoder.create(ckpt, { threads });
    return { encode: (batch, req) => native.encode(batch, req), dispose: async () => native.dispose() };
  }
  if (threads > 1) return EncoderPool.create(ckpt, backend, threads);
  const encoder = Encoder.create(ckpt);
  return { encode: (batch, req) => encoder.encode(batch, req), dispose: async () => encoder.dispose() };
}
