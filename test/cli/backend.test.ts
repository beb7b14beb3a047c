// `isotropy analyze --backend/--threads`: the JSON names the kernels that ran; a backend that
// cannot run, an unknown one and a bad thread count are user errors (exit 2, one line).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { unavailableReason } from '../../src/linalg/backends/select.ts';
import { BACKEND_NAMES } from '../../src/linalg/backends/types.ts';
import { anisotropic } from '../helpers/random.ts';
import { buildNpy, makeTempDir } from '../io/helpers.ts';
import { spawnSync } from 'node:child_process';
import { failsCleanly, BIN, isotropy } from './run.ts';

const tmp = makeTempDir();
test.after(() => tmp.cleanup());
const file = tmp.file('e.npy', buildNpy({ descr: '<f4', shape: [300, 8], values: anisotropic(300, 8, 5) }));


test('--backend wasm --threads 2: the JSON says so, and agrees with --backend js', () => {
  const wasm = isotropy('analyze', file, '--json', '-q', '--backend', 'wasm', '--threads', '2');
  assert.is(wasm.code, 0, wasm.stderr);
  const a = JSON.parse(wasm.stdout);
  assert.is(a.backend.name, 'wasm');
  assert.is(a.backend.threads, 2);
  assert.type(a.backend.detail, 'string');
  const js = JSON.parse(isotropy('analyze', file, '--json', '-q', '--backend', 'js').stdout);
  assert.equal(js.backend.name, 'js');
  for (const k of [0, 1]) {
    assert.ok(Math.abs(a.results[k].isoScore - js.results[k].isoScore) <= 1e-9 * Math.abs(js.results[k].isoScore));
    assert.ok(Math.abs(a.results[k].partitionIsotropy - js.results[k].partitionIsotropy) <= 1e-5 * js.results[k].partitionIsotropy);
  }
});

test('ISOTROPY_PHASES=1: one phases line on stderr, the JSON on stdout unchanged', () => {
  const r = spawnSync(process.execPath, [BIN, 'analyze', file, '--json', '--no-report', '-q', '--threads', '2'], {
    encoding: 'utf8', env: { ...process.env, ISOTROPY_PHASES: '1' },
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(JSON.parse(r.stdout).results.length, 2);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('phases (s): '));
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0], /\bread [\d.]+, .*\bother -?[\d.]+, total [\d.]+/);
});

test('a backend that cannot run here: exit 2 naming why and what can', async () => {
  const missing = [];
  for (const name of BACKEND_NAMES) if ((await unavailableReason(name)) !== null) missing.push(name);
  if (!missing.length) { console.log('  (every backend is available here: nothing to refuse)'); return; }
  failsCleanly(isotropy('analyze', file, '--backend', missing[0]),
    new RegExp(`^isotropy: the '${missing[0]}' backend is not available here: .+; available: .*wasm, js$`));
});

test('unknown backend, bad thread count: exit 2', () => {
  failsCleanly(isotropy('analyze', file, '--backend', 'gpu'), /^isotropy: unknown backend "gpu": use auto, native, wasm, tfjs-node, js$/);
  failsCleanly(isotropy('analyze', file, '--threads', '0'), /^isotropy: --threads must be a positive integer, got 0$/);
  failsCleanly(isotropy('analyze', file, '--threads', '1.5'), /^isotropy: --threads must be a positive integer, got 1\.5$/);
});

test.run();
