// Remote inputs: HTTP Range reads against a server on 127.0.0.1 (never a public host), including
// a misbehaving one; hf:// paths through HF_ENDPOINT with the token kept to the hub's host.
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyze, openEmbeddings, openHttpBytes, type Analysis } from '../../src/index.js';
import { startRangeServer, type RangeServer } from './range-server.js';
import { buildNpy } from './helpers.js';
import { anisotropic } from '../helpers/random.js';

const PARQUET = new URL('../../fixtures/remote/two_columns.parquet', import.meta.url);
const NPY = new URL('../../fixtures/formats/base3.npy', import.meta.url);
const parquetBytes = new Uint8Array(readFileSync(PARQUET));
const npyBytes = new Uint8Array(readFileSync(NPY));
const fast = { idleTimeoutMs: 300, retries: 2, retryDelayMs: 10 };

let server: RangeServer;
let cdn: RangeServer;
test.before(async () => {
  server = await startRangeServer();
  cdn = await startRangeServer();
});
test.after(async () => {
  await server.close();
  await cdn.close();
});

function serve(path: string, body: Uint8Array, mode?: Parameters<RangeServer['files']['set']>[1]['mode'], on = server) {
  on.files.set(path, { body, mode, etag: createHash('sha256').update(body).digest('hex').slice(0, 16) });
  on.bytes.delete(path);
  on.requests.delete(path);
  on.auth.delete(path);
  return `${on.url}${path}`;
}

/** The metrics of two analyses of the same rows agree to 1e-12 relative. */
function sameMetrics(a: Analysis, b: Analysis) {
  assert.is(a.results.length, b.results.length);
  a.results.forEach((r, k) => {
    const s = b.results[k];
    for (const key of ['meanNorm', 'isoScore', 'partitionIsotropy', 'avgCosine'] as const) {
      const x = r[key] as number, y = s[key] as number;
      assert.ok(Math.abs(x - y) <= 1e-12 * Math.max(1e-300, Math.abs(y)), `${r.transform} ${key}: ${x} vs ${y}`);
    }
    r.spectrum.eigenvalues.forEach((v, i) => assert.ok(Math.abs(v - s.spectrum.eigenvalues[i]) <= 1e-12 * s.spectrum.eigenvalues[0]));
  });
}

async function userError(p: Promise<unknown>, pattern: RegExp) {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { isUserError?: boolean };
    assert.ok(err.isUserError, `not a user error: ${err.stack}`);
    assert.ok(!err.message.includes('\n'), `more than one line: ${err.message}`);
    assert.match(err.message, pattern);
    return err.message;
  }
  assert.unreachable('no error');
}

test('a remote Parquet file reads like the local one, fetching only the chosen column', async () => {
  const url = serve('/data/two_columns.parquet', parquetBytes);
  const opts = { transforms: 'isobn', column: 'emb', diagnostics: false, remote: fast };
  const remote = await analyze([url], opts);
  const local = await analyze([PARQUET.pathname], opts);
  sameMetrics(remote, local);
  // the first 64 KiB (format detection), the footer, and the emb column (77 KB, kept for the
  // second pass): well under the file, whose other columns are 4 times as large
  const served = server.bytes.get('/data/two_columns.parquet')!;
  assert.ok(served < 0.4 * parquetBytes.length, `served ${served} of ${parquetBytes.length} bytes`);
  const onePass = await analyze([serve('/data/one.parquet', parquetBytes)], { ...opts, onePass: true });
  assert.ok(server.bytes.get('/data/one.parquet')! < 0.4 * parquetBytes.length, `one pass: served ${server.bytes.get('/data/one.parquet')}`);
  assert.is(onePass.inputs[0].files![0].fetched, server.bytes.get('/data/one.parquet'));
  const file = remote.inputs[0].files![0];
  assert.is(file.path, url);
  assert.is(file.rows, 1200);
  assert.is(file.size, parquetBytes.length);
  assert.is(file.fetched, served);
  assert.ok(file.etag, 'the ETag stands for the file when it was not read whole');
  assert.is(file.sha256, undefined);
  assert.is(remote.inputs[0].sha256, undefined);
});

test('a remote .npy reads like the local one; read whole, its sha256 is recorded', async () => {
  const url = serve('/base3.npy', npyBytes);
  const opts = { transforms: 'isobn,whiten', diagnostics: false, layer: 1, remote: fast };
  const remote = await analyze([url], opts);
  sameMetrics(remote, await analyze([NPY.pathname], opts));
  const sha = createHash('sha256').update(npyBytes).digest('hex');
  assert.is(remote.inputs[0].sha256, sha);
  assert.is(remote.inputs[0].files![0].sha256, sha);
  // both passes read every byte, but the second reads them from the disk cache: fetched once
  assert.is(remote.inputs[0].files![0].fetched, npyBytes.length);
  assert.is(server.bytes.get('/base3.npy'), npyBytes.length);
  assert.equal(readdirSync(tmpdir()).filter((f) => f.startsWith(`isotropy-http-${process.pid}-`)), [], 'the cache file is removed');
  // a file larger than the small answers kept in memory (1 MiB): fetched once, or twice without the disk cache
  const big = buildNpy({ descr: '<f8', shape: [12_000, 12], values: anisotropic(12_000, 12, 3) });
  const bigOpts = { transforms: 'isobn', diagnostics: false };
  const cached = await analyze([serve('/big.npy', big)], { ...bigOpts, remote: fast });
  const uncached = await analyze([serve('/nocache.npy', big)], { ...bigOpts, remote: { ...fast, diskCache: false } });
  sameMetrics(uncached, cached);
  assert.is(server.bytes.get('/big.npy'), big.length);
  assert.ok(server.bytes.get('/nocache.npy')! > 1.9 * big.length, 'without the cache, the second pass fetches again');
});

test('a remote HDF5 file is copied whole to a temp file (the HDF5 library needs one), read like the local one, and the copy removed', async () => {
  const H5 = new URL('../../fixtures/formats/h5py.h5', import.meta.url);
  const body = new Uint8Array(readFileSync(H5));
  const url = serve('/h5py.h5', body);
  const opts = { transforms: 'isobn', diagnostics: false, key: '/model/chunked', remote: fast };
  sameMetrics(await analyze([url], opts), await analyze([H5.pathname], opts));
  assert.is(server.bytes.get('/h5py.h5'), body.length, 'fetched once');
  assert.equal(readdirSync(tmpdir()).filter((f) => f.startsWith(`isotropy-hdf5-${process.pid}-`)), [], 'the copy is removed');
  await userError(analyze([url], { ...opts, key: 'nope' }), /has no dataset "\/nope"/);
  assert.equal(readdirSync(tmpdir()).filter((f) => f.startsWith(`isotropy-hdf5-${process.pid}-`)), [], 'removed after an error too');
});

test('5xx answers and dropped connections are retried with backoff', async () => {
  for (const mode of [{ kind: 'fail-first', count: 2 }, { kind: 'fail-first', count: 1, status: 429 }, { kind: 'reset-first', count: 2 }] as const) {
    const url = serve('/retry.npy', npyBytes, mode);
    const src = await openEmbeddings(url, { layer: 0, remote: fast });
    let rows = 0;
    for await (const b of src.blocks()) rows += b.rows;
    await src.close();
    assert.is(rows, 257, mode.kind);
  }
  // more failures than retries: one line naming the cause
  const url = serve('/down.npy', npyBytes, { kind: 'fail-first', count: 10 });
  await userError(openEmbeddings(url, { remote: fast }), /down\.npy: HTTP 503 .*3 times: the server or the network is failing/);
  assert.is(server.requests.get('/down.npy'), 3);
});

test('a stalled transfer times out and is retried; a server that stays stalled fails in one line', async () => {
  const url = serve('/stall.npy', npyBytes, { kind: 'stall-first', count: 1 });
  const src = await openEmbeddings(url, { layer: 0, remote: fast });
  assert.is(src.rows, 257);
  await src.close();
  const stuck = serve('/stuck.npy', npyBytes, { kind: 'stall-first', count: 100 });
  await userError(openEmbeddings(stuck, { remote: { ...fast, retries: 1 } }), /the transfer stalled \(no byte for 0\.3 s \(ISOTROPY_HTTP_TIMEOUT\)\)/);
});

test('404, 403 and 401 fail at once, in one line', async () => {
  await userError(openEmbeddings(`${server.url}/nothing.npy`, { remote: fast }), /nothing\.npy: not found \(HTTP 404\): check the URL/);
  assert.is(server.requests.get('/nothing.npy'), 1);
  const denied = serve('/secret.npy', npyBytes, { kind: 'status', status: 403 });
  await userError(openEmbeddings(denied, { remote: fast }), /access denied \(HTTP 403\)/);
  const auth = serve('/auth.npy', npyBytes, { kind: 'status', status: 401 });
  await userError(openEmbeddings(auth, { remote: fast }), /access denied \(HTTP 401\)/);
});

test('a server that ignores Range is refused (unless the whole file fits the first read)', async () => {
  const big = new Uint8Array(200_000);
  big.set(npyBytes);
  const url = serve('/norange.npy', big, { kind: 'no-range' });
  await userError(openHttpBytes(url, fast), /does not honour HTTP Range requests \(it answered 200 with the whole file, 200000 bytes\).*download the file/);
  // a small file sent whole is fine: it is all there is
  const small = serve('/small.npy', npyBytes, { kind: 'no-range' });
  const src = await openEmbeddings(small, { layer: 0, remote: fast });
  assert.is(src.rows, 257);
  await src.close();
});

test('lying Content-Range and Content-Length answers, and a file that changes, are refused', async () => {
  const body = new Uint8Array(300_000);
  body.set(npyBytes);
  const wrong = serve('/wrong.bin', body, { kind: 'wrong-range' });
  await userError(openHttpBytes(wrong, fast), /answered bytes 1-65536 to a request for 0-65535: its Range support is broken/);
  const long = serve('/long.bin', body, { kind: 'long-body' });
  await userError(openHttpBytes(long, fast), /sent more than the 65536 bytes asked for/);
  const grows = serve('/grows.bin', body, { kind: 'grows' });
  const src = await openHttpBytes(grows, fast);
  assert.is(src.size, 300_000);
  await userError(src.read(100_000, 10), /the file changed while it was read \(300000 bytes at first, 300010 now\)/);
  await userError(src.read(299_990, 20), /runs past the end of the file/);
  await src.close();
});

test('hf://datasets/ORG/NAME/PATH goes through HF_ENDPOINT at --revision; the token reaches the hub only', async () => {
  const path = '/datasets/org/emb/resolve/v1.0/data/two_columns.parquet';
  serve(path, parquetBytes, { kind: 'redirect', to: cdn.url });
  serve(path, parquetBytes, undefined, cdn);
  const saved = { endpoint: process.env.HF_ENDPOINT, token: process.env.HF_TOKEN };
  process.env.HF_ENDPOINT = server.url;
  process.env.HF_TOKEN = 'hf_secret';
  try {
    const src = await openEmbeddings('hf://datasets/org/emb/data/two_columns.parquet', { column: 'emb', revision: 'v1.0', remote: fast });
    assert.is(src.rows, 1200);
    assert.is(src.files![0].path, 'hf://datasets/org/emb/data/two_columns.parquet');
    await src.close();
    assert.ok(server.auth.get(path)!.every((a) => a === 'Bearer hf_secret'), 'the hub gets the token');
    assert.ok(cdn.auth.get(path)!.length > 0 && cdn.auth.get(path)!.every((a) => a === undefined), 'the CDN never does');
    // @revision in the name does the same; a missing file is a one-line 404 naming the revision option
    const again = await openEmbeddings('hf://datasets/org/emb@v1.0/data/two_columns.parquet', { column: 'emb', remote: fast });
    await again.close();
    await userError(openEmbeddings('hf://datasets/org/emb/data/missing.parquet', { remote: fast }), /hf:\/\/datasets\/org\/emb\/data\/missing\.parquet: not found \(HTTP 404\).*revision \(--revision\)/);
    await userError(openEmbeddings('hf://datasets/org', { remote: fast }), /is not a hub file: write hf:\/\/datasets\/ORG\/NAME\/PATH/);
  } finally {
    for (const [k, v] of [['HF_ENDPOINT', saved.endpoint], ['HF_TOKEN', saved.token]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test.run();
