/**
 * One kernel backend per worker thread (tfjs-wasm is single-threaded under Node, the TypeScript
 * kernels are too): a {@link PassSession} fed blocks by {@link PassRunner} on the reading thread.
 */
import { parentPort } from 'node:worker_threads';
import { eigh, loadBackend } from '../linalg/index.js';
import { PassSession, partialBuffers } from './pass-session.js';
import { PHASES_ENABLED, takePhases } from './phases.js';
import type { WorkerReply, WorkerRequest } from './pass-runner.js';

const port = parentPort!;
let session: PassSession | null = null;
/** The shared-memory slots the reading thread copies blocks into (see WorkerExecutor). */
const slots: SharedArrayBuffer[] = [];
/** Sessions of the other groups of a pass (several layers read together), on the same backend. */
let groups: PassSession[] = [];

function failure(err: unknown, seq?: number): WorkerReply {
  const e = err as { message?: string; isUserError?: boolean };
  return { type: 'error', seq, message: e?.message ?? String(err), user: Boolean(e?.isUserError) };
}

// Requests are handled one after another; only init is asynchronous.
let queue: Promise<void> = Promise.resolve();
port.on('message', (m: WorkerRequest) => {
  queue = queue.then(async () => {
    try {
      switch (m.type) {
        case 'init':
          session = new PassSession(await loadBackend(m.backend));
          port.postMessage({ type: 'ready', detail: session.backend.detail } satisfies WorkerReply);
          break;
        case 'begin':
          groups = m.specs.slice(1).map(() => new PassSession(session!.backend));
          session!.begin(m.specs[0]);
          m.specs.slice(1).forEach((spec, g) => groups[g].begin(spec));
          break;
        case 'slot':
          slots[m.slot] = m.buffer;
          break;
        case 'add': {
          const x = m.f32 ? new Float32Array(slots[m.slot], 0, m.length) : new Float64Array(slots[m.slot], 0, m.length);
          (m.group ? groups[m.group - 1] : session!).add(x, m.rows);
          port.postMessage({ type: 'ack', seq: m.seq } satisfies WorkerReply);
          break;
        }
        case 'end': {
          const partials = [session!.end(), ...groups.map((g) => g.end())];
          groups = [];
          const phases = PHASES_ENABLED ? takePhases() : undefined;
          port.postMessage({ type: 'partial', partials, phases } satisfies WorkerReply, partials.flatMap(partialBuffers));
          break;
        }
        case 'eigh': {
          // The backend's own solver where it has one (native: LAPACK), as on the reading thread.
          const solve = session?.backend.eigh ?? eigh;
          const { values, vectors } = solve(m.m, m.d, { vectors: true });
          port.postMessage({ type: 'eigh', id: m.id, values, vectors: vectors! } satisfies WorkerReply, [values.buffer as ArrayBuffer, vectors!.buffer as ArrayBuffer]);
          break;
        }
        case 'close':
          session?.dispose();
          port.close();
          break;
      }
    } catch (err) {
      port.postMessage(failure(err, m.type === 'add' ? m.seq : undefined));
    }
  });
});
