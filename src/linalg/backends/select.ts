import { jsBackend } from './js.js';
import { loadNativeBackend } from './native.js';
import { loadTfjsNodeBackend } from './tfjs-node.js';
import { BACKEND_NAMES, BackendError, type BackendName, type KernelBackend } from './types.js';
import { loadWasmBackend, wasmUnavailableReason } from './wasm.js';

/** `--backend` values: a backend name or `auto`. */
export type BackendRequest = BackendName | 'auto';

/**
 * Checks a `--backend` value.
 * @throws BackendError for anything but auto, native, wasm, tfjs-node, js
 */
export function parseBackend(value: string | undefined): BackendRequest {
  if (value === undefined || value === 'auto') return 'auto';
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new BackendError(`unknown backend '${value}': use auto, ${BACKEND_NAMES.join(', ')}`);
}

// native and tfjs-node are loaded at most once per thread; what they return (or why not) is kept.
let native: Promise<KernelBackend | string> | undefined;
let tfjsNode: Promise<KernelBackend | string> | undefined;

/**
 * Null when backend `name` can run here, else why not. Loads native and tfjs-node, compiles the
 * wasm kernels (once per thread each) to find out.
 */
export async function unavailableReason(name: BackendName): Promise<string | null> {
  switch (name) {
    case 'js': return null;
    case 'wasm': return wasmUnavailableReason();
    case 'native': {
      const b = await (native ??= loadNativeBackend());
      return typeof b === 'string' ? b : null;
    }
    case 'tfjs-node': {
      const b = await (tfjsNode ??= loadTfjsNodeBackend());
      return typeof b === 'string' ? b : null;
    }
  }
}

/** The backends that can run here, in `auto`'s order of preference. */
export async function availableBackends(): Promise<BackendName[]> {
  const out: BackendName[] = [];
  for (const name of BACKEND_NAMES) if ((await unavailableReason(name)) === null) out.push(name);
  return out;
}

/** The error for a requested backend that cannot run, naming the reason and what can. */
export async function unavailableError(name: BackendName, reason: string): Promise<BackendError> {
  const ok = (await availableBackends()).filter((b) => b !== name);
  return new BackendError(`the '${name}' backend is not available here: ${reason}; available: ${ok.join(', ')}`);
}

/**
 * Loads backend `name` in the calling thread (native and tfjs-node are shared by the thread's
 * callers; js and wasm are new instances).
 *
 * @throws BackendError naming the reason and the backends that are available
 */
export async function loadBackend(name: BackendName): Promise<KernelBackend> {
  if (name === 'js') return jsBackend();
  if (name === 'wasm') {
    try {
      return loadWasmBackend();
    } catch (err) {
      throw await unavailableError(name, err instanceof Error ? err.message : String(err));
    }
  }
  const b = await (name === 'native' ? (native ??= loadNativeBackend()) : (tfjsNode ??= loadTfjsNodeBackend()));
  if (typeof b === 'string') throw await unavailableError(name, b);
  return b;
}
