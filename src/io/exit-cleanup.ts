/**
 * Files to remove if the process ends before their owner does (lock files, temp files): on
 * normal exit and on SIGINT, SIGTERM and SIGHUP. A `kill -9` cannot be caught; whoever creates
 * such files must also recognise and sweep the ones a dead process left (sweepStaleTemps in
 * atomic-file.ts; extract/file-lock.ts for lock files).
 *
 * The signal listeners exist only while a file is registered. After removing the files, a signal
 * is re-raised with the default action (the process dies of it, exit status 128 + n) unless
 * another listener for it remains, whose owner then decides how the process ends.
 */
import { unlinkSync } from 'node:fs';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type Signal = (typeof SIGNALS)[number];

/** path -> how many registrations hold it */
const registered = new Map<string, number>();
let installed = false;

function removeAll(): void {
  for (const path of registered.keys()) {
    try {
      unlinkSync(path);
    } catch {
      // already gone, or never created: nothing to clean
    }
  }
  registered.clear();
}

function onSignal(signal: Signal): void {
  removeAll();
  uninstall();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

const handlers = new Map<Signal, () => void>(SIGNALS.map((s) => [s, () => onSignal(s)]));

function install(): void {
  if (installed) return;
  installed = true;
  for (const [signal, handler] of handlers) process.on(signal, handler);
  process.on('exit', removeAll);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const [signal, handler] of handlers) process.off(signal, handler);
  process.off('exit', removeAll);
}

/**
 * Removes `path` (best effort, synchronously) if the process exits or is interrupted by SIGINT,
 * SIGTERM or SIGHUP before the returned function is called.
 * @returns a function that forgets `path` (call it once the file is removed or renamed into place).
 */
export function removeOnExit(path: string): () => void {
  registered.set(path, (registered.get(path) ?? 0) + 1);
  install();
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const left = (registered.get(path) ?? 1) - 1;
    if (left > 0) registered.set(path, left);
    else registered.delete(path);
    if (registered.size === 0) uninstall();
  };
}
