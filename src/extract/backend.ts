/**
 * Which backend runs the encoder. `native` is our own float32 forward pass on the optional
 * OpenBLAS addon (`native-encoder.ts`, no tfjs), used wherever the addon was built; the others are
 * TensorFlow.js backends: tfjs-node (native TensorFlow, multi-threaded) is an optional dependency
 * whose install downloads libtensorflow and often fails; the WebAssembly backend (XNNPACK, SIMD,
 * one thread under Node) always works and is the usual fallback; the pure JavaScript cpu backend
 * is the last resort.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { encoderKernelsUnavailableReason } from './native-kernels.js';
import { ExtractError } from './types.js';

/**
 * An encoder backend: `native` = our OpenBLAS addon (float32, OpenBLAS threads); tfjs backends:
 * `tensorflow` = @tensorflow/tfjs-node, `wasm` = WebAssembly, `cpu` = plain JS.
 */
export type BackendName = 'native' | 'tensorflow' | 'wasm' | 'cpu';

/** In order of preference. */
export const BACKEND_ORDER: readonly BackendName[] = ['native', 'tensorflow', 'wasm', 'cpu'];
const ORDER = BACKEND_ORDER;

// A variable specifier keeps TypeScript from resolving the optional package at compile time.
const TFJS_NODE = '@tensorflow/tfjs-node';

let active: BackendName | undefined;
let queue: Promise<unknown> = Promise.resolve();
let wasmPathsSet = false;
let nodeLoad: Promise<string | undefined> | undefined;

/**
 * Picks and initialises an encoder backend; a tfjs one becomes tfjs's current backend.
 *
 * Without `prefer`: `'native'` when the OpenBLAS addon with the encoder kernels loads (and
 * `ISOTROPY_NATIVE` is not 0), else tfjs-node (`'tensorflow'`) when `@tensorflow/tfjs-node` loads
 * and registers its backend with this process's tfjs-core, else `'wasm'`, else `'cpu'`. A missing
 * addon or tfjs-node, or one whose binding fails to load, falls through silently.
 *
 * With `prefer`: that backend or an {@link ExtractError} saying why it cannot load (e.g.
 * `'tensorflow'` without tfjs-node installed). `'native'` leaves tfjs untouched: it runs through
 * `NativeEncoder` (or `openEncoder`), not the tfjs `Encoder`.
 *
 * Idempotent: a second call without `prefer` returns the backend already chosen (reselecting it if
 * someone switched away); calls are serialised, so concurrent callers agree. Also sets tfjs's
 * `PROD` flag, which only silences tfjs's own console banners (its "install tfjs-node" hint on the
 * cpu backend would otherwise land in our CLI's stderr).
 *
 * Tensors created before a switch are moved lazily by tfjs to the new backend (slow for large
 * weights), so call this before `Encoder.create`.
 *
 * @returns the name of the backend now in use
 */
export function initBackend(prefer?: BackendName): Promise<BackendName> {
  const run = queue.then(() => select(prefer));
  queue = run.catch(() => undefined);
  return run;
}

async function select(prefer?: BackendName): Promise<BackendName> {
  tf.env().set('PROD', true);
  if (prefer !== undefined && !ORDER.includes(prefer)) {
    throw new ExtractError(`unknown backend '${String(prefer)}': use one of ${ORDER.join(', ')}`);
  }
  const target = prefer ?? active;
  if (target !== undefined && active === target && (target === 'native' || tf.getBackend() === target)) return target;
  if (target !== undefined) {
    const why = await tryBackend(target);
    if (why !== undefined) {
      // a failed setBackend leaves tfjs pointing at the broken backend: go back to the working one
      if (active !== undefined && active !== 'native' && tf.getBackend() !== active) await tryBackend(active);
      throw new ExtractError(`cannot use the '${target}' backend: ${why}`);
    }
    active = target;
    return target;
  }
  for (const name of ORDER) {
    if ((await tryBackend(name)) === undefined) {
      active = name;
      return name;
    }
  }
  throw new ExtractError('no TensorFlow.js backend could be initialised (tried tensorflow, wasm, cpu)');
}

/** Makes `name` the current backend; returns undefined on success, else the reason it failed. */
async function tryBackend(name: BackendName): Promise<string | undefined> {
  if (name === 'native') return encoderKernelsUnavailableReason() ?? undefined;
  try {
    if (name === 'tensorflow') {
      const why = await loadTfjsNode();
      if (why !== undefined) return why;
    } else if (name === 'wasm' && !wasmPathsSet) {
      // Under Node the wasm loader cannot guess where the .wasm binaries are once we are bundled
      // or imported from another folder; point it at the installed package.
      const require = createRequire(import.meta.url);
      const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
      setWasmPaths(path.join(path.dirname(pkg), 'dist') + path.sep);
      wasmPathsSet = true;
    }
    const ok = await tf.setBackend(name);
    if (!ok) return 'it failed to initialise';
    await tf.ready();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Imports tfjs-node once; undefined when its 'tensorflow' backend is now registered with our tfjs-core. */
function loadTfjsNode(): Promise<string | undefined> {
  nodeLoad ??= (async () => {
    try {
      await import(TFJS_NODE);
    } catch (err) {
      const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
      return `${TFJS_NODE} is not installed or its native binding failed to load (${msg}); ` +
        `install it with 'npm install ${TFJS_NODE}' or use the wasm backend`;
    }
    // tfjs-node may bring its own copy of tfjs-core; only a backend registered with ours is usable.
    if (tf.findBackendFactory('tensorflow') == null) {
      return `${TFJS_NODE} loaded but registered its backend with another copy of @tensorflow/tfjs-core ` +
        `(ours is ${tf.version_core}); align the versions (npm dedupe) or use the wasm backend`;
    }
    return undefined;
  })();
  return nodeLoad;
}
