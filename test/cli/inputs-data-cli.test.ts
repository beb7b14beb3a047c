// The CLI on datasets, remote files and layers: one-line errors with exit 2, the layer in the
// table's headers, --concat. The CLI runs as a child process (async, so that the test's own
// server on 127.0.0.1 can answer it).
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { anisotropic } from '../helpers/random.js';
import { buildNpy, makeTempDir } from '../io/helpers.js';
import { startRangeServer, type RangeServer } from '../io/range-server.js';
import { BIN } from './run.js';

const tmp = makeTempDir();
const x = anisotropic(120, 6, 3);
const npy = (n: number, d: number, values = x) => buildNpy({ descr: '<f8', shape: [n, d], values: values.subarray(0, n * d) });
mkdirSync(join(tmp.dir, 'ds'));
writeFileSync(join(tmp.dir, 'ds', 'p-1.npy'), npy(60, 6));
writeFileSync(join(tmp.dir, 'ds', 'p-2.npy'), npy(60, 6, x.subarray(360)));
mkdirSync(join(tmp.dir, 'bad'));
writeFileSync(join(tmp.dir, 'bad', 'p-1.npy'), npy(60, 6));
writeFileSync(join(tmp.dir, 'bad', 'p-2.npy'), npy(60, 5));
mkdirSync(join(tmp.dir, 'empty'));
const three = new Float64Array(40 * 3 * 6).map((_, i) => Math.sin(i * 0.37) + (i % 6 === 0 ? 2 : 0));
writeFileSync(join(tmp.dir, 'layers.npy'), buildNpy({ descr: '<f8', shape: [40, 3, 6], values: three }));

let server: RangeServer;
test.before(async () => {
  server = await startRangeServer();
  const body = new Uint8Array(readFileSync(join(tmp.dir, 'ds', 'p-1.npy')));
  server.files.set('/p-1.npy', { body });
  server.files.set('/secret.npy', { body, mode: { kind: 'status', status: 403 } });
  const big = new Uint8Array(100_000);
  big.set(body);
  server.files.set('/norange.npy', { body: big, mode: { kind: 'no-range' } });
});
test.after(async () => {
  await server.close();
  tmp.cleanup();
});

function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: tmp.dir, env: { ...process.env, ISOTROPY_HTTP_RETRIES: '0', ISOTROPY_HTTP_TIMEOUT: '2' } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr });
    });
  });
}

async function fails(pattern: RegExp, ...args: string[]) {
  const r = await run(...args, '--no-report', '-q');
  assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0], /^isotropy: /);
  assert.match(lines[0], pattern);
  assert.is(r.stdout, '');
}

test('bad datasets and remote failures: one line, exit 2', async () => {
  await fails(/bad: shard .*p-2\.npy has shape \(60, 5\)/, 'analyze', 'bad');
  await fails(/empty: is an empty directory/, 'analyze', 'empty');
  await fails(/nothing-\*\.npy: matches no file/, 'analyze', 'nothing-*.npy');
  await fails(/missing\.npy: not found \(HTTP 404\)/, 'analyze', `${server.url}/missing.npy`);
  await fails(/secret\.npy: access denied \(HTTP 403\)/, 'analyze', `${server.url}/secret.npy`);
  await fails(/norange\.npy: the server does not honour HTTP Range requests/, 'analyze', `${server.url}/norange.npy`);
  await fails(/--layers "1-2": give all, or layer indices/, 'analyze', 'layers.npy', '--layers', '1-2');
  await fails(/--concat reads several files/, 'analyze', 'ds/p-1.npy', '--concat');
});

test('a directory, --concat, a URL and --layers all from the command line', async () => {
  const dir = await run('analyze', 'ds', '--json', '--no-report', '-q', '-t', 'none');
  assert.is(dir.code, 0, dir.stderr);
  const a = JSON.parse(dir.stdout);
  assert.is(a.inputs[0].rows, 120);
  assert.equal(a.inputs[0].files.map((f: { path: string }) => f.path), ['ds/p-1.npy', 'ds/p-2.npy']);
  const cat = await run('analyze', 'ds/p-1.npy', 'ds/p-2.npy', '--concat', '--json', '--no-report', '-q', '-t', 'none');
  assert.is(JSON.parse(cat.stdout).results[0].isoScore, a.results[0].isoScore);
  const url = await run('analyze', `${server.url}/p-1.npy`, '--no-report', '-q', '-t', 'none');
  assert.is(url.code, 0, url.stderr);
  assert.match(url.stdout, /60 rows x 6 dims.*, 3.01 KB of 3.01 KB fetched/);
  const layers = await run('analyze', 'layers.npy', '--layers', 'all', '--no-report', '-q');
  assert.is(layers.code, 0, layers.stderr);
  assert.match(layers.stdout, /shape \(40, 3, 6\), layers 0, 1, 2/);
  assert.match(layers.stdout, /layers layer 0 +layers layer 1 +layers layer 2/);
});

test.run();
